"""Turn query results into the public JSON: claim documents are stored as JSON already, so a page
is assembled from their bytes instead of being rebuilt and re-validated object by object."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response

from app.claim_document import dumps
from app.highlight import mark

_SOURCE_PREFIX = "source_"
_URL_SPLIT_REMOVES = str.maketrans("", "", "\t\r\n")  # as urllib.parse.urlsplit does


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
    # What `request.url.include_query_params(**params)` gives, without building and splitting
    # a whole URL: the other parameters in their order, then `params`.
    scope = request.scope
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    query = scope.get("query_string", b"").decode().partition("#")[0]
    query = query.translate(_URL_SPLIT_REMOVES)
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in params]
    pairs.extend(params.items())
    base = request.app.state.settings.public_base_url or ""
    return f"{base}{path}?{urlencode(pairs)}"


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
