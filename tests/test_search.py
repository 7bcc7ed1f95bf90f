"""Full-text search at a bounded cost, on both engines: relevance order, cursors through every
page, other filters with q, totals (exact up to a threshold, marked as estimates above it).

The expected relevance order is computed here by ranking every match directly in SQL (what the
API did before its work was bounded); lowering app.search's bounds makes the small seed corpus
cross them, so the paths a 1M-claim corpus takes are tested here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from app import search
from app.migrate import alembic_config, upgrade
from tests.conftest import ingest
from tests.oracle import Oracle

ORACLE = Oracle()
SEARCHES = ["Canada", "United States", "trade", "border security", "1.9", "NORAD", "ports"]


@pytest.fixture
def engine(seeded_db: str) -> Iterator[Engine]:
    engine = create_engine(seeded_db)
    yield engine
    engine.dispose()


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds the seed corpus crosses; the sample is the whole index, so estimates are known."""
    monkeypatch.setattr(search, "EXACT_TOTAL_UP_TO", 5)
    monkeypatch.setattr(search, "RANKED_CANDIDATES", 4)
    monkeypatch.setattr(search, "WINDOW_QUOTA", 10**9)  # SQLite: count every window whole
    monkeypatch.setattr(search, "SAMPLE_ROWS", 10**9)  # Postgres: sample 100 % of the pages


def exact_ranking(engine: Engine, q: str) -> list[str]:
    """Every match of q, by rank then id: all of them ranked, independently of the API's SQL."""
    quoted = search.parameters(q)["fts_query"]
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = (
                "SELECT id FROM claim_fts WHERE claim_fts MATCH :q "
                "ORDER BY bm25(claim_fts, 0.0, 2.0, 1.0), id"
            )
        else:
            sql = (
                "SELECT claim_id FROM claim_search, websearch_to_tsquery('english', :q) query "
                "WHERE document @@ query "
                "ORDER BY -CAST(ts_rank_cd(document, query) AS float8), claim_id"
            )
        return list(conn.execute(text(sql), {"q": quoted}).scalars())


def index_order(engine: Engine, ids: set[str]) -> list[str]:
    """These claims in index order: rowid on SQLite, id on Postgres."""
    with engine.connect() as conn:
        key = "rowid" if conn.dialect.name == "sqlite" else "id"
        rows = conn.execute(text(f"SELECT id FROM claim ORDER BY {key}")).scalars()
        return [claim_id for claim_id in rows if claim_id in ids]


def expected_order(engine: Engine, q: str, among: set[str] | None = None) -> list[str]:
    """The documented order: the first RANKED_CANDIDATES matches in index order, by rank then
    id, then the other matches in index order (among: only these claims, the other filters)."""
    ranking = [i for i in exact_ranking(engine, q) if among is None or i in among]
    in_index_order = index_order(engine, set(ranking))
    ranked = set(in_index_order[: search.RANKED_CANDIDATES])
    return [i for i in ranking if i in ranked] + in_index_order[search.RANKED_CANDIDATES :]


def walk(client: TestClient, params: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of a query: the ids in order, and each page's body (no duplicate allowed)."""
    ids: list[str] = []
    bodies: list[dict[str, Any]] = []
    response = client.get("/v1/claims", params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        ids += [c["id"] for c in body["items"]]
        if not body["next"]:
            break
        response = client.get(body["next"])
    assert len(ids) == len(set(ids)), "a claim appeared on two pages"
    return ids, bodies


@pytest.mark.parametrize("q", SEARCHES)
def test_relevance_is_the_exact_ranking_below_the_bounds(
    client: TestClient, engine: Engine, q: str
) -> None:
    expected = exact_ranking(engine, q)
    assert len(expected) <= search.RANKED_CANDIDATES  # the seed corpus is below the bounds
    for limit in (1, 3, 200):
        ids, bodies = walk(client, {"q": q, "limit": limit})
        assert ids == expected
        assert all(b["total"] == len(expected) for b in bodies)
        assert all("total_is_estimate" not in b for b in bodies)


@pytest.mark.parametrize("q", ["Canada", "trade", "United States"])
@pytest.mark.parametrize("limit", [1, 3, 4, 5, 50])
def test_cursors_page_past_the_ranked_candidates(
    client: TestClient, engine: Engine, small_bounds: None, q: str, limit: int
) -> None:
    """Ranked block, then the rest unranked: every match exactly once, in the documented
    order, whichever page the boundary falls on."""
    expected = expected_order(engine, q)
    assert len(expected) > search.RANKED_CANDIDATES
    ids, bodies = walk(client, {"q": q, "limit": limit})
    assert ids == expected
    assert all(len(b["items"]) == limit for b in bodies[:-1])
    assert set(ids) == set(exact_ranking(engine, q))


FILTERS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"topic": "arctic"}, {"topic": ["arctic"]}),
    ({"country": "US"}, {"country": ["US"]}),
    ({"published_from": "2021-01-01"}, {"published_from": date(2021, 1, 1)}),
    ({"period_from": "2019-01-01", "date_match": "overlap"},
     {"period_from": date(2019, 1, 1), "date_match": "overlap"}),
    ({"entity": "NORAD"}, {"entity": ["NORAD"]}),
    ({"kind": "fact"}, {"kind": ["fact"]}),
    ({"topic": "trade", "country": "CA"}, {"topic": ["trade"], "country": ["CA"]}),
    ({"unit": "USD"}, {"unit": ["USD"]}),
]  # fmt: skip


@pytest.mark.parametrize("bounds", ["default", "small"])
@pytest.mark.parametrize(("params", "oracle"), FILTERS)
def test_search_with_other_filters(
    client: TestClient,
    engine: Engine,
    request: pytest.FixtureRequest,
    bounds: str,
    params: dict[str, Any],
    oracle: dict[str, Any],
) -> None:
    """The candidates are taken among the filtered claims: pages stay full and complete."""
    if bounds == "small":
        request.getfixturevalue("small_bounds")
    wanted = ORACLE.ids(**oracle)
    for q in ("Canada", "trade"):
        expected = expected_order(engine, q, among=wanted)
        ids, bodies = walk(client, {"q": q, "limit": 3, **params})
        assert ids == expected, (q, params)
        assert all(len(b["items"]) == 3 for b in bodies[:-1])  # no short page before the last
        for sort in ("id", "-published", "period"):
            by_sort, _ = walk(client, {"q": q, "limit": 4, "sort": sort, **params})
            assert set(by_sort) == set(expected), sort


def test_totals_are_exact_up_to_the_threshold_then_marked(
    client: TestClient, engine: Engine, small_bounds: None
) -> None:
    few = [q for q in SEARCHES if 0 < len(exact_ranking(engine, q)) <= search.EXACT_TOTAL_UP_TO]
    many = [q for q in SEARCHES if len(exact_ranking(engine, q)) > search.EXACT_TOTAL_UP_TO]
    assert few and many
    for q in few:
        body = client.get("/v1/claims", params={"q": q}).json()
        assert body["total"] == len(exact_ranking(engine, q))
        assert "total_is_estimate" not in body
    for q in many:
        count = len(exact_ranking(engine, q))
        for params in ({"q": q}, {"q": q, "sort": "id", "limit": 2}):
            body = client.get("/v1/claims", params=params).json()
            assert body["total_is_estimate"] is True
            # the sample is the whole index here: the estimate is the count, rounded
            assert body["total"] == max(int(float(f"{count:.2g}")), search.EXACT_TOTAL_UP_TO + 1)
    filtered = client.get("/v1/claims", params={"q": "Canada", "topic": "arctic"}).json()
    arctic = ORACLE.ids(topic=["arctic"]) & set(exact_ranking(engine, "Canada"))
    assert len(arctic) > search.EXACT_TOTAL_UP_TO
    assert filtered["total_is_estimate"] is True
    assert filtered["total"] == max(int(float(f"{len(arctic):.2g}")), 6)
    # without q a total is always exact, and says nothing more
    assert "total_is_estimate" not in client.get("/v1/claims", params={"limit": 1}).json()


def test_windowed_estimate_counts_small_windows_and_scales_full_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "ESTIMATE_WINDOWS", 4)
    monkeypatch.setattr(search, "WINDOW_QUOTA", 10)
    bounds = search.windows(1, 400)
    assert bounds == [1, 101, 201, 301, 401]
    # window 0: 10 matches in its first 20 rowids (dense: 50); window 1: 3 in all; 2: none;
    # window 3: quota reached at its last rowid (10)
    counted = [(0, 10, 20), (1, 3, 180), (2, 0, None), (3, 10, 400)]
    assert search.windowed_estimate(bounds, counted) == 50 + 3 + 0 + 10


def test_estimated_total_rounds_and_stays_above_the_threshold() -> None:
    assert search.EstimatedTotal.of(123_456.7) == 120_000
    assert search.EstimatedTotal.of(0) == search.EXACT_TOTAL_UP_TO + 1
    assert search.EstimatedTotal.of(search.EXACT_TOTAL_UP_TO) == search.EXACT_TOTAL_UP_TO + 1
    assert isinstance(search.EstimatedTotal.of(5e6), int)


@pytest.mark.parametrize("bounds", ["default", "small"])
def test_facets_with_q_count_every_match(
    client: TestClient, engine: Engine, request: pytest.FixtureRequest, bounds: str
) -> None:
    if bounds == "small":
        request.getfixturevalue("small_bounds")
    matches = set(exact_ranking(engine, "Canada"))
    body = client.get("/v1/claims", params={"q": "Canada", "facet": "kind,topic"}).json()
    kinds = {f["value"]: f["count"] for f in body["facets"]["kind"]}
    assert sum(kinds.values()) == len(matches)
    assert kinds["fact"] == len(matches & ORACLE.ids(kind=["fact"]))
    arctic = next(f["count"] for f in body["facets"]["topic"] if f["value"] == "arctic")
    assert arctic == len(matches & ORACLE.ids(topic=["arctic"]))


def test_highlights_and_decimals_survive_the_bounds(client: TestClient, small_bounds: None) -> None:
    _, bodies = walk(client, {"q": "Canada", "limit": 3})
    for body in bodies:
        for claim in body["items"]:
            marked = claim["highlights"]["statement"] + claim["highlights"]["quote"]
            assert "<mark>" in marked
    decimal = client.get("/v1/claims", params={"q": "1.9"}).json()
    assert decimal["items"] and all("1.9" in c["quote"] + c["statement"] for c in decimal["items"])


@pytest.mark.parametrize(
    "q",
    ['"', "AND", "NEAR(", "*", "a:b", "trade OR", "'; DROP TABLE claim; --", "Canada NOT",
     "rank", "bm25(claim_fts)", "x" * 200, "(", "^", "-", "OR OR", "Canada*", "claim_fts"],
)  # fmt: skip
def test_hostile_text_is_still_words_past_the_bounds(
    client: TestClient, small_bounds: None, q: str
) -> None:
    response = client.get("/v1/claims", params={"q": q, "limit": 2})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200 and response.json()["next"]:
        assert client.get(response.json()["next"]).status_code == 200


def test_sqlite_index_rows_carry_their_claims_rowid(engine: Engine) -> None:
    """The bounded search joins claims by rowid: every index row must have its claim's."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            pytest.skip("Postgres keys its index by claim id")
        joined = conn.execute(
            text("SELECT count(*) FROM claim JOIN claim_fts f ON f.rowid = claim.rowid")
        ).scalar_one()
        mismatched = conn.execute(
            text(
                "SELECT count(*) FROM claim JOIN claim_fts f ON f.rowid = claim.rowid "
                "WHERE f.id != claim.id"
            )
        ).scalar_one()
        claims = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
    assert joined == claims == len(ORACLE.claims)
    assert mismatched == 0


def test_migration_0012_gives_index_rows_their_claims_rowid(empty_db: str, backend: str) -> None:
    """An index filled before 0012 (any rowids) is refilled with the claims' rowids."""
    if backend != "sqlite":
        pytest.skip("Postgres keys its index by claim id: 0012 changes nothing there")
    ingest(empty_db)
    engine = create_engine(empty_db)
    shifted = (
        "INSERT INTO claim_fts (rowid, id, statement, quote) "
        "SELECT rowid + 1000, id, statement, quote FROM claim"
    )
    mismatched = (
        "SELECT count(*) FROM claim LEFT JOIN claim_fts f ON f.rowid = claim.rowid "
        "WHERE f.id IS NULL OR f.id != claim.id"
    )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM claim_fts"))
        conn.execute(text(shifted))
        assert conn.execute(text(mismatched)).scalar_one() == len(ORACLE.claims)
    command.downgrade(alembic_config(empty_db), "0007")
    upgrade(empty_db)
    with engine.connect() as conn:
        assert conn.execute(text(mismatched)).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM claim_fts")).scalar_one() == len(
            ORACLE.claims
        )
    engine.dispose()
