"""The public JSON of one claim, built once at ingest and served as stored.

A claim's answer depends only on the dataset, so the ingestion job renders it (source summary,
topics, entities, quantities, citation) into `claim.doc`; the API then serves a page with one
indexed read and no per-row object building. The API's response models document this shape, and
the tests check the stored JSON against them.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from app.citation import cite

SOURCE_SUMMARY_FIELDS = (
    "id", "name", "title", "publisher", "country", "url", "published", "published_earliest",
    "published_latest", "published_precision",
)  # fmt: skip


def period_json(record: dict[str, Any]) -> dict[str, Any] | None:
    if not record["period_text"]:
        return None
    return {
        "text": record["period_text"],
        "start": record["period_start"],
        "end": record["period_end"],
    }


def claim_document(
    claim: dict[str, Any],
    source: dict[str, Any],
    topics: list[str],
    entities: list[dict[str, Any]],
    quantities: list[dict[str, Any]],
) -> dict[str, Any]:
    """`claim` has the claim table's columns; `source` at least the summary fields."""
    summary = {key: source[key] for key in SOURCE_SUMMARY_FIELDS}
    return {
        "id": claim["id"],
        "statement": claim["statement"],
        "quote": claim["quote"],
        "start": claim["quote_start"],
        "end": claim["quote_end"],
        "kind": claim["kind"],
        "part_of": claim["part_of"],
        "topics": sorted(topics),
        "entities": sorted(
            ({"id": e["id"], "name": e["name"], "kind": e["kind"]} for e in entities),
            key=lambda e: e["id"],
        ),
        "period": period_json(claim),
        "quantities": [
            {
                "value": float(q["value"]),
                "unit": q["unit"],
                "per": q["per"],
                "qualifier": q["qualifier"],
                "as_stated": q["as_stated"],
                "figure": q["figure_id"],
                "currency_uncertain": q["currency_uncertain"],
            }
            for q in sorted(quantities, key=lambda q: q["position"])
        ],
        "note": claim["note"],
        "source": summary,
        "citation": cite(summary, claim["quote_start"], claim["quote_end"]),
        "highlights": None,
    }


def _default(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a claim document")


# json.dumps would build this encoder on every call; ingest renders one document per claim.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(document: Any) -> str:
    """Compact UTF-8 JSON, dates as YYYY-MM-DD (what the response models would produce)."""
    return _ENCODER.encode(document)
