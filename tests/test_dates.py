"""Dates are intervals: every precision x filter bound x date_match, on SQLite and Postgres.

A fixture dataset (not the seeds) has one source per precision, all about July 2019, and claims
with periods of every shape; the expected answers below are written out by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.ingest.dataset import load_dataset
from app.ingest.errors import SeedsInvalid
from app.ingest.schema import FigureEntry
from tests.conftest import SEEDS, ingest, serving

TEXT = "Alpha one. Bravo two. Charlie three. Delta four. Echo five. Foxtrot six. Golf seven."
# precision -> published as curated (each source's claim id is its precision)
PUBLISHED = {
    "day": "2019-07-15",
    "month": "2019-07",
    "year": "2019",
    "range": "2019-07-01/2019-08-22",
    "unknown": None,
}
# claim id -> period (all claims of the `day` source)
PERIODS = {
    "p-day": "2018-03-05",
    "p-month": "2018-03",
    "p-year": "2018",
    "p-range": "2017/2019",
    "p-open-end": "1957/",
    "p-open-start": "/2019",
    "p-none": None,
}
ALL = set(PUBLISHED)

# (published_from, published_to) -> (sources matched with date_match=within, with overlap)
PUBLISHED_TABLE: list[tuple[str | None, str | None, set[str], set[str]]] = [
    (None, "2019-06-30", set(), {"year"}),
    ("2019-07-01", None, {"day", "month", "range"}, {"day", "month", "year", "range"}),
    ("2019-07-01", "2019-08-31", {"day", "month", "range"}, {"day", "month", "year", "range"}),
    ("2019-07-15", "2019-07-15", {"day"}, {"day", "month", "year", "range"}),
    ("2019-01-01", "2019-12-31", ALL - {"unknown"}, ALL - {"unknown"}),
    ("2019-08-01", None, set(), {"year", "range"}),
    (None, "2019-07-31", {"day", "month"}, {"day", "month", "year", "range"}),
    ("2019-08-23", "2019-12-31", set(), {"year"}),
    ("2020-01-01", None, set(), set()),
    (None, "2018-12-31", set(), set()),
    (None, None, ALL, ALL),
]

# (period_from, period_to) -> (claims matched with within, with overlap)
PERIOD_TABLE: list[tuple[str | None, str | None, set[str], set[str]]] = [
    ("2018-01-01", "2018-12-31", {"p-day", "p-month", "p-year"},
     {"p-day", "p-month", "p-year", "p-range", "p-open-end", "p-open-start"}),
    ("2018-03-05", "2018-03-05", {"p-day"},
     {"p-day", "p-month", "p-year", "p-range", "p-open-end", "p-open-start"}),
    ("2018-03-06", None, set(),
     {"p-month", "p-year", "p-range", "p-open-end", "p-open-start"}),
    (None, "2018-02-28", set(), {"p-year", "p-range", "p-open-end", "p-open-start"}),
    ("2020-01-01", None, set(), {"p-open-end"}),
    (None, "1950-01-01", set(), {"p-open-start"}),
    (None, "2019-12-31", {"p-day", "p-month", "p-year", "p-range", "p-open-start"},
     {"p-day", "p-month", "p-year", "p-range", "p-open-end", "p-open-start"}),
]  # fmt: skip


def _quoted(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def write_seeds(root: Path, published: dict[str, str | None] = PUBLISHED) -> Path:
    """A small seeds folder: one source per precision in `published`."""
    seeds = root / "seeds"
    (seeds / "documents").mkdir(parents=True)
    (seeds / "claims").mkdir()
    (seeds / "topics.yaml").write_text(
        "topics:\n  - {id: trade, name: Trade, description: Trade.}\n", encoding="utf-8"
    )
    entries = []
    for precision, value in published.items():
        (seeds / "documents" / f"{precision}.txt").write_text(TEXT, encoding="utf-8")
        reason = '"Bounded by the text."' if precision == "range" else "null"
        entries.append(
            f"  - id: src-{precision}\n    file: {precision}.txt\n    name: Source {precision}\n"
            f"    title: null\n    publisher: null\n    country: null\n    url: null\n"
            f"    published: {_quoted(value)}\n    published_precision: {precision}\n"
            f"    published_reason: {reason}\n    provenance_note: Made up for a test.\n"
            f"    sha256: {hashlib.sha256(TEXT.encode()).hexdigest()}\n    size: {len(TEXT)}\n"
        )
        claims = {precision: None} if precision != "day" else {precision: None, **PERIODS}
        lines = [f"source: src-{precision}\nclaims:\n"]
        for claim_id, period in claims.items():
            period_line = f"    period: {_quoted(period)}\n" if period else ""
            lines.append(
                f"  - id: {claim_id}\n    statement: Alpha one.\n    quote: Alpha one.\n"
                f"    kind: fact\n    topics: [trade]\n{period_line}"
            )
        (seeds / "claims" / f"src-{precision}.yaml").write_text("".join(lines), encoding="utf-8")
    (seeds / "sources.yaml").write_text("sources:\n" + "".join(entries), encoding="utf-8")
    return seeds


@pytest.fixture
def dated_client(empty_db: str, tmp_path: Path) -> Iterator[TestClient]:
    ingest(empty_db, write_seeds(tmp_path))
    with serving(empty_db) as client:
        yield client


def _ids(client: TestClient, params: dict[str, Any]) -> set[str]:
    response = client.get("/v1/claims", params={**params, "limit": 200})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"]), "the count agrees with the page"
    return {claim["id"] for claim in body["items"]}


def _params(prefix: str, low: str | None, high: str | None, match: str) -> dict[str, str]:
    params = {"date_match": match} if match != "within" else {}
    if low:
        params[f"{prefix}_from"] = low
    if high:
        params[f"{prefix}_to"] = high
    return params


def test_publication_filters_every_precision_bound_and_match(dated_client: TestClient) -> None:
    sources_only = {"source": [f"src-{p}" for p in PUBLISHED]}
    checked = 0
    for low, high, within, overlap in PUBLISHED_TABLE:
        for match, expected in (("within", within), ("overlap", overlap)):
            got = _ids(dated_client, {**sources_only, **_params("published", low, high, match)})
            got -= set(PERIODS)  # the day source's period claims: checked below
            assert got == expected, (low, high, match)
            checked += len(PUBLISHED)
    assert checked == len(PUBLISHED_TABLE) * 2 * len(PUBLISHED)


def test_period_filters_every_shape_bound_and_match(dated_client: TestClient) -> None:
    for low, high, within, overlap in PERIOD_TABLE:
        for match, expected in (("within", within), ("overlap", overlap)):
            got = _ids(dated_client, _params("period", low, high, match))
            assert got == expected, (low, high, match)


def test_the_date_is_shown_as_known_with_both_bounds(dated_client: TestClient) -> None:
    sources = {s["id"]: s for s in dated_client.get("/v1/sources").json()["items"]}
    shown = {
        p: (s["published"], s["published_earliest"], s["published_latest"])
        for p, s in ((s["published_precision"], s) for s in sources.values())
    }
    assert shown == {
        "day": ("2019-07-15", "2019-07-15", "2019-07-15"),
        "month": ("2019-07", "2019-07-01", "2019-07-31"),
        "year": ("2019", "2019-01-01", "2019-12-31"),
        "range": ("2019-07-01/2019-08-22", "2019-07-01", "2019-08-22"),
        "unknown": (None, None, None),
    }
    assert sources["src-range"]["published_reason"] == "Bounded by the text."
    citations = {
        c["id"]: c["citation"]
        for c in dated_client.get("/v1/claims", params={"limit": 200}).json()["items"]
    }
    assert ", between July 1 and August 22, 2019, " in citations["range"]
    assert ", July 2019, " in citations["month"]
    assert ", 2019, " in citations["year"]
    assert ", July 15, 2019, " in citations["day"]
    assert ", date unknown, " in citations["unknown"]


def _walk(client: TestClient, sort: str) -> list[str]:
    ids: list[str] = []
    url: str | None = f"/v1/claims?sort={sort}&limit=1&" + "&".join(
        f"source=src-{p}" for p in PUBLISHED if p != "day"
    )
    while url:
        body = client.get(url).json()
        ids += [c["id"] for c in body["items"]]
        url = body["next"]
    return ids


def test_sorting_orders_by_interval_and_unknown_sorts_last(dated_client: TestClient) -> None:
    # earliest day first, then latest day (narrower first); unknown last in both directions
    assert _walk(dated_client, "published") == ["year", "month", "range", "unknown"]
    assert _walk(dated_client, "-published") == ["range", "month", "year", "unknown"]


def test_year_facet_counts_a_source_only_when_its_interval_is_in_one_year(
    dated_client: TestClient,
) -> None:
    body = dated_client.get("/v1/claims", params={"facet": "year", "limit": 1}).json()
    assert {f["value"]: f["count"] for f in body["facets"]["year"]} == {
        2019: len(PUBLISHED) - 1 + len(PERIODS),
        None: 1,
    }


def test_seeds_2019_fact_sheet_is_published_in_its_range(client: TestClient) -> None:
    fact_sheet = "usdos-2019-strengthening-our-alliance"

    def sources(params: dict[str, str]) -> set[str]:
        body = client.get("/v1/claims", params={**params, "facet": "source", "limit": 1}).json()
        return {f["value"] for f in body["facets"]["source"]}

    assert fact_sheet not in sources({"published_to": "2019-06-30"})
    assert fact_sheet not in sources({"published_from": "2019-03-01", "published_to": "2019-06-30"})
    assert fact_sheet in sources({"published_from": "2019-07-01", "published_to": "2019-08-31"})
    assert fact_sheet in sources({"published_from": "2019-03-01"})
    assert fact_sheet in sources({"published_to": "2019-07-31", "date_match": "overlap"})
    source = client.get(f"/v1/sources/{fact_sheet}").json()
    assert source["published"] == "2019-07-01/2019-08-22"
    assert source["published_precision"] == "range"
    assert source["published_reason"]


def test_date_match_is_validated(client: TestClient) -> None:
    response = client.get("/v1/claims", params={"published_to": "2019-06-30", "date_match": "x"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "published, precision, message",
    [
        ("2019-08-22/2019-07-01", "range", "reversed"),
        ("2019-07-01/2019-07-01", "range", "one day"),
        ("2019-07-01/", "range", "both bounds"),
        ("/2019-07-01", "range", "both bounds"),
        ("2019-07-01/2019-08-22/2019-09-01", "range", "both bounds"),
        ("2019-07-01/2019-08-22", "year", "range precision, not 'year'"),
        ("2019", "day", "year precision, not 'day'"),
        ("2019-07-15", "range", "day precision, not 'range'"),
        ("2019-02-30/2019-03-01", "range", "day is out of range"),
        (None, "year", "must be 'unknown'"),
    ],
)
def test_check_refuses_contradictory_dates(
    tmp_path: Path, published: str | None, precision: str, message: str
) -> None:
    seeds = write_seeds(tmp_path, {"day": "2019-07-15"})
    path = seeds / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('published: "2019-07-15"', f"published: {_quoted(published)}")
    path.write_text(text.replace("precision: day", f"precision: {precision}"), encoding="utf-8")
    with pytest.raises(SeedsInvalid) as raised:
        load_dataset(seeds)
    (error,) = raised.value.errors
    assert message in error.message
    assert error.file == path and error.line in (2, 9)  # the entry, or its published line


def test_a_range_needs_a_reason(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path, {"range": "2019-07-01/2019-08-22"})
    path = seeds / "sources.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"Bounded by the text."', "null"),
        encoding="utf-8",
    )
    with pytest.raises(SeedsInvalid) as raised:
        load_dataset(seeds)
    assert ["needs published_reason" in e.message for e in raised.value.errors] == [True]


def test_day_precision_may_carry_a_reason(tmp_path: Path) -> None:
    seeds = write_seeds(tmp_path, {"day": "2019-07-15"})
    path = seeds / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("published_reason: null", 'published_reason: "Dateline."'),
        encoding="utf-8",
    )
    (source,) = load_dataset(seeds).sources
    assert source["published_reason"] == "Dateline."
    assert str(source["published_earliest"]) == str(source["published_latest"]) == "2019-07-15"


def test_the_real_seeds_still_load() -> None:
    assert load_dataset(SEEDS).sources


def test_a_window_needs_a_figure_that_changes() -> None:
    with pytest.raises(ValidationError, match="window applies only"):
        FigureEntry.model_validate(
            {"id": "x", "name": "X", "dimension": "count", "behaviour": "stable", "window": "year"}
        )
    entry = FigureEntry.model_validate({"id": "x", "name": "X", "dimension": "count"})
    assert (entry.behaviour, entry.window) == ("changes", None)
