"""The figure verdict logic on made-up statements, then on the real seeds through the API."""

from __future__ import annotations

import hashlib
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.figures import Figure, canonical, currency_uncertain, interval, judge, say, series
from tests.conftest import ROOT, SEEDS, ingest, serving

STABLE, CHANGES = Figure("stable"), Figure("changes")
DOCS_SVG = ROOT / "docs" / "daily-trade.svg"

# Every figure of the seeds: its verdict and what its reason must say (in plain numbers).
EXPECTED: dict[str, tuple[str, list[str]]] = {
    "border-length": ("consistent", [
        "Every statement agrees: 5,525 miles (8,892 km) (usdos-2019-strengthening-our-alliance)",
        "nearly 9,000 km (gac-canada-united-states-relations)",
        "more than 5,500 miles (8,851 km) (gac-canada-united-states-relations)",
    ]),
    "land-ports-of-entry": ("changed_over_time", [
        "The value changed over time: 119 ports as of 2019-07-01/2019-08-22 (its publication "
        "date) (usdos-2019-strengthening-our-alliance), then 120 ports as of 2021-02-26",
        "then more than 120 ports as of 2022-08-20 (its publication date)",
    ]),
    "daily-trade": ("changed_over_time", [
        "The value changed over time: 2 billion USD a day as of 2019-07-01/2019-08-22",
        "then 1.9 billion USD a day as of 2021-02-26 (its publication date)",
        "then more than 2 billion USD a day as of 2022-10-27 (its publication date)",
        "nearly $2.6 billion (currency uncertain) a day as of 2022-08-20 (its publication date): "
        "the values differ, but a bare “$” may not be USD",
    ]),
    "annual-two-way-trade": ("changed_over_time", [
        "more than 725 billion USD a year as of 2018 (the period it states)",
        "then 725 billion USD a year as of 2019 (the period it states)",
    ]),
    "daily-border-crossings": ("single_source", [
        "Only usdos-2019-strengthening-our-alliance states it: 400,000 people a day as of "
        "2019-07-01/2019-08-22 (its publication date).",
    ]),
    "canadian-students-in-us": ("consistent", [
        "more than 25,000 students (usdos-2019-strengthening-our-alliance); more than 25,000 "
        "students (article-us-canada-relationship-undated)",
    ]),
    "american-students-in-canada": ("single_source", [
        "Only article-us-canada-relationship-undated states it: 15,000 students as of 2020/2021 "
        "(the period it states).",
    ]),
    "jobs-supported-by-us-fdi-in-canada": ("single_source", [
        "1.6 million jobs as of 2019-07-01/2019-08-22",
    ]),
    "americans-employed-by-canadian-companies": ("single_source", [
        "Only gac-canada-united-states-relations states it: 725,000 people at an unknown time.",
    ]),
    "us-states-canada-top-export-market": ("consistent", ["more than 30 states"]),
    "years-of-partnership": ("consistent", ["more than 150 years"]),
    "arctic-states": ("consistent", [
        "8 countries (article-us-canada-relationship-undated); 8 countries "
        "(usdos-2022-blinken-travel-to-canada)",
    ]),
}  # fmt: skip


def statement(claim: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    row = {
        "claim_id": claim, "value": value, "unit": unit, "per": None, "qualifier": "exact",
        "as_stated": str(value), "period_text": None, "period_start": None, "period_end": None,
        "source_id": f"src-{claim}", "source_published": None,
        "source_published_earliest": None, "source_published_latest": None,
        "currency_uncertain": False,
    }  # fmt: skip
    row.update(extra)
    return row


def dated(year: int) -> dict[str, Any]:
    return {
        "period_text": str(year),
        "period_start": date(year, 1, 1),
        "period_end": date(year, 12, 31),
    }


def published(text: str, earliest: date, latest: date) -> dict[str, Any]:
    return {
        "source_published": text,
        "source_published_earliest": earliest,
        "source_published_latest": latest,
    }


Y2019 = published("2019", date(2019, 1, 1), date(2019, 12, 31))
Y2021 = published("2021-02-26", date(2021, 2, 26), date(2021, 2, 26))


def test_same_value_from_two_sources_is_consistent() -> None:
    verdict = judge([statement("a", 120, "ports"), statement("b", 120, "ports")])
    assert verdict.status == "consistent"
    assert verdict.reason == "Every statement agrees: 120 ports (src-a); 120 ports (src-b)."


def test_one_source_is_single_source() -> None:
    rows = [statement("a", 120, "ports"), statement("b", 121, "ports", source_id="src-a")]
    assert judge(rows).status == "single_source"
    assert judge([statement("a", 120, "ports")]).reason.startswith("Only src-a states it: 120")


def test_different_values_at_unknown_times_are_undetermined() -> None:
    verdict = judge([statement("a", 119, "ports"), statement("b", 120, "ports")], CHANGES)
    assert verdict.status == "undetermined"
    assert verdict.conflicts == []
    assert verdict.comparisons[0]["relation"] == "undetermined"
    assert verdict.spread == [{"unit": "ports", "per": None, "min": 119, "max": 120, "count": 2}]


def test_a_stable_figure_conflicts_whenever_its_values_differ() -> None:
    rows = [statement("a", 119, "ports", **Y2019), statement("b", 120, "ports", **Y2021)]
    verdict = judge(rows, STABLE)
    assert verdict.status == "conflicting"
    assert verdict.conflicts == [
        {
            "claims": ["a", "b"],
            "reason": "src-a says 119 ports as of 2019 (its publication date); src-b says 120 "
            "ports as of 2021-02-26 (its publication date): different values for a figure "
            "that does not change",
        }
    ]


def test_different_values_published_at_different_times_changed() -> None:
    rows = [statement("a", 119, "ports", **Y2019), statement("b", 120, "ports", **Y2021)]
    verdict = judge(rows, CHANGES)
    assert verdict.status == "changed_over_time"
    assert verdict.conflicts == []
    assert "119 ports as of 2019 (its publication date) (src-a), then 120 ports" in verdict.reason


def test_different_values_for_the_same_period_conflict() -> None:
    rows = [statement("a", 700, "USD", **dated(2019)), statement("b", 725, "USD", **dated(2019))]
    assert judge(rows).status == "conflicting"


def test_overlapping_publication_intervals_conflict() -> None:
    july = published("2019-07", date(2019, 7, 1), date(2019, 7, 31))
    rows = [statement("a", 119, "ports", **Y2019), statement("b", 120, "ports", **july)]
    assert judge(rows).status == "conflicting"


def test_a_stated_period_wins_over_the_publication_date() -> None:
    rows = [
        statement("a", 700, "USD", **dated(2018), **Y2021),
        statement("b", 725, "USD", **dated(2019), **Y2021),
    ]
    verdict = judge(rows)
    assert verdict.status == "changed_over_time"
    assert "as of 2018 (the period it states)" in verdict.reason


def test_a_window_makes_statements_in_one_year_simultaneous() -> None:
    march = published("2019-03", date(2019, 3, 1), date(2019, 3, 31))
    october = published("2019-10", date(2019, 10, 1), date(2019, 10, 31))
    rows = [statement("a", 119, "ports", **march), statement("b", 120, "ports", **october)]
    assert judge(rows, CHANGES).status == "changed_over_time"
    assert judge(rows, Figure("changes", "year")).status == "conflicting"
    assert judge(rows, Figure("changes", "month")).status == "changed_over_time"


def test_miles_and_km_compare_after_conversion() -> None:
    rows = [
        statement("a", 5525, "miles"),
        statement("b", 9000, "km", qualifier="nearly"),
        statement("c", 5500, "miles", qualifier="more_than"),
    ]
    verdict = judge(rows, STABLE)
    assert verdict.status == "consistent", verdict.conflicts
    assert verdict.spread[0]["unit"] == "km"
    assert verdict.spread[0]["min"] == pytest.approx(5500 * 1.609344)
    conflict = judge([statement("a", 5525, "miles"), statement("b", 5525, "km")], STABLE)
    assert conflict.status == "conflicting"
    assert "5,525 miles (8,892 km)" in conflict.conflicts[0]["reason"]


def test_currencies_are_never_converted_or_compared() -> None:
    rows = [statement("a", 2e9, "USD", per="day"), statement("b", 2.6e9, "CAD", per="day")]
    verdict = judge(rows)
    assert verdict.comparisons == []
    assert verdict.status == "undetermined"


def test_rates_compare_only_with_the_same_per() -> None:
    rows = [statement("a", 2e9, "USD", per="day"), statement("b", 725e9, "USD", per="year")]
    assert judge(rows).comparisons == []


def test_one_amount_in_two_currencies_is_one_observation() -> None:
    rows = [
        statement("a", 2e9, "USD", per="day", qualifier="more_than"),
        statement("a", 2.6e9, "CAD", per="day", qualifier="more_than"),
        statement("b", 2.6e9, "CAD", per="day"),
    ]
    verdict = judge(rows, STABLE)
    assert [c["claims"] for c in verdict.comparisons] == [["a", "b"]]  # CAD with CAD only
    assert verdict.status == "conflicting"  # more than 2.6 billion CAD vs exactly 2.6 billion
    assert {s["unit"]: s["count"] for s in verdict.spread} == {"CAD": 2, "USD": 1}


def test_a_bare_dollar_of_unknown_currency_is_uncertain_not_usd() -> None:
    rows = [
        statement("a", 2e9, "USD", per="day", **Y2019),
        statement("b", 2.6e9, "USD", per="day", currency_uncertain=True, **Y2019),
    ]
    verdict = judge(rows, STABLE)
    assert verdict.status == "undetermined"
    assert verdict.conflicts == []
    assert "$2.6 billion (currency uncertain) a day" in verdict.comparisons[0]["reason"]
    assert [(s["unit"], s["currency_uncertain"]) for s in series(rows)] == [
        ("USD", False),
        ("$", True),
    ]
    agreeing = [rows[0], {**rows[1], "value": 2e9}]
    assert judge(agreeing, STABLE).status == "consistent"


@pytest.mark.parametrize(
    "unit, as_stated, country, uncertain",
    [
        ("USD", "nearly $2.6 billion", None, True),
        ("CAD", "$2.6 billion", None, True),
        ("USD", "$2 billion", "US", False),
        ("USD", "US$2 billion", None, False),
        ("CAD", "C$2.6 billion", None, False),
        ("USD", "USD 2 billion", None, False),
        ("ports", "$120", None, False),
    ],
)
def test_currency_uncertain_marker(
    unit: str, as_stated: str, country: str | None, uncertain: bool
) -> None:
    assert currency_uncertain(unit, as_stated, country) is uncertain


@pytest.mark.parametrize(
    "value, written",
    [
        (2.6e9, "2.6 billion"), (2e9, "2 billion"), (725e9, "725 billion"),
        (1.25e12, "1.25 trillion"), (1.6e6, "1.6 million"), (400_000, "400,000"),
        (5525, "5,525"), (8891.6256, "8,892"), (119, "119"), (0.5, "0.5"), (12.25, "12.25"),
    ],
)  # fmt: skip
def test_numbers_read_as_people_write_them(value: float, written: str) -> None:
    assert say(value) == written


@pytest.mark.parametrize(
    "a, b, overlap",
    [
        ((120, "more_than"), (120, "exact"), False),
        ((120, "at_least"), (120, "exact"), True),
        ((2.6e9, "nearly"), (2.5e9, "exact"), True),
        ((2.6e9, "nearly"), (2.7e9, "exact"), False),
        ((100, "about"), (104, "exact"), True),
        ((100, "less_than"), (100, "exact"), False),
        ((100, "at_most"), (100, "exact"), True),
    ],
)
def test_qualifier_intervals(a: tuple[float, str], b: tuple[float, str], overlap: bool) -> None:
    assert interval(*a).intersects(interval(*b)) is overlap


def test_canonical_units() -> None:
    assert canonical(1, "miles") == (1.609344, "km")
    assert canonical(3, "USD") == (3, "USD")


def test_every_seed_figure_verdict_and_reason(client: TestClient) -> None:
    figures = {f["id"]: f for f in client.get("/v1/figures").json()["items"]}
    assert set(figures) == set(EXPECTED)
    for figure_id, (verdict, phrases) in EXPECTED.items():
        figure = figures[figure_id]
        assert figure["verdict"] == verdict, (figure_id, figure["reason"])
        for phrase in phrases:
            assert phrase in figure["reason"], (figure_id, figure["reason"])
        texts = [figure["reason"], *(c["reason"] for c in figure["comparisons"])]
        assert not any("e+" in text or ".0 " in text for text in texts), texts
        assert (figure["conflicts"] == []) is (verdict != "conflicting")


def test_ports_of_entry_is_a_history(client: TestClient) -> None:
    figure = client.get("/v1/figures/land-ports-of-entry").json()
    assert figure["behaviour"] == "changes"
    (line,) = figure["series"]
    assert line["unit"] == "ports"
    points = [(p["value"], p["as_of"]["text"], p["as_of"]["rule"]) for p in line["points"]]
    assert points == [
        (119, "2019-07-01/2019-08-22", "published"),
        (120, "2021-02-26", "published"),
        (120, "2022-08-20", "published"),
    ]
    assert all(isinstance(p["value"], int) for p in line["points"]), "counts are integers"
    assert all(isinstance(s["value"], int) for s in figure["statements"])
    for s in figure["statements"]:
        assert s["as_stated"] in s["quote"]
        assert s["citation"]
    relations = {tuple(c["claims"]): c["relation"] for c in figure["comparisons"]}
    assert relations[("s19-ports-of-entry-119", "s21-ports-of-entry-120")] == "changed_over_time"


def test_daily_trade_is_a_series_with_as_of_dates(client: TestClient) -> None:
    figure = client.get("/v1/figures/daily-trade").json()
    lines = {line["unit"]: line for line in figure["series"]}
    assert set(lines) == {"USD", "CAD", "$"}
    usd = [(p["value"], p["as_of"]["start"], p["as_of"]["end"]) for p in lines["USD"]["points"]]
    assert usd == [
        (2e9, "2019-07-01", "2019-08-22"),
        (1.9e9, "2021-02-26", "2021-02-26"),
        (2e9, "2022-10-27", "2022-10-27"),
    ]
    assert lines["$"]["currency_uncertain"] is True
    assert [p["as_stated"] for p in lines["$"]["points"]] == ["nearly $2.6 billion"]
    assert figure["conflicts"] == []
    pairs = [c["claims"] for c in figure["comparisons"]]
    assert all(a != b for a, b in pairs), "one claim's two currencies are one observation"
    uncertain = [s for s in figure["statements"] if s["currency_uncertain"]]
    assert [s["source"]["id"] for s in uncertain] == ["article-us-canada-relationship-undated"]
    starts = [s["as_of"]["start"] or "9999" for s in figure["statements"]]
    assert starts == sorted(starts)


def test_border_length_is_consistent(client: TestClient) -> None:
    figure = client.get("/v1/figures/border-length").json()
    assert figure["behaviour"] == "stable"
    assert figure["verdict"] == "consistent"
    assert figure["spread"] == [
        {"unit": "km", "per": None, "min": 8851.392, "max": 9000.0, "count": 4}
    ]


def test_claims_carry_the_currency_marker(client: TestClient) -> None:
    article = client.get("/v1/claims/art-daily-trade-nearly-2-6-billion").json()
    assert [q["currency_uncertain"] for q in article["quantities"]] == [True]
    fact_sheet = client.get("/v1/claims/s19-daily-trade-2-billion").json()
    assert [q["currency_uncertain"] for q in fact_sheet["quantities"]] == [False]


def test_figure_as_svg(client: TestClient) -> None:
    by_path = client.get("/v1/figures/daily-trade.svg")
    by_format = client.get("/v1/figures/daily-trade?format=svg")
    assert by_path.status_code == by_format.status_code == 200
    assert by_path.headers["content-type"] == "image/svg+xml"
    assert by_path.text == by_format.text
    root = ET.fromstring(by_path.text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(root.itertext())
    figure = client.get("/v1/figures/daily-trade").json()
    for s in figure["statements"]:
        assert s["as_stated"] in text
        assert s["source"]["name"][:40] in text
    assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == len(figure["statements"])


def test_figure_chart_is_negotiated_like_every_representation(client: TestClient) -> None:
    chart = client.get("/v1/figures/daily-trade.svg").text
    by_accept = client.get("/v1/figures/daily-trade", headers={"Accept": "image/svg+xml"})
    assert by_accept.headers["content-type"] == "image/svg+xml"
    assert by_accept.text == chart
    assert "accept" in by_accept.headers["vary"].lower()
    json_etag = client.get("/v1/figures/daily-trade").headers["etag"]
    assert by_accept.headers["etag"] != json_etag
    preferred = client.get(
        "/v1/figures/daily-trade", headers={"Accept": "application/json;q=0.5, image/svg+xml"}
    )
    assert preferred.headers["content-type"] == "image/svg+xml"
    for path, accept in (
        ("/v1/figures/daily-trade.svg", "application/json"),
        ("/v1/figures/daily-trade?format=csv", "*/*"),
    ):
        refused = client.get(path, headers={"Accept": accept})
        assert refused.status_code == 406, (path, refused.text)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/v1/figures/no-such-figure.svg", 404),
        ("/v1/figures/no-such-figure", 404),
        ("/v1/figures/daily-trade?format=xml", 422),
        ("/v1/figures/Daily_Trade.svg", 422),
    ],
)
def test_figure_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_docs_chart_is_current(client: TestClient, backend: str) -> None:
    """docs/figures.md embeds docs/daily-trade.svg; regenerate with UPDATE_DOCS=1."""
    svg = client.get("/v1/figures/daily-trade.svg").text
    if os.environ.get("UPDATE_DOCS") == "1" and backend == "sqlite":
        DOCS_SVG.write_text(svg, encoding="utf-8")
    assert DOCS_SVG.read_text(encoding="utf-8") == svg, "run: UPDATE_DOCS=1 pytest -k docs_chart"
    assert "daily-trade.svg" in (ROOT / "docs" / "figures.md").read_text(encoding="utf-8")


NEW_SOURCE = """  - id: fixture-2024-trade-note
    file: 900_fixture.txt
    name: "Test fixture: a 2024 note on daily trade"
    title: null
    publisher: U.S. Department of State
    country: US
    url: null
    published: "2024-03-01"
    published_precision: day
    published_reason: "Made up for a test."
    provenance_note: Made up for a test; not a seed.
"""
NEW_TEXT = "Every day, $2.7 billion in goods and services crosses the border."
NEW_PIN = (
    f"    sha256: {hashlib.sha256(NEW_TEXT.encode()).hexdigest()}\n    size: {len(NEW_TEXT)}\n"
)
NEW_CLAIMS = """source: fixture-2024-trade-note
claims:
  - id: fixture-daily-trade-2-7-billion
    statement: "According to the 2024 source, about $2.7 billion in goods and services crosses the
      border each day."
    quote: "Every day, $2.7 billion in goods and services crosses the border."
    kind: fact
    topics: [trade]
    quantities:
      - {value: 2700000000, unit: USD, per: day, as_stated: "$2.7 billion", figure: daily-trade}
"""


@pytest.fixture
def grown_client(empty_db: str, tmp_path: Path) -> Iterator[TestClient]:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "documents" / "900_fixture.txt").write_text(NEW_TEXT, encoding="utf-8")
    (seeds / "claims" / "fixture-2024-trade-note.yaml").write_text(NEW_CLAIMS, encoding="utf-8")
    with (seeds / "sources.yaml").open("a", encoding="utf-8") as sources:
        sources.write(NEW_SOURCE + NEW_PIN)
    ingest(empty_db, seeds)
    with serving(empty_db) as test_client:
        yield test_client


def test_a_source_of_another_year_grows_the_series_without_a_conflict(
    client: TestClient, grown_client: TestClient
) -> None:
    before = client.get("/v1/figures/daily-trade").json()
    after = grown_client.get("/v1/figures/daily-trade").json()
    usd_before = next(s for s in before["series"] if s["unit"] == "USD")["points"]
    usd_after = next(s for s in after["series"] if s["unit"] == "USD")["points"]
    assert usd_after[:-1] == usd_before
    assert len(usd_after) == len(usd_before) + 1
    assert usd_after[-1]["claim_id"] == "fixture-daily-trade-2-7-billion"
    assert usd_after[-1]["as_of"] == {
        "start": "2024-03-01",
        "end": "2024-03-01",
        "text": "2024-03-01",
        "rule": "published",
    }
    assert after["verdict"] == "changed_over_time"
    assert after["conflicts"] == []
    assert "then 2.7 billion USD a day as of 2024-03-01 (its publication date)" in after["reason"]
