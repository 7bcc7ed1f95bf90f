"""Turn query results into the public JSON: claim documents are stored as JSON already, so a page
is assembled from their bytes instead of being rebuilt and re-validated object by object."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response

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


def page_link(request: Request, **params: str) -> str:
    """This request's URL with `params` replaced: under PUBLIC_BASE_URL, else relative. Never
    built from the Host header, which the client controls (and the response cache ignores)."""
    url = request.url.include_query_params(**params)
    base = request.app.state.settings.public_base_url or ""
    return f"{base}{url.path}?{url.query}"


def link_header(next_url: str | None) -> dict[str, str]:
    """The RFC 8288 Link header for a next page (none on the last page)."""
    return {"Link": f'<{next_url}>; rel="next"'} if next_url else {}


def json_response(body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body.encode(), media_type="application/json", headers=headers)


def claim_page(documents: list[str], search_words: list[str] | None, **fields: Any) -> str:
    """`{"items": [...], **fields}` with the items spliced in as stored."""
    items = ",".join(with_highlights(d, search_words) for d in documents)
    rest = dumps(fields)[1:-1]
    return f'{{"items":[{items}]{"," if rest else ""}{rest}}}'
