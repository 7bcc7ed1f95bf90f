"""A citation string for a claim, from its source's recorded provenance only (nothing invented)."""

from __future__ import annotations

from datetime import date
from typing import Any

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _day(day: date, with_year: bool = True) -> str:
    text = f"{_MONTHS[day.month - 1]} {day.day}"
    return f"{text}, {day.year}" if with_year else text


def format_published(earliest: date | None, latest: date | None, precision: str) -> str:
    """The publication date as known: "2019", "July 2019", "February 26, 2021", or for a range
    "between July 1 and August 22, 2019"; never a day the evidence does not give."""
    if earliest is None or latest is None or precision == "unknown":
        return "date unknown"
    if precision == "year":
        return str(earliest.year)
    if precision == "month":
        return f"{_MONTHS[earliest.month - 1]} {earliest.year}"
    if precision == "day":
        return _day(earliest)
    same_year = earliest.year == latest.year
    return f"between {_day(earliest, not same_year)} and {_day(latest)}"


def _as_date(value: Any) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))


def cite(source: dict[str, Any], start: int, end: int) -> str:
    """Publisher, "Title", date, URL; then where the quote sits in the stored text."""
    publisher = source.get("publisher") or "Unknown publisher"
    title = f"“{source['title']}”" if source.get("title") else f"[untitled] {source['name']}"
    when = format_published(
        _as_date(source.get("published_earliest")),
        _as_date(source.get("published_latest")),
        source.get("published_precision", "unknown"),
    )
    url = source.get("url") or "URL unknown"
    return f"{publisher}, {title}, {when}, {url}. Quoted text at characters {start}–{end}."
