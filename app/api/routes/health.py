"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import CatalogDep, api_router
from app.api.problems import ApiProblem
from app.api.schemas import Health, Ready

router = api_router(tags=["health"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def get_metrics(request: Request) -> Response:
    """Prometheus metrics of this worker (request counts, latencies, process)."""
    registry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", response_model=Health)
async def get_health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Ready,
)
async def get_readiness(catalog: CatalogDep) -> dict[str, Any]:
    """The database answers and holds a dataset; on a replica, how fresh it is (a replica that
    lost its primary stays ready: reads go on with the last dataset)."""
    try:
        ready = await catalog.readiness()
    except SQLAlchemyError as exc:
        raise ApiProblem("not-ready", "database unreachable or not migrated") from exc
    info, replication = ready.info, ready.replication
    if info is None:
        raise ApiProblem("not-ready", "no dataset loaded: run `bilateral ingest`")
    return {
        "status": "ready",
        "dataset_version": info["version"],
        "ingested_at": info["ingested_at"],
        "claims": info["claims"],
        "replica": replication.replica,
        "writer_reachable": replication.writer_reachable,
        "replay_lag_seconds": replication.replay_lag_seconds,
    }
