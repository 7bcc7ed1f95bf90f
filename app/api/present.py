"""Turn query results into the public JSON: claim documents are stored as JSON already, so a page
is assembled from their bytes instead of being rebuilt and re-validated object by object."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Response

from app.claim_document import dumps
from app.highlight import mark

_SOURCE_PREFIX = "source_"


def source_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The source_* columns of a query row, as the SourceSummary shape."""
    return {
        key[len(_SOURCE_PREFIX) :]: value
        for key, value in record.items()
        if key.startswith(_SOURCE_PREFIX)
    }


def with_highlights(document: str, search_words: list[str] | None) -> str:
    """A stored claim document, plus `<mark>`ed statement and quote when there was a search."""
    if not search_words:
        return document
    claim = json.loads(document)
    claim["highlights"] = {
        "statement": mark(claim["statement"], search_words),
        "quote": mark(claim["quote"], search_words),
    }
    return dumps(claim)


def json_response(body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body.encode(), media_type="application/json", headers=headers)


def claim_page(documents: list[str], search_words: list[str] | None, **fields: Any) -> str:
    """`{"items": [...], **fields}` with the items spliced in as stored."""
    items = ",".join(with_highlights(d, search_words) for d in documents)
    rest = dumps(fields)[1:-1]
    return f'{{"items":[{items}]{"," if rest else ""}{rest}}}'
