"""Do the sources agree on a figure? Every statement of it, placed in time and compared.

Each statement becomes a value interval in a canonical unit (miles -> km; no currency is ever
converted; a qualifier widens it: "more than 120" is (120, 126]) and an **as-of interval**: the
claim's period when it states one, else its source's publication interval, else unknown. Two
statements of different claims are compared when their units are comparable and they are rates
over the same `per`. Their relation:

- `agree`: the value intervals intersect;
- else `undetermined` when one is a bare "$" of uncertain currency;
- else `conflicting` for a `stable` figure (it should not change at all);
- else, for a figure that `changes`: `undetermined` when either as-of time is unknown,
  `conflicting` when the as-of intervals overlap (or share a window), `changed_over_time` if not.

The figure's verdict: `conflicting` if any pair conflicts; else `single_source` if one source
states it; else `changed_over_time` if any pair changed; else `undetermined` if any pair is;
else `consistent`. docs/figures.md works through the seeds' cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
CURRENCIES = frozenset({"USD", "CAD"})
UNCERTAIN_CURRENCY = "$"  # the canonical unit of a bare "$" whose currency is not established
TOLERANCE = 0.05  # how far an "about", "nearly" or "more than" reaches
_EPSILON = 1e-9
_BARE_DOLLAR = re.compile(r"(?<![A-Za-z])\$")
_QUALIFIER_WORDS = {
    "exact": "", "about": "about ", "nearly": "nearly ", "more_than": "more than ",
    "at_least": "at least ", "less_than": "less than ", "at_most": "at most ",
}  # fmt: skip
_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def currency_uncertain(unit: str, as_stated: str, country: str | None) -> bool:
    """A bare "$" (not US$, C$, USD…) in a source whose country is unknown: a curated USD or
    CAD is then a guess."""
    return unit in CURRENCIES and country is None and bool(_BARE_DOLLAR.search(as_stated))


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
    return (value if factor == 1.0 else round(value * factor, 6)), target


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


def say(value: float) -> str:
    """A number as people write it: 2.6 billion, 1.6 million, 5,525, 8,892, 0.5."""
    for scale, word in _SCALES:
        if abs(value) >= scale:
            return f"{value / scale:,.2f}".rstrip("0").rstrip(".") + f" {word}"
    if abs(value) >= 100 or value == int(value):
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class AsOf:
    """When a statement's value held: [start, end] (None: open that way), and which rule said so
    (`period`, `published` or `unknown`)."""

    start: date | None
    end: date | None
    rule: str
    text: str | None

    @property
    def known(self) -> bool:
        return self.rule != "unknown"

    def overlaps(self, other: AsOf) -> bool:
        return (self.start or date.min) <= (other.end or date.max) and (
            other.start or date.min
        ) <= (self.end or date.max)

    def windows(self, window: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The first and last calendar window (year, month or day) the interval touches."""
        size = {"year": 1, "month": 2, "day": 3}[window]

        def key(day: date) -> tuple[int, ...]:
            return (day.year, day.month, day.day)[:size]

        return key(self.start or date.min), key(self.end or date.max)

    def sort_key(self) -> tuple[bool, date, date]:
        """Known times first, by start then end (an open start first, an open end last)."""
        return (not self.known, self.start or date.min, self.end or date.max)

    def describe(self) -> str:
        if not self.known:
            return "at an unknown time"
        why = "the period it states" if self.rule == "period" else "its publication date"
        return f"as of {self.text} ({why})"

    def json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "rule": self.rule}


def as_of(row: dict[str, Any]) -> AsOf:
    """The claim's period, else the source's publication interval, else unknown."""
    if row["period_text"]:
        return AsOf(row["period_start"], row["period_end"], "period", row["period_text"])
    if row.get("source_published_earliest") is not None:
        return AsOf(
            row["source_published_earliest"],
            row["source_published_latest"],
            "published",
            row["source_published"],
        )
    return AsOf(None, None, "unknown", None)


@dataclass(frozen=True)
class Observation:
    """One statement of a figure, ready to compare (built from a figure_statements row)."""

    row: dict[str, Any]
    value: float  # in `unit`
    unit: str  # canonical; "$" when the currency is uncertain
    values: Interval
    when: AsOf

    @classmethod
    def of(cls, row: dict[str, Any]) -> Observation:
        value, unit = canonical(row["value"], row["unit"])
        if row.get("currency_uncertain"):
            unit = UNCERTAIN_CURRENCY
        return cls(row, value, unit, interval(value, row["qualifier"]), as_of(row))

    @property
    def claim_id(self) -> str:
        return str(self.row["claim_id"])

    @property
    def source_id(self) -> str:
        return str(self.row["source_id"])

    @property
    def per(self) -> str | None:
        per = self.row["per"]
        return None if per is None else str(per)

    def amount(self) -> str:
        """'more than 120 ports', '5,525 miles (8,892 km)', 'nearly $2.6 billion (currency
        uncertain) a day'."""
        row = self.row
        words = _QUALIFIER_WORDS.get(row["qualifier"], "")
        if self.unit == UNCERTAIN_CURRENCY:
            text = f"{words}${say(row['value'])} (currency uncertain)"
        else:
            text = f"{words}{say(row['value'])} {row['unit']}"
            if self.unit != row["unit"]:
                text += f" ({say(self.value)} {self.unit})"
        return text + (f" a {self.per}" if self.per else "")

    def describe(self) -> str:
        return f"{self.source_id} says {self.amount()} {self.when.describe()}"

    def comparable(self, other: Observation) -> bool:
        if self.claim_id == other.claim_id or self.per != other.per:
            return False  # one claim's two currencies are one observation
        if UNCERTAIN_CURRENCY in (self.unit, other.unit):
            money = CURRENCIES | {UNCERTAIN_CURRENCY}
            return self.unit in money and other.unit in money
        return self.unit == other.unit


@dataclass(frozen=True)
class Figure:
    """How a figure behaves over time (from seeds/figures.yaml)."""

    behaviour: str = "changes"
    window: str | None = None


def _same_time(a: AsOf, b: AsOf, window: str | None) -> bool:
    if window is None:
        return a.overlaps(b)
    a_first, a_last = a.windows(window)
    b_first, b_last = b.windows(window)
    return a_first <= b_last and b_first <= a_last


def relate(a: Observation, b: Observation, figure: Figure) -> tuple[str, str]:
    """The relation of two comparable statements and the reason, in plain numbers."""
    both = f"{a.describe()}; {b.describe()}"
    if a.values.intersects(b.values):
        return "agree", f"{both}: the values agree"
    if UNCERTAIN_CURRENCY in (a.unit, b.unit):
        return "undetermined", f"{both}: the values differ, but a bare “$” may not be USD"
    if figure.behaviour == "stable":
        return "conflicting", f"{both}: different values for a figure that does not change"
    if not (a.when.known and b.when.known):
        return "undetermined", f"{both}: the values differ and when one held is unknown"
    if _same_time(a.when, b.when, figure.window):
        return "conflicting", f"{both}: different values at the same time"
    return "changed_over_time", f"{both}: different values at different times"


@dataclass
class Verdict:
    status: str
    reason: str
    comparisons: list[dict[str, Any]]
    spread: list[dict[str, Any]]

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return [
            {"claims": c["claims"], "reason": c["reason"]}
            for c in self.comparisons
            if c["relation"] == "conflicting"
        ]


def judge(rows: list[dict[str, Any]], figure: Figure | None = None) -> Verdict:
    """Compare every pair of statements (rows of app.queries.figure_statements)."""
    figure = figure or Figure()
    observations = sorted((Observation.of(r) for r in rows), key=_time_order)
    pairs = [
        (a, b, *relate(a, b, figure)) for a, b in combinations(observations, 2) if a.comparable(b)
    ]
    comparisons = [
        {"claims": [a.claim_id, b.claim_id], "relation": relation, "reason": reason}
        for a, b, relation, reason in pairs
    ]
    status, reason = _verdict(observations, pairs)
    return Verdict(status, reason, comparisons, _spread(observations))


def _verdict(
    observations: list[Observation], pairs: list[tuple[Observation, Observation, str, str]]
) -> tuple[str, str]:
    by_relation: dict[str, list[str]] = {}
    for _, _, relation, reason in pairs:
        by_relation.setdefault(relation, []).append(reason)
    sources = sorted({o.source_id for o in observations})
    if not observations:
        return "undetermined", "No source states this figure."
    if "conflicting" in by_relation:
        conflicts = by_relation["conflicting"]
        return "conflicting", f"{len(conflicts)} pair(s) of statements conflict. " + " ".join(
            f"{p}." for p in conflicts
        )
    if len(sources) == 1:
        said = "; ".join(f"{o.amount()} {o.when.describe()}" for o in observations)
        return "single_source", f"Only {sources[0]} states it: {said}."
    unplaced = _unplaced(by_relation.get("undetermined", []))
    if "changed_over_time" in by_relation:
        changed = {id(o) for a, b, r, _ in pairs if r == "changed_over_time" for o in (a, b)}
        history = ", then ".join(
            f"{o.amount()} {o.when.describe()} ({o.source_id})"
            for o in observations
            if id(o) in changed
        )
        return "changed_over_time", f"The value changed over time: {history}.{unplaced}"
    if "undetermined" in by_relation:
        return (
            "undetermined",
            f"The values differ; what would tell a change from a conflict is unknown.{unplaced}",
        )
    if not pairs:
        return "undetermined", "No two statements are in comparable units."
    values = "; ".join(f"{o.amount()} ({o.source_id})" for o in observations)
    return "consistent", f"Every statement agrees: {values}."


def _unplaced(reasons: list[str]) -> str:
    if not reasons:
        return ""
    return f" Cannot be placed against the others ({len(reasons)} pair(s)): " + " ".join(
        f"{r}." for r in reasons
    )


def _spread(observations: list[Observation]) -> list[dict[str, Any]]:
    spread: dict[tuple[str, str | None], dict[str, Any]] = {}
    for o in observations:
        entry = spread.setdefault(
            (o.unit, o.per), {"unit": o.unit, "per": o.per, "min": o.value, "max": o.value}
        )
        entry["min"] = min(entry["min"], o.value)
        entry["max"] = max(entry["max"], o.value)
        entry.setdefault("claims", set()).add(o.claim_id)
    return [
        {**{k: v for k, v in e.items() if k != "claims"}, "count": len(e["claims"])}
        for e in sorted(spread.values(), key=lambda e: (e["unit"], e["per"] or ""))
    ]


def _time_order(o: Observation) -> tuple[Any, ...]:
    return (*o.when.sort_key(), o.claim_id, o.row.get("position", 0))


def series(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements as plottable points per canonical unit and `per`, in as-of order."""
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for o in sorted((Observation.of(r) for r in rows), key=_time_order):
        line = out.setdefault(
            (o.unit, o.per),
            {
                "unit": o.unit,
                "per": o.per,
                "currency_uncertain": o.unit == UNCERTAIN_CURRENCY,
                "points": [],
            },
        )
        line["points"].append(
            {
                "claim_id": o.claim_id,
                "source_id": o.source_id,
                "value": o.value,
                "low": o.values.low,
                "high": o.values.high,
                "as_stated": o.row["as_stated"],
                "as_of": o.when.json(),
            }
        )
    return sorted(out.values(), key=lambda s: (s["currency_uncertain"], s["unit"], s["per"] or ""))


def time_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Order statements by as-of time (unknown last), then claim."""
    return _time_order(Observation.of(row))
