"""GET /v1/claims, /v1/claims/{id} and /v1/timeline: the facts, filtered, paged and citable."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response
from pydantic import Field

from app.api.claim_query import ClaimQuery, claim_query
from app.api.csv_export import add_csv_twin, csv_page, wants_csv
from app.api.deps import MAX_REPEATS, CatalogDep, CommaList, PageParams, api_router, not_found
from app.api.freshness import dataset_headers
from app.api.present import claim_page, json_response, link_header, page_link
from app.api.problems import ApiProblem, invalid
from app.api.schemas import NOT_FOUND, ClaimOut, ClaimPage
from app.catalog import Catalog, version_of
from app.filters import ClaimFilters
from app.pagination import Cursor, CursorSigner, InvalidCursor
from app.search import EstimatedTotal
from app.terms import SLUG_PATTERN

router = api_router(prefix="/v1", tags=["claims"])

Sort = Literal["relevance", "id", "-id", "published", "-published", "period", "-period"]
Facet = Literal["topic", "source", "country", "year", "entity", "kind"]


class ClaimPageParams(PageParams):
    sort: Sort | None = Field(
        None,
        description="Order; '-' for descending; `published` orders by the "
        "publication date interval's first day, then its last, then claim id; unknown dates "
        "sort last either way. Default: relevance with q, else id",
    )
    facet: CommaList[Facet] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Add counts per value of this facet for the current filter (repeat or "
        "comma-separate)",
    )


# Dependencies (not plain parameters) so the docs list paging after the filters.
async def _claim_page(page: Annotated[ClaimPageParams, Query()]) -> ClaimPageParams:
    return page


async def _timeline_page(page: Annotated[PageParams, Query()]) -> PageParams:
    return page


CSV_COLUMNS = [
    "id", "kind", "part_of", "statement", "quote", "start", "end", "topics", "entities",
    "period_text", "period_start", "period_end", "quantities", "source_id", "source_name",
    "publisher", "published", "published_earliest", "published_latest", "published_precision",
    "url", "citation",
]  # fmt: skip


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
        "published_earliest": source["published_earliest"],
        "published_latest": source["published_latest"],
        "published_precision": source["published_precision"],
        "url": source["url"],
    }


def _claim_rows(
    catalog: Catalog, filters: ClaimFilters, sort: str
) -> Callable[[Cursor | None, int], Awaitable[tuple[list[dict[str, Any]], Cursor | None]]]:
    """A reader of CSV rows in keyset batches."""

    async def read(after: Cursor | None, count: int) -> tuple[list[dict[str, Any]], Cursor | None]:
        documents, next_cursor = await catalog.claim_batch(filters, sort, after, count)
        return [_csv_row(json.loads(document)) for document in documents], next_cursor

    return read


async def _page(
    request: Request,
    catalog: Catalog,
    query: ClaimQuery,
    page: PageParams,
    sort: str,
    csv: bool,
    facets: list[Facet] | None = None,
) -> Response:
    settings = request.app.state.settings
    if sort == "relevance" and not query.filters.q:
        raise invalid("sort", "sort=relevance needs a full-text query q", sort)
    signer: CursorSigner = request.app.state.cursors
    version = version_of(await catalog.dataset_stamp()) or ""
    if page.cursor and not version:  # cannot check the cursor: say so, do not call it forged
        raise ApiProblem("not-ready", "the dataset version cannot be read", {"Retry-After": "1"})
    try:
        after = signer.decode(page.cursor, sort, version) if page.cursor else None
    except InvalidCursor as exc:
        raise invalid("cursor", str(exc), page.cursor, "invalid-cursor") from exc
    filters = query.filters
    if csv:
        rows = min(page.limit or settings.csv_max_rows, settings.csv_max_rows)
        read_rows = _claim_rows(catalog, filters, sort)
        name = "timeline" if filters.dated else "claims"
        return await csv_page(
            request, CSV_COLUMNS, name, read_rows, after, rows, lambda c: signer.encode(c, version)
        )
    limit = page.page_size(settings)
    found = await catalog.claims_page(filters, sort, limit, after, facets or ())
    # The page names the dataset it was read from: just after an ingest that may be newer
    # than the stamp the cursor was checked with (the next cursor is signed for the page's).
    if found.stamp is not None:
        version = found.stamp[0]
    token = signer.encode(found.next_cursor, version) if found.next_cursor else None
    next_url = page_link(request, cursor=token) if token else None
    fields: dict[str, Any] = {
        "total": found.total,
        "limit": limit,
        "next_cursor": token,
        "next": next_url,
    }
    if isinstance(found.total, EstimatedTotal):  # only then: other answers keep their shape
        fields["total_is_estimate"] = True
    if found.facets is not None:
        fields["facets"] = found.facets
    body = claim_page(found.documents, query.search_words, **fields)
    named = dataset_headers(found.stamp) if found.stamp is not None else {}
    return json_response(body, {**link_header(next_url), **named})


@router.get("/claims", response_model=ClaimPage)
async def list_claims(
    request: Request,
    catalog: CatalogDep,
    query: Annotated[ClaimQuery, Depends(claim_query)],
    page: Annotated[ClaimPageParams, Depends(_claim_page)],
    csv: Annotated[bool, Depends(wants_csv)],
) -> Any:
    """Claims matching every filter given (repeated values of one filter match any of them).

    With `facet=topic` (or source, country, year of publication, entity, kind) the answer also has
    `facets`: counts for the whole filtered set, e.g. to show "Arctic (12) · Trade (48)".
    As CSV: `/v1/claims.csv`, in pages of up to CSV_MAX_ROWS rows.
    """
    sort = page.sort or ("relevance" if query.filters.q else "id")
    facets = list(dict.fromkeys(page.facet))
    return await _page(request, catalog, query, page, sort, csv, facets)


@router.get("/timeline", response_model=ClaimPage)
async def get_timeline(
    request: Request,
    catalog: CatalogDep,
    query: Annotated[ClaimQuery, Depends(claim_query)],
    page: Annotated[PageParams, Depends(_timeline_page)],
    csv: Annotated[bool, Depends(wants_csv)],
) -> Any:
    """Claims that state the time they are about, in time order (1833, 1927, 1957, … 2021)."""
    dated = ClaimQuery(query.filters.with_dated(), query.search_words)
    return await _page(request, catalog, dated, page, "period", csv)


add_csv_twin(router, "/claims", list_claims, "Claims")
add_csv_twin(router, "/timeline", get_timeline, "The timeline")


@router.get("/claims/{claim_id}", response_model=ClaimOut, responses=NOT_FOUND)
async def get_claim(
    catalog: CatalogDep,
    claim_id: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120, description="Claim id")],
) -> Response:
    """One claim, with its quote, offsets, source and citation."""
    document = await catalog.claim(claim_id)
    if document is None:
        raise not_found("claim", claim_id)
    return json_response(document)
