"""The filter registry (app.filters) without HTTP, on SQLite and Postgres: every filter, alone and
combined, selects what an independent reading of the seeds (tests/oracle.py) selects; the SQL
depends only on the shape, so the process-wide statement cache never hands one shape's statement
to another; and entity_kind, the filter added as one registry entry, end to end over HTTP."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite

from app import queries
from app.filters import (
    BY_NAME,
    FILTERS,
    ClaimFilters,
    FilterError,
    Shape,
    conditions,
    counts_per_source_suffice,
    parameters,
    resolve,
    shape,
    source_conditions,
)
from app.models import CLAIM
from app.vocabulary import Vocabulary
from tests.oracle import SEEDS, Oracle, _yaml

ORACLE = Oracle()

# Raw query parameter values per filter (as a client would send them, after pydantic), several
# per shape: each list must select some claims and not all of them, on the seeds.
SAMPLES: dict[str, list[Any]] = {
    "q": ["NORAD", "trade border"],
    "topic": [["arctic"], ["trade", "defense"], ["Defence"]],
    "source": [
        ["usdos-2021-neighbors-friends-and-allies"],
        ["usdos-2019-strengthening-our-alliance", "gac-canada-united-states-relations"],
    ],
    "entity": [["NORAD"], ["usmca", "Paris Agreement"]],
    "entity_kind": [["agreement"], ["person", "place"], ["forum"], ["program", "event"]],
    "country": [["US"], ["ca"], ["unknown"], ["CA", "unknown"], ["US", "unknown"]],
    "published_from": [date(2021, 1, 1), date(2019, 8, 1)],
    "published_to": [date(2021, 12, 31), date(2019, 12, 31)],
    "period_from": [date(2018, 1, 1), date(2000, 6, 30)],
    "period_to": [date(2018, 12, 31), date(1990, 1, 1)],
    "date_match": ["overlap"],
    "unit": [["USD"], ["miles", "KM"]],
    "kind": [["fact"], ["commitment", "rhetoric"]],
    "part_of": [
        ["none"],
        ["gc-shared-environmental-challenges"],
        ["none", "s21-roadmap-guides-cooperation"],
    ],
    "min_value": [1_000_000_000.0, 100.0],
    "max_value": [3_000_000_000.0, 50.0],
    "dated": [True],
}
NO_ORACLE = {"q"}  # full text: stemming differs by engine; tests/test_api_features.py covers it
MANY = len(ORACLE.claims) + 1  # one page holds any filtered set of the seeds


def _folded(names: dict[str, str]) -> dict[str, str]:
    return {k.casefold(): v for k, v in names.items()}


# The oracle compares stored values: the samples' other spellings, folded here from the seeds.
_TOPICS = _yaml(SEEDS / "topics.yaml")["topics"]
SPELLINGS = {
    "topic": _folded({a: t["id"] for t in _TOPICS for a in [t["id"], *t.get("aliases", [])]}),
    "unit": _folded({u: u for c in ORACLE.claims for _, u in c.quantities}),
    "country": _folded({c: c for c in ("US", "CA", "unknown")}),
}


def oracle_ids(raw: dict[str, Any]) -> set[str]:
    """What the filters select, read from the seeds (dated: claims that state a period)."""
    dated = raw.get("dated", False)
    stored = {
        k: [SPELLINGS[k][v.casefold()] for v in values] if k in SPELLINGS else values
        for k, values in raw.items()
        if k != "dated"
    }
    ids = ORACLE.ids(**stored)
    if dated:
        ids = {i for i in ids if ORACLE.claim(i).period_start or ORACLE.claim(i).period_end}
    return ids


@pytest.fixture
def conn(seeded_db: str) -> Iterator[Connection]:
    engine = create_engine(seeded_db)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def vocabulary(conn: Connection) -> Vocabulary:
    return Vocabulary.read(conn)


def filters_of(raw: dict[str, Any], vocabulary: Vocabulary) -> ClaimFilters:
    filters = resolve({k: v for k, v in raw.items() if k != "dated"}, vocabulary)
    return filters.with_dated() if raw.get("dated") else filters


def selected(conn: Connection, filters: ClaimFilters, sort: str = "id") -> tuple[int, list[str]]:
    """The total and every id, as the API reads them (count, then the listing)."""
    total = queries.count_claims(conn, filters)
    documents, _ = queries.list_claims(conn, filters, sort, MANY, None)
    return total, [json.loads(d)["id"] for d in documents]


def assert_matches_oracle(conn: Connection, vocabulary: Vocabulary, raw: dict[str, Any]) -> int:
    expected = oracle_ids(raw)
    filters = filters_of(raw, vocabulary)
    for sort in ("id", "-published", "period"):
        total, ids = selected(conn, filters, sort)
        assert (total, set(ids)) == (len(expected), expected), (raw, sort)
        assert len(ids) == len(set(ids)), (raw, sort)
    return len(expected)


def test_the_samples_cover_every_filter() -> None:
    """A filter added to the registry without samples fails here, not silently elsewhere."""
    assert set(SAMPLES) == set(BY_NAME)


@pytest.mark.parametrize(
    ("name", "value"),
    [(n, v) for n, values in SAMPLES.items() if n not in NO_ORACLE for v in values],
)
def test_each_filter_alone_selects_what_the_seeds_say(
    conn: Connection, vocabulary: Vocabulary, name: str, value: Any
) -> None:
    found = assert_matches_oracle(conn, vocabulary, {name: value})
    if name != "date_match":  # alone, date_match selects everything
        assert 0 < found < len(ORACLE.claims), (name, value)


def test_random_combinations_match_the_seeds_through_one_statement_cache(
    conn: Connection, vocabulary: Vocabulary
) -> None:
    """Many shapes and values in one process: a statement cached for one shape and reused for
    another (country=US after country=unknown, part_of=none after an id…) would show here."""
    rng = random.Random(16)
    names = [n for n in SAMPLES if n not in NO_ORACLE]
    shapes, nonempty = set(), 0
    for _ in range(120):
        raw = {n: rng.choice(SAMPLES[n]) for n in rng.sample(names, rng.randint(1, 4))}
        expected = oracle_ids(raw)
        filters = filters_of(raw, vocabulary)
        shapes.add(shape(filters))
        sort = rng.choice(["id", "-id", "published", "-published", "period", "-period"])
        total, ids = selected(conn, filters, sort)
        assert (total, set(ids)) == (len(expected), expected), (raw, sort)
        nonempty += bool(expected)
    assert len(shapes) > 60 and nonempty > 30


def test_values_that_change_the_sql_are_in_the_shape(
    conn: Connection, vocabulary: Vocabulary
) -> None:
    """The facts that change the SQL text, alternated so each reuses a cached statement."""
    for _ in range(2):
        for raw in [
            {"country": ["US"]},
            {"country": ["unknown"]},
            {"country": ["US", "unknown"]},
            {"part_of": ["none"]},
            {"part_of": ["gc-shared-environmental-challenges"]},
            {"part_of": ["none", "gc-shared-environmental-challenges"]},
            {"period_from": date(2018, 1, 1)},
            {"period_from": date(2018, 1, 1), "date_match": "overlap"},
            {"published_to": date(2019, 7, 31)},
            {"published_to": date(2019, 7, 31), "date_match": "overlap"},
            {"topic": ["trade"], "country": ["unknown"]},  # per-source counts
            {"topic": ["trade"], "country": ["CA", "unknown"]},
        ]:
            assert_matches_oracle(conn, vocabulary, raw)


def sql(filters: ClaimFilters, dialect: Any) -> str:
    statement = select(CLAIM.c.id).where(*conditions(filters))
    return str(statement.compile(dialect=dialect))


DIALECTS = [sqlite.dialect(), postgresql.dialect()]


def test_every_filter_sql_depends_only_on_its_shape(vocabulary: Vocabulary) -> None:
    """Samples of one shape give one SQL text, whose binds are the filter's own parameters (and
    constants the same for every value); samples of different shapes give different texts."""
    for spec in FILTERS:
        by_shape: dict[Shape, set[str]] = {}
        for value in SAMPLES[spec.name]:
            filters = filters_of({spec.name: value}, vocabulary)
            assert shape(filters) == Shape(frozenset({spec.name}), shape(filters).facts)
            bound = parameters(filters)
            assert all(k.startswith(spec.name) or spec.name == "q" for k in bound), bound
            for dialect in DIALECTS:
                compiled = select(CLAIM.c.id).where(*conditions(filters)).compile(dialect=dialect)
                constants = {k: v for k, v in compiled.params.items() if k not in bound}
                text = f"{dialect.name}:{compiled} {constants}"
                by_shape.setdefault(shape(filters), set()).add(text)
                named = {k for k, b in compiled.binds.items() if not b.unique}
                assert named <= set(bound), (spec.name, named)
        for texts in by_shape.values():
            assert len(texts) == len(DIALECTS), (spec.name, texts)  # one text per dialect
        every = [t for texts in by_shape.values() for t in texts]
        assert len(set(every)) == len(every), spec.name  # shapes differ, so do their texts


def test_conditions_of_a_shape_are_the_same_text_for_any_values(vocabulary: Vocabulary) -> None:
    one = filters_of({"topic": ["arctic"], "country": ["US"], "min_value": 1.0}, vocabulary)
    other = filters_of(
        {"topic": ["trade", "economy"], "country": ["CA"], "min_value": 9.0}, vocabulary
    )
    assert shape(one) == shape(other) and parameters(one) != parameters(other)
    for dialect in DIALECTS:
        assert sql(one, dialect) == sql(other, dialect)
    with_unknown = filters_of(
        {"topic": ["arctic"], "country": ["unknown"], "min_value": 1.0}, vocabulary
    )
    assert shape(with_unknown) != shape(one)
    assert sql(with_unknown, DIALECTS[0]) != sql(one, DIALECTS[0])


def test_source_conditions_are_the_source_level_filters(vocabulary: Vocabulary) -> None:
    filters = filters_of(
        {"source": ["usdos-2021-neighbors-friends-and-allies"], "kind": ["fact"], "unit": ["USD"]},
        vocabulary,
    )
    assert len(source_conditions(filters)) == 1
    assert len(conditions(filters)) == 3  # source subquery, kind, quantity subquery
    assert source_conditions(ClaimFilters(kind=("fact",))) == []


def test_counts_per_source_suffice_for_source_filters_and_one_topic() -> None:
    sources = ClaimFilters(
        source=("a",), country=("US", "unknown"), published_from=date(2020, 1, 1),
        published_to=date(2021, 1, 1), date_match="overlap", topic=("trade",),
    )  # fmt: skip
    assert counts_per_source_suffice(sources)
    assert counts_per_source_suffice(ClaimFilters())
    for claim_level in [
        ClaimFilters(topic=("trade", "arctic")),
        ClaimFilters(entity_kind=("agreement",)),
        ClaimFilters(period_from=date(2020, 1, 1)),
        ClaimFilters(unit=("USD",)),
        ClaimFilters(q="trade"),
        ClaimFilters(source=("a",)).with_dated(),
    ]:
        assert not counts_per_source_suffice(claim_level), claim_level


def test_claim_filters_is_an_immutable_value() -> None:
    assert ClaimFilters() == ClaimFilters(date_match="within", topic=[], q=None)
    assert hash(ClaimFilters(topic=["a"])) == hash(ClaimFilters(topic=("a",)))
    assert ClaimFilters(topic=("a",)) != ClaimFilters(topic=("b",))
    dated = ClaimFilters(q="trade", kind=("fact",)).with_dated()
    assert (
        dated.dated
        and dated.q == "trade"
        and dated == ClaimFilters(q="trade", kind=("fact",), dated=True)
    )
    assert not ClaimFilters().dated and ClaimFilters().q is None
    with pytest.raises(AttributeError):
        dated.q = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="no such claim filter: topics"):
        ClaimFilters(topics=("a",))
    filters = ClaimFilters(topic=("a",))
    assert shape(filters) is shape(filters)  # computed once per value
    parameters(filters)["topic"] = ["b"]  # a caller's copy
    assert parameters(filters) == {"topic": ["a"]}


def test_values_resolve_to_their_canonical_form(vocabulary: Vocabulary) -> None:
    filters = resolve(
        {
            "topic": ["Defence", "ARCTIC", "defense"],
            "country": ["us", "Unknown"],
            "unit": ["usd"],
            "entity": ["norad", "USMCA"],
            "entity_kind": ["place", "place"],
            "date_match": "within",
        },
        vocabulary,
    )
    assert filters == ClaimFilters(
        topic=("defense", "arctic"),
        country=("US", "unknown"),
        unit=("USD",),
        entity=tuple(sorted([ORACLE.aliases["norad"], ORACLE.aliases["usmca"]])),
        entity_kind=("place",),
    )


@pytest.mark.parametrize(
    ("raw", "param", "problem", "message"),
    [
        ({"topic": ["nope"]}, "topic", "unknown-topic", "unknown topic 'nope'; known: arctic, "),
        ({"source": ["nope"]}, "source", "unknown-source", "unknown source 'nope'; known: "),
        ({"unit": ["parsecs"]}, "unit", "unknown-unit", "unknown unit 'parsecs'; known: CAD, "),
        ({"country": ["mx"]}, "country", "invalid-parameter", "unknown country 'mx'; known: CA, "),
        ({"entity": ["Nobody"]}, "entity", "unknown-entity", "no entity is known as 'Nobody'; see"),
        ({"q": "  ...  "}, "q", "invalid-parameter", "q has no word to search for"),
        ({"topic": ["arctic"], "source": ["nope"]}, "source", "unknown-source", "unknown source"),
    ],
)  # fmt: skip
def test_unknown_values_are_filter_errors(
    vocabulary: Vocabulary, raw: dict[str, Any], param: str, problem: str, message: str
) -> None:
    with pytest.raises(FilterError) as caught:
        resolve(raw, vocabulary)
    error = caught.value
    assert (error.param, error.problem) == (param, problem)
    assert error.message.startswith(message), error.message
    given = raw[param] if isinstance(raw[param], list) else [raw[param]]
    assert error.value in given


# --- entity_kind over HTTP -------------------------------------------------------------------


def all_ids(client: TestClient, url: str) -> tuple[int, list[str]]:
    """The total and every claim id of a listing, following `next`."""
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    total, ids = answer.json()["total"], []
    while True:
        body = answer.json()
        ids += [c["id"] for c in body["items"]]
        if not body["next"]:
            return total, ids
        answer = client.get(body["next"])


@pytest.mark.parametrize(
    "query",
    ["entity_kind=agreement", "entity_kind=person,place", "entity_kind=forum&entity_kind=event"],
)
def test_entity_kind_lists_the_claims_that_mention_such_an_entity(
    client: TestClient, query: str
) -> None:
    kinds = [k for part in query.split("&") for k in part.split("=")[1].split(",")]
    expected = ORACLE.ids(entity_kind=kinds)
    assert 0 < len(expected) < len(ORACLE.claims)
    total, ids = all_ids(client, f"/v1/claims?{query}&limit=50")
    assert (total, sorted(ids)) == (len(expected), sorted(expected))
    for claim in client.get(f"/v1/claims?{query}&limit=5").json()["items"]:
        assert {e["kind"] for e in claim["entities"]} & set(kinds)
    dated = {i for i in expected if ORACLE.claim(i).period_start or ORACLE.claim(i).period_end}
    total, ids = all_ids(client, f"/v1/timeline?{query}&limit=50")
    assert (total, sorted(ids)) == (len(dated), sorted(dated))


def test_entity_kind_combines_with_other_filters(client: TestClient) -> None:
    expected = ORACLE.ids(entity_kind=["place"], country=["CA"], kind=["fact"])
    assert expected
    total, ids = all_ids(client, "/v1/claims?entity_kind=place&country=ca&kind=fact")
    assert (total, set(ids)) == (len(expected), expected)


def test_an_unknown_entity_kind_is_a_422_listing_the_kinds(client: TestClient) -> None:
    answer = client.get("/v1/claims?entity_kind=agreement,planet")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/invalid-parameter"
    (error,) = problem["errors"]
    assert error["loc"] == ["query", "entity_kind", 1] and error["input"] == "planet"
    for kind in ("organization", "agreement", "person", "place", "country", "other"):
        assert f"'{kind}'" in error["msg"]
    assert client.get("/v1/timeline.csv?entity_kind=planet").status_code == 422


def test_the_csv_twin_accepts_entity_kind(client: TestClient) -> None:
    expected = ORACLE.ids(entity_kind=["agreement"])
    answer = client.get("/v1/claims.csv?entity_kind=agreement")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["id"] for r in rows} == expected and len(rows) == len(expected)
