"""GET / and /v1 (a front door: where everything is) and /problems (what each error type means)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request

from app.api.deps import CatalogDep, api_router, not_found
from app.api.openapi import api_version
from app.api.problems import KINDS, PROBLEM_PATH, ProblemKind
from app.api.schemas import NOT_FOUND, ApiIndex, ErrorKind, ErrorKindPage, whole_list
from app.catalog import Catalog

router = api_router()
COLLECTIONS = ("claims", "timeline", "sources", "topics", "entities", "figures")


async def _index(request: Request, catalog: Catalog) -> dict[str, Any]:
    stamp = await catalog.dataset_stamp()
    links = {name: f"/v1/{name}" for name in COLLECTIONS}
    links["problems"] = PROBLEM_PATH
    if request.app.openapi_url:
        links |= {"openapi": request.app.openapi_url, "docs": "/docs", "redoc": "/redoc"}
    links |= {"health": "/healthz", "ready": "/readyz"}
    return {
        "name": request.app.title,
        "api_version": api_version(),
        "dataset_version": stamp[0] if stamp else None,
        "links": links,
    }


@router.get("/", response_model=ApiIndex, tags=["index"])
async def get_root(request: Request, catalog: CatalogDep) -> dict[str, Any]:
    """The front door: links to every collection, the docs and the loaded dataset's version."""
    return await _index(request, catalog)


@router.get("/v1", response_model=ApiIndex, tags=["index"])
async def get_index(request: Request, catalog: CatalogDep) -> dict[str, Any]:
    """The index of version 1 (the same links as `/`)."""
    return await _index(request, catalog)


def _problem_type(kind: ProblemKind) -> dict[str, Any]:
    return {
        "type": kind.type,
        "title": kind.title,
        "status": kind.status,
        "description": kind.description,
    }


@router.get(PROBLEM_PATH, response_model=ErrorKindPage, tags=["problems"])
async def list_problem_types() -> dict[str, Any]:
    """Every kind of error (`type` of a problem body), its status and what to do about it."""
    return whole_list([_problem_type(kind) for kind in KINDS.values()])


@router.get(
    PROBLEM_PATH + "/{kind}", response_model=ErrorKind, tags=["problems"], responses=NOT_FOUND
)
async def get_problem_type(
    kind: Annotated[str, Path(max_length=40, description="The last segment of a problem type")],
) -> dict[str, Any]:
    """One kind of error: the page a problem's `type` URI points to."""
    if kind not in KINDS:
        raise not_found("problem type", kind)
    return _problem_type(KINDS[kind])
