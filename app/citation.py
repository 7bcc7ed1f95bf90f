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


def format_published(published: date | None, precision: str) -> str:
    if published is None or precision == "unknown":
        return "date unknown"
    if precision == "year":
        return str(published.year)
    if precision == "month":
        return f"{_MONTHS[published.month - 1]} {published.year}"
    return f"{_MONTHS[published.month - 1]} {published.day}, {published.year}"


def cite(source: dict[str, Any], start: int, end: int) -> str:
    """Publisher, "Title", date, URL; then where the quote sits in the stored text."""
    publisher = source.get("publisher") or "Unknown publisher"
    title = f"“{source['title']}”" if source.get("title") else f"[untitled] {source['name']}"
    when = format_published(source.get("published"), source.get("published_precision", "unknown"))
    url = source.get("url") or "URL unknown"
    return f"{publisher}, {title}, {when}, {url}. Quoted text at characters {start}–{end}."
