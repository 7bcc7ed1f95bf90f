"""Do the sources agree on a figure? Unit-aware comparison of every statement of it.

Each statement becomes an interval in a canonical unit: its value converted (miles -> km; no
currency is ever converted) and widened by its qualifier ("more than 120" is (120, 126],
"close to 9,000 km" is [8,550, 9,000]). Two statements are compared when their units are
comparable, they are rates over the same `per`, and they are about the same time: their periods
overlap, or at least one of them states no period (an undated figure could be about any time).
Compared statements whose intervals do not intersect conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

# unit -> (canonical unit, factor)
CONVERSIONS: dict[str, tuple[str, float]] = {
    "miles": ("km", 1.609344),
    "mile": ("km", 1.609344),
    "km": ("km", 1.0),
    "kilometres": ("km", 1.0),
    "kilometers": ("km", 1.0),
}
TOLERANCE = 0.05  # how far an "about", "nearly" or "more than" reaches
_EPSILON = 1e-9


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def intersects(self, other: Interval) -> bool:
        low, high = max(self.low, other.low), min(self.high, other.high)
        tolerance = _EPSILON * max(1.0, abs(low), abs(high))
        if high - low > tolerance:
            return True
        if abs(high - low) > tolerance:
            return False
        # the intervals only touch: they share that point unless an end there is open
        low_open = any(i.low_open and abs(i.low - low) <= tolerance for i in (self, other))
        high_open = any(i.high_open and abs(i.high - high) <= tolerance for i in (self, other))
        return not (low_open or high_open)


def canonical(value: float, unit: str) -> tuple[float, str]:
    target, factor = CONVERSIONS.get(unit.lower(), (unit, 1.0))
    return value * factor, target


def interval(value: float, qualifier: str) -> Interval:
    t = TOLERANCE * abs(value)
    match qualifier:
        case "about":
            return Interval(value - t, value + t)
        case "nearly":
            return Interval(value - t, value)
        case "more_than":
            return Interval(value, value + t, low_open=True)
        case "at_least":
            return Interval(value, value + t)
        case "less_than":
            return Interval(value - t, value, high_open=True)
        case "at_most":
            return Interval(value - t, value)
        case _:
            return Interval(value, value)


@dataclass
class Verdict:
    status: str  # "consistent" | "conflicting"
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    spread: list[dict[str, Any]] = field(default_factory=list)


def _same_time(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if not a["period_text"] or not b["period_text"]:
        return True
    a_start, a_end = a["period_start"] or date.min, a["period_end"] or date.max
    b_start, b_end = b["period_start"] or date.min, b["period_end"] or date.max
    return a_start <= b_end and b_start <= a_end


def _describe(s: dict[str, Any]) -> str:
    when = f"for {s['period_text']}" if s["period_text"] else "undated"
    return f"{s['value']:g} {s['unit']} (“{s['as_stated']}”, {s['source_id']}, {when})"


def judge(statements: list[dict[str, Any]]) -> Verdict:
    """Compare every pair of statements (rows of app.queries.figure_statements)."""
    conflicts = []
    for a, b in combinations(statements, 2):
        if a["claim_id"] == b["claim_id"]:
            continue  # one claim stating the same figure in two currencies
        a_value, a_unit = canonical(a["value"], a["unit"])
        b_value, b_unit = canonical(b["value"], b["unit"])
        if a_unit != b_unit or a["per"] != b["per"] or not _same_time(a, b):
            continue
        if not interval(a_value, a["qualifier"]).intersects(interval(b_value, b["qualifier"])):
            conflicts.append(
                {
                    "claims": [a["claim_id"], b["claim_id"]],
                    "reason": f"{_describe(a)} vs {_describe(b)}",
                }
            )
    spread: dict[tuple[str, str | None], dict[str, Any]] = {}
    for s in statements:
        value, unit = canonical(s["value"], s["unit"])
        entry = spread.setdefault(
            (unit, s["per"]),
            {"unit": unit, "per": s["per"], "min": value, "max": value, "count": 0},
        )
        entry["min"] = min(entry["min"], value)
        entry["max"] = max(entry["max"], value)
        entry["count"] += 1
    return Verdict(
        status="conflicting" if conflicts else "consistent",
        conflicts=conflicts,
        spread=sorted(spread.values(), key=lambda e: (e["unit"], e["per"] or "")),
    )


def time_order(statement: dict[str, Any]) -> tuple[date, date, str]:
    """Order by the period a statement is about, else its source's publication date."""
    published = statement["source_published_earliest"] or date.max
    return statement["period_start"] or published, published, statement["claim_id"]
