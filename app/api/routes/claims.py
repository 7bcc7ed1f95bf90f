"""GET /v1/claims, /v1/claims/{id} and /v1/timeline: the facts, filtered, paged and citable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response
from pydantic import Field
from sqlalchemy import Connection, Engine

from app import queries
from app.api.claim_query import ClaimQuery, claim_query, invalid
from app.api.csv_export import csv_requested, csv_response
from app.api.deps import MAX_REPEATS, PageParams, api_router, not_found
from app.api.present import claim_page, json_response
from app.api.reader import Reader
from app.api.schemas import CSV_RESPONSES, NOT_FOUND, ClaimOut, ClaimPage
from app.filters import ClaimFilters, counts_per_source_suffice
from app.ingest.schema import SLUG_PATTERN
from app.pagination import Cursor, InvalidCursor

router = api_router(prefix="/v1", tags=["claims"])

Sort = Literal["relevance", "id", "-id", "published", "-published", "period", "-period"]
Facet = Literal["topic", "source", "country", "year", "entity", "kind"]


class ClaimPageParams(PageParams):
    sort: Sort | None = Field(
        None,
        description="Order; '-' for descending; unknown dates sort last. "
        "Default: relevance with q, else id",
    )
    facet: list[Facet] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Add counts per value of this facet for the current filter (repeat)",
    )


# Dependencies (not plain parameters) so the docs list paging after the filters.
async def _claim_page(page: Annotated[ClaimPageParams, Query()]) -> ClaimPageParams:
    return page


async def _timeline_page(page: Annotated[PageParams, Query()]) -> PageParams:
    return page


CSV_COLUMNS = [
    "id", "kind", "part_of", "statement", "quote", "start", "end", "topics", "entities",
    "period_text", "period_start", "period_end", "quantities", "source_id", "source_name",
    "publisher", "published", "published_precision", "url", "citation",
]  # fmt: skip
CSV_BATCH = 500


def _csv_row(claim: dict[str, Any]) -> dict[str, Any]:
    period = claim["period"] or {}
    source = claim["source"]
    return {
        **claim,
        "period_text": period.get("text"),
        "period_start": period.get("start"),
        "period_end": period.get("end"),
        "source_id": source["id"],
        "source_name": source["name"],
        "publisher": source["publisher"],
        "published": source["published"],
        "published_precision": source["published_precision"],
        "url": source["url"],
    }


def _every_claim(engine: Engine, filters: ClaimFilters, sort: str) -> Iterator[dict[str, Any]]:
    """All matching claims in keyset batches, each batch on a short-lived connection."""
    after = None
    while True:
        with engine.connect() as conn:
            documents, after = queries.list_claims(conn, filters, sort, CSV_BATCH, after)
        yield from (_csv_row(json.loads(document)) for document in documents)
        if after is None:
            return


async def _page(
    request: Request,
    query: ClaimQuery,
    page: PageParams,
    sort: str,
    facets: list[Facet] | None = None,
) -> Response:
    limit, cursor = page.page_size(request.app.state.settings), page.cursor
    if sort == "relevance" and not query.filters.q:
        raise invalid("sort", "sort=relevance needs a full-text query q", sort)
    reader: Reader = request.app.state.reader
    if csv_requested(request, page.format):
        return csv_response(_every_claim(reader.engine, query.filters, sort), CSV_COLUMNS, "claims")
    try:
        after = Cursor.decode(cursor, sort) if cursor else None
    except InvalidCursor as exc:
        raise invalid("cursor", str(exc), cursor) from exc
    filters = query.filters

    def read(conn: Connection) -> tuple[int, list[str], Cursor | None, dict[str, Any] | None]:
        total = request.app.state.counts.get_or_compute(
            filters, lambda: queries.count_claims(conn, filters)
        )
        # With no match, walking the listing index would visit every claim to find nothing.
        documents, next_cursor = (
            queries.list_claims(conn, filters, sort, limit, after) if total else ([], None)
        )
        counts = queries.facet_counts(conn, filters, facets) if facets else None
        return total, documents, next_cursor, counts

    quick = not (filters.q or facets) and counts_per_source_suffice(filters)
    total, documents, next_cursor, facet_counts = await reader(read, quick)
    token = next_cursor.encode() if next_cursor else None
    next_url = str(request.url.include_query_params(cursor=token)) if token else None
    fields: dict[str, Any] = {
        "total": total,
        "limit": limit,
        "next_cursor": token,
        "next": next_url,
    }
    if facet_counts is not None:
        fields["facets"] = facet_counts
    body = claim_page(documents, query.search_words, **fields)
    return json_response(body, {"Link": f'<{next_url}>; rel="next"'} if next_url else None)


@router.get("/claims", response_model=ClaimPage, responses=CSV_RESPONSES)
async def list_claims(
    request: Request,
    query: Annotated[ClaimQuery, Depends(claim_query)],
    page: Annotated[ClaimPageParams, Depends(_claim_page)],
) -> Any:
    """Claims matching every filter given (repeated values of one filter match any of them).

    With `facet=topic` (or source, country, year of publication, entity, kind) the answer also has
    `facets`: counts for the whole filtered set, e.g. to show "Arctic (12) · Trade (48)".
    CSV (`format=csv`) returns every matching claim, not one page.
    """
    sort = page.sort or ("relevance" if query.filters.q else "id")
    return await _page(request, query, page, sort, list(dict.fromkeys(page.facet)))


@router.get("/timeline", response_model=ClaimPage, responses=CSV_RESPONSES)
async def timeline(
    request: Request,
    query: Annotated[ClaimQuery, Depends(claim_query)],
    page: Annotated[PageParams, Depends(_timeline_page)],
) -> Any:
    """Claims that state the time they are about, in time order (1833, 1927, 1957, … 2021)."""
    dated = ClaimQuery(
        ClaimFilters(**{**query.filters.__dict__, "dated": True}), query.search_words
    )
    return await _page(request, dated, page, "period")


@router.get("/claims/{claim_id}", response_model=ClaimOut, responses=NOT_FOUND)
async def get_claim(
    request: Request,
    claim_id: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120, description="Claim id")],
) -> Response:
    """One claim, with its quote, offsets, source and citation."""
    reader: Reader = request.app.state.reader
    documents = await reader(lambda conn: queries.claim_documents(conn, [claim_id]))
    if not documents:
        raise not_found("claim", claim_id)
    return json_response(documents[0])
