"""Request-scoped dependencies shared by the routes: the catalog (every read of the dataset)
and strict parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from app.api.problems import ApiProblem, invalid, shorten
from app.catalog import Catalog
from app.core.config import Settings
from app.pagination import MAX_CURSOR_LENGTH
from app.params import MAX_REPEATS as MAX_REPEATS  # re-exported for the routes
from app.params import CommaList as CommaList

CACHE_BUSTER = "_"  # ignored anywhere, so `?_=<timestamp>` (jQuery's cache: false) works


async def settings(request: Request) -> Settings:
    current: Settings = request.app.state.settings
    return current


async def catalog(request: Request) -> Catalog:
    """The one way routes read the dataset (built once, in create_app)."""
    found: Catalog = request.app.state.catalog
    return found


CatalogDep = Annotated[Catalog, Depends(catalog)]
AppSettings = Annotated[Settings, Depends(settings)]

_ALLOWED: dict[int, frozenset[str]] = {}


def _allowed_params(route: APIRoute) -> frozenset[str]:
    key = id(route)
    if key not in _ALLOWED:
        _ALLOWED[key] = frozenset(_query_names(route.dependant))
    return _ALLOWED[key]


def _query_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for param in dependant.query_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):  # a query parameter model
            names |= {field.alias or name for name, field in model.model_fields.items()}
        else:
            names.add(param.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def strict_query(request: Request) -> None:
    """Unknown or over-repeated query parameters are errors, not silently ignored.

    Dependencies that do no I/O are `async def`: FastAPI runs them on the event loop instead of
    handing each one to the thread pool.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _allowed_params(route)
    errors = []
    for name in set(request.query_params.keys()):
        if name == CACHE_BUSTER:
            continue
        if name not in allowed:
            errors.append(
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name[:40]),
                    "msg": f"unknown parameter; allowed: {', '.join(sorted(allowed)) or 'none'}"
                    f" (and {CACHE_BUSTER}, a cache-buster)",
                    "input": request.query_params.get(name),
                }
            )
        elif len(request.query_params.getlist(name)) > MAX_REPEATS:
            errors.append(
                {
                    "type": "too_long",
                    "loc": ("query", name),
                    "msg": f"repeated more than {MAX_REPEATS} times",
                    "input": None,
                }
            )
    if errors:
        raise RequestValidationError(errors)


class PageParams(BaseModel):
    """Paging of a claim list, one query model (see ClaimFilterParams for why)."""

    limit: int | None = Field(
        None, ge=1, le=1000, description="Page size (default 50, at most 200 unless configured)"
    )
    cursor: str | None = Field(
        None, max_length=MAX_CURSOR_LENGTH, description="next_cursor from the previous page"
    )

    def page_size(self, config: Settings) -> int:
        """The requested page size, checked against the configured maximum."""
        if self.limit is None:
            return min(config.default_page_size, config.max_page_size)
        if self.limit > config.max_page_size:
            raise invalid(
                "limit",
                f"Input should be less than or equal to {config.max_page_size}",
                self.limit,
                "limit-exceeded",
            )
        return self.limit


def not_found(kind: str, ident: str) -> HTTPException:
    return ApiProblem("not-found", f"no {kind} with id {shorten(ident)!r}")


def api_router(**kwargs: Any) -> APIRouter:
    """Every router: unknown parameters rejected, common error responses documented."""
    from app.api.schemas import COMMON_ERRORS

    return APIRouter(dependencies=[Depends(strict_query)], responses=COMMON_ERRORS, **kwargs)
