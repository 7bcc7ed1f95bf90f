"""GET /v1/sources, /v1/sources/{id} and /v1/topics: what the claims are drawn from and about."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from app import queries
from app.api.deps import Conn, not_found, strict_query
from app.api.schemas import ERRORS, Source, SourceWithText, TopicOut

router = APIRouter(prefix="/v1", dependencies=[Depends(strict_query)])


@router.get("/sources", response_model=list[Source], tags=["sources"])
def list_sources(conn: Conn) -> list[dict[str, Any]]:
    """Every source document with its provenance and claim count."""
    return queries.list_sources(conn)


@router.get(
    "/sources/{source_id}", response_model=SourceWithText, tags=["sources"], responses=ERRORS
)
def get_source(
    conn: Conn, source_id: Annotated[str, Path(max_length=120, description="Source id")]
) -> dict[str, Any]:
    """One source, including its full stored text (claim offsets index into `text`)."""
    row = queries.get_source(conn, source_id)
    if row is None:
        raise not_found("source", source_id)
    return row


@router.get("/topics", response_model=list[TopicOut], tags=["topics"])
def list_topics(conn: Conn) -> list[dict[str, Any]]:
    """The controlled topic vocabulary with the number of claims on each topic."""
    return queries.list_topics(conn)
