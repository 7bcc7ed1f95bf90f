"""Every error is an RFC 9457 problem+json body, small even when the input was huge."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("bilateral.errors")
PROBLEM_JSON = "application/problem+json"
MAX_ERRORS = 10
MAX_INPUT_CHARS = 80


def problem_response(
    status: int,
    detail: str | None,
    instance: str | None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_INPUT_CHARS else value[:MAX_INPUT_CHARS] + "…"
    if isinstance(value, list | tuple):
        return [_short(v) for v in list(value)[:5]]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _short(str(value))


def _instance(request: Request) -> str:
    return request.url.path


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "input": _short(e.get("input"))}
        for e in raw[:MAX_ERRORS]
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"][1:]) or "request"
    more = f" (and {len(raw) - 1} more)" if len(raw) > 1 else ""
    return problem_response(422, f"{where}: {first['msg']}{more}", _instance(request), errors)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(exc.status_code, detail, _instance(request), headers=exc.headers)


# Postgres SQLSTATEs of a database the API cannot use yet: undefined table or column (not
# migrated), insufficient privilege (roles not granted).
NOT_SET_UP = frozenset({"42P01", "42703", "42501"})


def _is_timeout(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "interrupted" in message or "statement timeout" in message or "canceling" in message


async def _database(request: Request, exc: Exception) -> JSONResponse:
    """A runaway query or an unreachable database is a 503 with a body, never a hang or a 500.

    Only those, and a database not set up for the API yet (no schema, no privileges): a value
    the database refused (DataError) is the request's fault, a 422; any other database error
    is a bug, a 500. Neither is reported as "unavailable".
    """
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, DataError):
        logger.warning("database refused a value: %s", exc.orig)
        return problem_response(422, "a value in the request is not valid", _instance(request))
    not_set_up = getattr(exc.orig, "sqlstate", None) in NOT_SET_UP
    if not isinstance(exc, OperationalError | InterfaceError) and not not_set_up:
        return await _unexpected(request, exc)
    if _is_timeout(exc):
        detail = "the query took too long and was stopped; narrow the filters"
    else:
        logger.exception("database error", exc_info=exc)
        detail = "the database is unavailable"
    return problem_response(503, detail, _instance(request), headers={"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem_response(500, "internal error", _instance(request))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
