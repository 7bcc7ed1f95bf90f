"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.exc import SQLAlchemyError

from app import queries
from app.api.deps import Conn, strict_query
from app.api.schemas import Health, Problem, Ready

router = APIRouter(tags=["health"], dependencies=[Depends(strict_query)])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, responses={503: {"model": Problem}})
def readyz(conn: Conn) -> dict[str, Any]:
    """The database answers and holds a dataset."""
    try:
        info = queries.dataset_info(conn)
    except SQLAlchemyError as exc:
        raise HTTPException(503, "database unreachable or not migrated") from exc
    if info is None:
        raise HTTPException(503, "no dataset loaded: run `bilateral ingest`")
    return {
        "status": "ready",
        "dataset_version": info["version"],
        "ingested_at": info["ingested_at"],
        "claims": info["claims"],
    }
