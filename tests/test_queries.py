"""The SQL functions of app.queries and app.search, called without HTTP on both engines and
checked against the independent reading of the seeds (tests/oracle.py).

No cache of the API stands between these calls and the database: what they return is what the
SQL finds.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from typing import Any, get_args

import pytest
from sqlalchemy import Connection, event

from app import search
from app.api.routes.claims import Facet
from app.db import reader_engine
from app.filters import ClaimFilters
from app.ingest.dataset import load_dataset
from app.queries import (
    claim_documents,
    count_claims,
    dataset_info,
    facet_counts,
    figure_statements,
    list_claims,
    list_entities,
    list_sources,
    list_topics,
)
from tests.conftest import SEEDS
from tests.oracle import OClaim, Oracle

ORACLE = Oracle()
FACETS = get_args(Facet)  # the route's facet parameter is the list of facets
CLAIMS = {c.id: c for c in ORACLE.claims}
DATE_SORTS = ("id", "-id", "published", "-published", "period", "-period")


def claim_filters(**api: Any) -> ClaimFilters:
    """ClaimFilters for filters named like the API's query parameters (as the oracle takes
    them; ClaimFilters keys are those names): the one place this module builds filters."""
    return ClaimFilters(**api)


@pytest.fixture
def conn(seeded_db: str) -> Iterator[Connection]:
    """A connection of the API's own (read-only) engine to the seeded database."""
    engine = reader_engine(seeded_db, timeout_ms=10_000)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


_PARENT = next(c.part_of for c in ORACLE.claims if c.part_of)
CASES: list[dict[str, Any]] = [
    {},
    {"topic": ["arctic"]},  # a sum of the stored per-source counts
    {"topic": ["trade", "energy"]},
    {"source": ["usdos-2019-strengthening-our-alliance"], "topic": ["defense"]},
    {"country": ["unknown"]},
    {"country": ["US", "unknown"], "published_from": date(2020, 1, 1)},
    {"published_from": date(2019, 7, 15), "published_to": date(2019, 12, 31)},
    {
        "published_from": date(2019, 7, 15),
        "published_to": date(2019, 12, 31),
        "date_match": "overlap",
    },
    {"period_from": date(2015, 1, 1), "period_to": date(2020, 12, 31)},
    {"period_from": date(2015, 1, 1), "period_to": date(2020, 12, 31), "date_match": "overlap"},
    {"entity": ["norad", "nato"]},
    {"kind": ["commitment", "position"]},
    {"part_of": ["none"]},
    {"part_of": [_PARENT, "none"], "kind": ["fact"]},
    {"unit": ["USD"], "min_value": 1e9},
    {"max_value": 100.0},
    {
        "topic": ["trade"],
        "country": ["US"],
        "period_from": date(2010, 1, 1),
        "date_match": "overlap",
    },
]


def _case_id(case: dict[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in case.items()) or "none"


def _claims(ids: set[str]) -> list[OClaim]:
    return [CLAIMS[i] for i in sorted(ids)]


def _every_page(conn: Connection, filters: ClaimFilters, sort: str, limit: int) -> list[str]:
    """Ids of every claim list_claims finds, page after page by its cursor, in order."""
    seen: list[str] = []
    after = None
    for _ in range(len(CLAIMS) + 1):
        docs, after = list_claims(conn, filters, sort, limit, after)
        assert len(docs) <= limit
        seen += [json.loads(doc)["id"] for doc in docs]
        if after is None:
            return seen
    raise AssertionError(f"sort {sort}: the cursor never ran out")


def _oracle_order(ids: set[str], sort: str) -> list[str]:
    """The order a sort means: by the date (an interval for publication) then the id, exactly
    reversed when descending, except that unknown dates come last either way."""
    descending = sort.startswith("-")
    unknown = date.min if descending else date.max

    def key(c: OClaim) -> tuple[Any, ...]:
        if sort.endswith("published"):
            return (*(ORACLE.published[c.source] or (unknown, unknown)), c.id)
        if sort.endswith("period"):
            return (c.period_start or unknown, c.id)
        return (c.id,)

    return [c.id for c in sorted(_claims(ids), key=key, reverse=descending)]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_count_and_every_page_of_every_sort_match_the_oracle(
    conn: Connection, case: dict[str, Any]
) -> None:
    filters = claim_filters(**case)
    expected = ORACLE.ids(**case)
    assert count_claims(conn, filters) == len(expected)
    for sort in DATE_SORTS:
        assert _every_page(conn, filters, sort, limit=9) == _oracle_order(expected, sort), sort


def test_the_cases_cover_empty_small_and_whole_answers() -> None:
    sizes = [len(ORACLE.ids(**case)) for case in CASES]
    assert 0 in sizes and len(CLAIMS) in sizes
    assert sum(0 < n < 9 for n in sizes) >= 2 and sum(9 < n < len(CLAIMS) for n in sizes) >= 5


def test_dated_keeps_the_claims_that_state_a_period(conn: Connection) -> None:
    dated = {c.id for c in ORACLE.claims if c.period_start or c.period_end}
    assert 0 < len(dated) < len(CLAIMS)
    filters = claim_filters(dated=True)
    assert count_claims(conn, filters) == len(dated)
    assert _every_page(conn, filters, "period", limit=50) == _oracle_order(dated, "period")
    trade = claim_filters(dated=True, topic=["trade"])
    assert count_claims(conn, trade) == len(dated & ORACLE.ids(topic=["trade"]))


def _oracle_facets(ids: set[str]) -> dict[str, Counter[Any]]:
    counts: dict[str, Counter[Any]] = {facet: Counter() for facet in FACETS}
    for c in _claims(ids):
        counts["topic"].update(c.topics)
        counts["entity"].update(c.entities)
        counts["kind"][c.kind] += 1
        counts["source"][c.source] += 1
        counts["country"][ORACLE.sources[c.source]["country"] or "unknown"] += 1
        published = ORACLE.published[c.source]
        one_year = published is not None and published[0].year == published[1].year
        counts["year"][published[0].year if published and one_year else None] += 1
    return counts


@pytest.mark.parametrize("case", [{}, {"topic": ["arctic"]}, {"kind": ["commitment"]}])
def test_facet_counts_match_the_oracle_most_first(conn: Connection, case: dict[str, Any]) -> None:
    found = facet_counts(conn, claim_filters(**case), FACETS)
    expected = _oracle_facets(ORACLE.ids(**case))
    assert set(found) == set(FACETS)
    for facet in FACETS:
        rows = found[facet]
        assert {r["value"]: r["count"] for r in rows} == dict(expected[facet]), facet
        assert rows == sorted(rows, key=lambda r: (-r["count"], str(r["value"])))
    assert list(facet_counts(conn, claim_filters(), ["kind"])) == ["kind"]


def test_claim_documents_keep_the_order_asked_and_skip_unknown_ids(conn: Connection) -> None:
    first, last = min(CLAIMS), max(CLAIMS)
    docs = claim_documents(conn, [last, "no-such-claim", first])
    assert [json.loads(d)["id"] for d in docs] == [last, first]
    assert json.loads(docs[1])["quote"] == CLAIMS[first].quote
    assert claim_documents(conn, []) == []


def test_list_sources_counts_claims_and_keeps_evidence_in_curated_order(
    conn: Connection,
) -> None:
    rows = list_sources(conn)
    assert [r["id"] for r in rows] == sorted(ORACLE.sources)
    claims = Counter(c.source for c in ORACLE.claims)
    for row in rows:
        seed = ORACLE.sources[row["id"]]
        assert row["claims"] == claims[row["id"]]
        assert row["country"] == seed["country"]
        assert [(e["establishes"], e["value"]) for e in row["evidence"]] == [
            (e["establishes"], e.get("value")) for e in seed.get("evidence") or []
        ]
    assert sum(r["claims"] for r in rows) == len(CLAIMS)


def test_list_topics_counts_claims_and_lists_aliases(conn: Connection) -> None:
    rows = list_topics(conn)
    assert [r["id"] for r in rows] == sorted(ORACLE.topics)
    claims = Counter(t for c in ORACLE.claims for t in c.topics)
    for row in rows:
        seed = ORACLE.topics[row["id"]]
        assert (row["name"], row["claims"]) == (seed["name"], claims[row["id"]])
        assert row["aliases"] == sorted(seed.get("aliases") or [])
    assert any(r["aliases"] for r in rows)


def _written_names(entity: dict[str, Any]) -> list[str]:
    """An entity's names as curated, one per case-folded spelling, in case-folded order."""
    written: dict[str, str] = {}
    for name in (entity["name"], *entity.get("aliases", []), entity["id"]):
        written.setdefault(name.casefold(), name)
    return [written[key] for key in sorted(written)]


@pytest.mark.parametrize("kind", [None, "organization", "person", "agreement", "no-such-kind"])
def test_list_entities_of_a_kind(conn: Connection, kind: str | None) -> None:
    rows = list_entities(conn, kind)
    expected = sorted(e for e, seed in ORACLE.entities.items() if kind in (None, seed["kind"]))
    assert [r["id"] for r in rows] == expected
    assert bool(rows) is (kind != "no-such-kind")
    claims = Counter(e for c in ORACLE.claims for e in c.entities)
    for row in rows:
        seed = ORACLE.entities[row["id"]]
        assert (row["name"], row["kind"], row["claims"]) == (
            seed["name"],
            seed["kind"],
            claims[row["id"]],
        )
        assert row["aliases"] == _written_names(seed)


def test_figure_statements_are_every_quantity_that_names_a_figure(conn: Connection) -> None:
    rows = figure_statements(conn)
    expected = sorted((c.id, figure) for c in ORACLE.claims for figure in c.figures)
    assert sorted((r["claim_id"], r["figure_id"]) for r in rows) == expected
    assert [r["claim_id"] for r in rows] == sorted(r["claim_id"] for r in rows)
    for row in rows:
        claim = CLAIMS[row["claim_id"]]
        assert row["source_id"] == claim.source
        assert (row["period_start"], row["period_end"]) == (claim.period_start, claim.period_end)
        assert row["quote"] == claim.quote
    figure = rows[0]["figure_id"]
    assert figure_statements(conn, figure) == [r for r in rows if r["figure_id"] == figure]
    assert figure_statements(conn, "no-such-figure") == []


@cache
def _seeds_version() -> str:
    return load_dataset(SEEDS).version


def test_dataset_info_names_the_loaded_seeds(conn: Connection) -> None:
    info = dataset_info(conn)
    assert info is not None
    assert info["version"] == _seeds_version()
    assert info["claims"] == len(CLAIMS)
    assert isinstance(info["ingested_at"], datetime)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("NORAD", ["NORAD"]),
        ("  trade,  energy! ", ["trade", "energy"]),
        ("nearly $2.6 billion", ["nearly", "2.6", "billion"]),
        ("5,525 miles", ["5,525", "miles"]),
        ("NEAR(a b) OR c*", ["NEAR", "a", "b", "OR", "c"]),
        ("Canada’s défense", ["Canada", "s", "défense"]),
        ('"; DROP TABLE claim; --', ["DROP", "TABLE", "claim"]),
        (" ".join(f"w{i}" for i in range(40)), [f"w{i}" for i in range(search.MAX_WORDS)]),
    ],
)
def test_words(q: str, expected: list[str]) -> None:
    assert search.words(q) == expected


@pytest.mark.parametrize("q", ["", "   ", '"', "*", "()", "-- ;", "^:"])
def test_a_text_without_words_is_an_empty_search(q: str) -> None:
    with pytest.raises(search.EmptySearch):
        search.words(q)


HOSTILE = ['"', "AND", "NEAR(", "*", "a:b", "trade OR", "'; DROP TABLE claim; --", "x" * 200,
           "Canada’s", "défense", '"unbalanced', "(", "^", "-", "OR OR", 'a" OR "b', "c*",
           "{col}: x", "x NOT y", "-trade", "<->", "a & !b | c"]  # fmt: skip
_QUOTED_WORDS = re.compile(r'"[\w.,]+"(?: "[\w.,]+")*')


@pytest.mark.parametrize("q", HOSTILE)
def test_parameters_pass_quoted_words_and_never_an_operator(q: str) -> None:
    try:
        found = search.words(q)
    except search.EmptySearch:
        with pytest.raises(search.EmptySearch):
            search.parameters(q)
        return
    bound = search.parameters(q)
    for value in bound.values():
        assert _QUOTED_WORDS.fullmatch(value), value
        assert value.split(" ") == [f'"{w}"' for w in found]


def _count(conn: Connection, q: str, **api: Any) -> int:
    return count_claims(conn, claim_filters(q=q, **api))


def test_operators_in_the_text_search_for_words(conn: Connection) -> None:
    """Were the text passed on as a query language, these would widen or empty the answer."""
    norad, canada = _count(conn, "NORAD"), _count(conn, "Canada")
    assert 0 < norad < canada
    assert _count(conn, "NORA*") == 0  # no prefix search: "nora" is no word of the seeds
    assert _count(conn, "Canada OR NORAD") <= norad  # OR is a word to find, not an operator
    assert _count(conn, "NORAD -Canada") == _count(conn, "NORAD Canada") > 0  # no negation
    assert _count(conn, "NEAR(NORAD Canada)") <= _count(conn, "NORAD Canada")
    for q in HOSTILE:  # each runs (the database raises no syntax error) and finds its matches
        try:
            search.words(q)
        except search.EmptySearch:
            with pytest.raises(search.EmptySearch):
                _count(conn, q)
            continue
        assert _count(conn, q) == len(_matches(conn, q)), q


def _matches(conn: Connection, q: str, **api: Any) -> list[str]:
    """Ids of the claims a search finds (in id order), through list_claims."""
    return _every_page(conn, claim_filters(q=q, **api), "id", limit=200)


@pytest.mark.parametrize("q", ["NORAD", "United States", "trade agreement", "2.6 billion"])
def test_relevance_pages_every_match_once_in_one_order(conn: Connection, q: str) -> None:
    """Relevance cursors carry a rank: paging in small steps must give the order of one page
    (ties broken by id), every match once, as many as the count."""
    found = _matches(conn, q)
    assert found, q
    assert count_claims(conn, claim_filters(q=q)) == len(found)
    whole = _every_page(conn, claim_filters(q=q), "relevance", limit=len(CLAIMS))
    assert sorted(whole) == found
    for limit in (1, 4):
        assert _every_page(conn, claim_filters(q=q), "relevance", limit) == whole, limit
    arctic = ORACLE.ids(topic=["arctic"])
    with_topic = _every_page(conn, claim_filters(q=q, topic=["arctic"]), "relevance", limit=4)
    assert with_topic == [i for i in whole if i in arctic]
    assert _matches(conn, q, topic=["arctic"]) == sorted(set(found) & arctic)


def test_search_finds_a_word_in_the_statement_or_the_quote(conn: Connection) -> None:
    found = set(_matches(conn, "NORAD"))
    assert len(found) == count_claims(conn, claim_filters(q="NORAD"))
    assert {c.id for c in ORACLE.claims if "norad" in c.quote.casefold()} <= found
    for doc in claim_documents(conn, sorted(found)):
        claim = json.loads(doc)
        assert "norad" in (claim["statement"] + " " + claim["quote"]).casefold()
    assert set(_matches(conn, "NORAD Canada")) <= found


def test_source_filters_read_the_covering_index_not_the_document_text(conn: Connection) -> None:
    """A source filter and the per-source count read (id, country, dates) from ix_source_filters:
    in SQLite's row those columns lie past the document's text, which a table read walks."""
    if conn.dialect.name != "sqlite":
        pytest.skip("a query plan of SQLite's (Postgres keeps long text out of line)")
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(conn, "before_cursor_execute", record)
    try:
        count_claims(conn, claim_filters(topic=("trade",), published_from=date(2010, 1, 1)))
        count_claims(conn, claim_filters(country=("US",), published_to=date(2030, 1, 1)))
    finally:
        event.remove(conn, "before_cursor_execute", record)
    plans = [
        " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
        for sql, params in seen
        if "source" in sql
    ]
    assert plans and all("COVERING INDEX ix_source_filters" in plan for plan in plans), plans
