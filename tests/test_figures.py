"""The figure verdict logic, on made-up statements, then on the real seeds through the API."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.figures import canonical, interval, judge

EXPECTED_VERDICTS = {
    "land-ports-of-entry": "conflicting",
    "daily-trade": "conflicting",
    "annual-two-way-trade": "consistent",
    "border-length": "consistent",
}


def statement(claim: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    row = {
        "claim_id": claim, "value": value, "unit": unit, "per": None, "qualifier": "exact",
        "as_stated": str(value), "period_text": None, "period_start": None, "period_end": None,
        "source_id": f"src-{claim}", "source_published_earliest": None,
    }  # fmt: skip
    row.update(extra)
    return row


def dated(year: int) -> dict[str, Any]:
    return {
        "period_text": str(year),
        "period_start": date(year, 1, 1),
        "period_end": date(year, 12, 31),
    }


def test_same_value_is_consistent() -> None:
    assert (
        judge([statement("a", 120, "ports"), statement("b", 120, "ports")]).status == "consistent"
    )


def test_different_undated_values_conflict() -> None:
    verdict = judge([statement("a", 119, "ports"), statement("b", 120, "ports")])
    assert verdict.status == "conflicting"
    assert verdict.conflicts[0]["claims"] == ["a", "b"]
    assert verdict.spread == [{"unit": "ports", "per": None, "min": 119, "max": 120, "count": 2}]


def test_different_values_for_different_periods_are_consistent() -> None:
    rows = [statement("a", 700, "USD", **dated(2018)), statement("b", 725, "USD", **dated(2019))]
    assert judge(rows).status == "consistent"


def test_different_values_for_the_same_period_conflict() -> None:
    rows = [statement("a", 700, "USD", **dated(2019)), statement("b", 725, "USD", **dated(2019))]
    assert judge(rows).status == "conflicting"


def test_an_undated_value_is_compared_with_dated_ones() -> None:
    rows = [statement("a", 700, "USD", **dated(2019)), statement("b", 725, "USD")]
    assert judge(rows).status == "conflicting"


def test_miles_and_km_compare_after_conversion() -> None:
    rows = [
        statement("a", 5525, "miles"),
        statement("b", 9000, "km", qualifier="nearly"),
        statement("c", 5500, "miles", qualifier="more_than"),
    ]
    verdict = judge(rows)
    assert verdict.status == "consistent", verdict.conflicts
    assert verdict.spread[0]["unit"] == "km"
    assert verdict.spread[0]["min"] == pytest.approx(5500 * 1.609344)
    assert judge([statement("a", 5525, "miles"), statement("b", 5525, "km")]).status == (
        "conflicting"
    )


def test_currencies_are_never_converted_or_compared() -> None:
    rows = [statement("a", 2e9, "USD", per="day"), statement("b", 2.6e9, "CAD", per="day")]
    assert judge(rows).status == "consistent"


def test_rates_compare_only_with_the_same_per() -> None:
    rows = [statement("a", 2e9, "USD", per="day"), statement("b", 725e9, "USD", per="year")]
    assert judge(rows).status == "consistent"


def test_two_quantities_of_one_claim_are_not_compared() -> None:
    rows = [statement("a", 2e9, "USD"), statement("a", 2.6e9, "USD")]
    assert judge(rows).status == "consistent"


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


def test_figures_endpoint_on_the_seeds(client: TestClient) -> None:
    figures = {f["id"]: f for f in client.get("/v1/figures").json()["items"]}
    for figure_id, verdict in EXPECTED_VERDICTS.items():
        assert figures[figure_id]["verdict"] == verdict, figures[figure_id]["conflicts"]


def test_ports_of_entry_shows_both_values_with_sources(client: TestClient) -> None:
    figure = client.get("/v1/figures/land-ports-of-entry").json()
    assert figure["verdict"] == "conflicting"
    values = {s["value"] for s in figure["statements"]}
    assert {119.0, 120.0} <= values
    stated = {(s["value"], s["qualifier"], s["source"]["id"]) for s in figure["statements"]}
    assert (119.0, "exact", "usdos-2019-strengthening-our-alliance") in stated
    assert (120.0, "exact", "usdos-2021-neighbors-friends-and-allies") in stated
    conflicting = {tuple(sorted(c["claims"])) for c in figure["conflicts"]}
    ids = {s["source"]["id"]: s["claim_id"] for s in figure["statements"]}
    pair = (
        ids["usdos-2019-strengthening-our-alliance"],
        ids["usdos-2021-neighbors-friends-and-allies"],
    )
    assert tuple(sorted(pair)) in conflicting
    for s in figure["statements"]:
        assert s["as_stated"] in s["quote"]
        assert s["citation"]
    published = [s["source"]["published_earliest"] or "9999" for s in figure["statements"]]
    assert published == sorted(published)


def test_unknown_figure_is_404(client: TestClient) -> None:
    assert client.get("/v1/figures/no-such-figure").status_code == 404
