"""Turn query rows into the public JSON shapes (and add each claim's citation)."""

from __future__ import annotations

from typing import Any

from app.citation import cite
from app.highlight import mark

_SOURCE_PREFIX = "source_"


def source_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The source_* columns of a query row, as the SourceSummary shape."""
    return {
        key[len(_SOURCE_PREFIX) :]: value
        for key, value in record.items()
        if key.startswith(_SOURCE_PREFIX)
    }


def period_json(record: dict[str, Any]) -> dict[str, Any] | None:
    if not record["period_text"]:
        return None
    return {
        "text": record["period_text"],
        "start": record["period_start"],
        "end": record["period_end"],
    }


def claim_json(record: dict[str, Any], search_words: list[str] | None = None) -> dict[str, Any]:
    source = source_summary(record)
    period = period_json(record)
    return {
        "id": record["id"],
        "statement": record["statement"],
        "quote": record["quote"],
        "start": record["quote_start"],
        "end": record["quote_end"],
        "topics": record["topics"],
        "entities": record["entities"],
        "period": period,
        "quantities": [
            {
                "value": q["value"],
                "unit": q["unit"],
                "per": q["per"],
                "qualifier": q["qualifier"],
                "as_stated": q["as_stated"],
                "figure": q["figure_id"],
            }
            for q in record["quantities"]
        ],
        "note": record["note"],
        "source": source,
        "citation": cite(source, record["quote_start"], record["quote_end"]),
        "highlights": {
            "statement": mark(record["statement"], search_words),
            "quote": mark(record["quote"], search_words),
        }
        if search_words
        else None,
    }
