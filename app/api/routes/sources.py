"""GET /v1/sources, /v1/sources/{id} and /v1/topics: what the claims are drawn from and about."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path

from app.api.csv_export import add_csv_twin, csv_response, wants_csv
from app.api.deps import CatalogDep, api_router, not_found
from app.api.schemas import (
    NOT_FOUND,
    SourcePage,
    SourceWithText,
    TopicPage,
    whole_list,
)
from app.terms import SLUG_PATTERN

router = api_router(prefix="/v1")


SOURCE_COLUMNS = [
    "id", "name", "title", "publisher", "country", "url", "published", "published_earliest",
    "published_latest", "published_precision", "published_reason", "provenance_note", "sha256",
    "claims", "evidence",
]  # fmt: skip


@router.get("/sources", response_model=SourcePage, tags=["sources"])
async def list_sources(catalog: CatalogDep, csv: Annotated[bool, Depends(wants_csv)]) -> Any:
    """Every source document with its provenance and claim count."""
    rows = await catalog.sources()
    return csv_response(rows, SOURCE_COLUMNS, "sources") if csv else whole_list(rows)


@router.get(
    "/sources/{source_id}", response_model=SourceWithText, tags=["sources"], responses=NOT_FOUND
)
async def get_source(
    catalog: CatalogDep,
    source_id: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120, description="Source id")],
) -> dict[str, Any]:
    """One source, including its full stored text (claim offsets index into `text`)."""
    row = await catalog.source(source_id)
    if row is None:
        raise not_found("source", source_id)
    return row


@router.get("/topics", response_model=TopicPage, tags=["topics"])
async def list_topics(catalog: CatalogDep, csv: Annotated[bool, Depends(wants_csv)]) -> Any:
    """The controlled topic vocabulary with the number of claims on each topic."""
    rows = await catalog.topics()
    columns = ["id", "name", "description", "aliases", "claims"]
    return csv_response(rows, columns, "topics") if csv else whole_list(rows)


add_csv_twin(router, "/sources", list_sources, "Sources")
add_csv_twin(router, "/topics", list_topics, "Topics")
