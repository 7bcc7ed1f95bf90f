"""Every error is an RFC 9457 problem+json body with a stable `type` per kind, small even when
the input was huge.

Clients branch on `type` (a URI reference such as `/problems/unknown-topic`, served by the API
itself as a description of the kind), never on `detail`, whose wording may change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

logger = logging.getLogger("bilateral.errors")
PROBLEM_JSON = "application/problem+json"
PROBLEM_PATH = "/problems"
MAX_ERRORS = 10
MAX_INPUT_CHARS = 80
MAX_INSTANCE_CHARS = 200
MAX_DETAIL_CHARS = 400
DATE_PARAMETERS = frozenset({"published_from", "published_to", "period_from", "period_to"})


@dataclass(frozen=True)
class ProblemKind:
    """One kind of error: its stable slug, HTTP status and what a client can do about it."""

    slug: str
    status: int
    title: str
    description: str

    @property
    def type(self) -> str:
        return f"{PROBLEM_PATH}/{self.slug}"


KINDS: dict[str, ProblemKind] = {
    kind.slug: kind
    for kind in (
        ProblemKind(
            "unknown-parameter",
            422,
            "Unknown query parameter",
            "The query names a parameter this endpoint does not take (often a typo); `errors[]` "
            "lists the allowed ones. Only `_` (a cache-buster) is ignored.",
        ),
        ProblemKind(
            "invalid-parameter",
            422,
            "Invalid parameter value",
            "A value is malformed, out of range, repeated more than 20 times, or not one of the "
            "allowed values; `errors[].loc` names the parameter.",
        ),
        ProblemKind(
            "invalid-date",
            422,
            "Invalid date",
            "A date parameter is not a calendar date written YYYY-MM-DD.",
        ),
        ProblemKind(
            "unknown-topic",
            422,
            "Unknown topic",
            "No topic has this id or alias; the detail lists the known ids (GET /v1/topics).",
        ),
        ProblemKind(
            "unknown-source",
            422,
            "Unknown source",
            "No source has this id; see GET /v1/sources.",
        ),
        ProblemKind(
            "unknown-entity",
            422,
            "Unknown entity",
            "No entity has this id, name or alias; see GET /v1/entities.",
        ),
        ProblemKind(
            "unknown-unit",
            422,
            "Unknown unit",
            "No claim states a quantity in this unit; the detail lists the known units.",
        ),
        ProblemKind(
            "invalid-cursor",
            422,
            "Invalid cursor",
            "The cursor was not issued by this API, or was issued for another sort order. Start "
            "again from the first page.",
        ),
        ProblemKind(
            "limit-exceeded",
            422,
            "Page size too large",
            "`limit` is above the configured maximum page size (200 unless configured).",
        ),
        ProblemKind(
            "not-found",
            404,
            "Not found",
            "No resource has this id, or the path does not exist.",
        ),
        ProblemKind(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The API is read-only: only GET, HEAD and OPTIONS exist (see the Allow header).",
        ),
        ProblemKind(
            "not-acceptable",
            406,
            "Not acceptable",
            "None of the media types the Accept header allows is offered here.",
        ),
        ProblemKind(
            "invalid-host",
            400,
            "Unknown host",
            "The Host header names a host this server is not configured to answer for.",
        ),
        ProblemKind(
            "headers-too-large",
            431,
            "Request headers too large",
            "The request has too many headers, or too large ones.",
        ),
        ProblemKind(
            "query-timeout",
            503,
            "Query took too long",
            "The query ran past the configured time limit and was stopped; narrow the filters "
            "(Retry-After says when to try again).",
        ),
        ProblemKind(
            "database-unavailable",
            503,
            "Database unavailable",
            "The database did not answer; retry after the Retry-After delay.",
        ),
        ProblemKind(
            "service-unavailable",
            503,
            "Service unavailable",
            "This server cannot answer right now; retry after the Retry-After delay.",
        ),
        ProblemKind(
            "not-ready",
            503,
            "Not ready",
            "The database is unreachable, not migrated, or holds no dataset yet.",
        ),
        ProblemKind(
            "internal-error",
            500,
            "Internal error",
            "A bug on our side; the X-Request-ID header identifies the request in our logs.",
        ),
    )
}
# The kind of an error raised or built by its status alone (HTTPException, pure ASGI layers).
_BY_STATUS = {
    400: "invalid-host",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    422: "invalid-parameter",
    431: "headers-too-large",
    503: "service-unavailable",
}


def kind_of_status(kind: str | int) -> str:
    """A kind's slug, from the slug itself or from an HTTP status."""
    return kind if isinstance(kind, str) else _BY_STATUS.get(kind, "internal-error")


def _status(kind: str | int) -> int:
    """The status a problem is sent with: its kind's, or the one given."""
    return KINDS[kind].status if isinstance(kind, str) else kind


class ApiProblem(HTTPException):
    """An HTTP error of a named kind (raise it from a route; the handler renders it)."""

    def __init__(self, kind: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        self.kind = KINDS[kind]
        super().__init__(self.kind.status, detail, dict(headers) if headers else None)


def shorten(value: str, limit: int = MAX_INPUT_CHARS) -> str:
    """At most `limit` characters of a client's input, marked when cut."""
    return value if len(value) <= limit else value[:limit] + "…"


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return shorten(value)
    if isinstance(value, list | tuple):
        return [_short(v) for v in list(value)[:5]]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _short(str(value))


def problem_body(kind: str | int, detail: str | None, instance: str | None, **extra: Any) -> bytes:
    """The JSON body of a problem of this kind (also used by the pure ASGI middlewares)."""
    known = KINDS[kind_of_status(kind)]
    body: dict[str, Any] = {
        "type": known.type,
        "title": known.title,
        "status": _status(kind),
        "detail": shorten(detail, MAX_DETAIL_CHARS) if detail is not None else None,
        "instance": shorten(instance, MAX_INSTANCE_CHARS) if instance is not None else None,
        **extra,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def problem_response(
    kind: str | int,
    detail: str | None,
    instance: str | None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    extra = {"errors": errors} if errors is not None else {}
    body = problem_body(kind, detail, instance, **extra)
    return Response(body, _status(kind), headers=headers, media_type=PROBLEM_JSON)


def invalid(
    name: str, message: str, value: Any, kind: str = "invalid-parameter"
) -> RequestValidationError:
    """A 422 for one query parameter, in the same shape as FastAPI's own."""
    return RequestValidationError(
        [{"type": kind, "loc": ("query", name), "msg": message, "input": value}]
    )


def _kind_of(error: Mapping[str, Any]) -> str:
    """The problem kind of one validation error (FastAPI's own or ours)."""
    if error.get("type") in KINDS:
        return str(error["type"])
    if error.get("type") == "extra_forbidden":
        return "unknown-parameter"
    loc = list(error.get("loc", ()))
    if len(loc) > 1 and loc[1] in DATE_PARAMETERS:
        return "invalid-date"
    return "invalid-parameter"


def _instance(request: Request) -> str:
    return request.url.path


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    errors = [
        {
            "type": KINDS[_kind_of(e)].type,
            "loc": [_short(p) if isinstance(p, str) else p for p in e.get("loc", ())],
            "msg": shorten(str(e.get("msg", "")), MAX_DETAIL_CHARS),
            "input": _short(e.get("input")),
        }
        for e in raw[:MAX_ERRORS]
    ]
    kind = _kind_of(raw[0]) if raw else "invalid-parameter"
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"][1:]) or "request"
    more = f" (and {len(raw) - 1} more)" if len(raw) > 1 else ""
    return problem_response(kind, f"{where}: {first['msg']}{more}", _instance(request), errors)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind: str | int = exc.kind.slug if isinstance(exc, ApiProblem) else exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(kind, detail, _instance(request), headers=exc.headers)


# Postgres SQLSTATEs of a database the API cannot use yet: undefined table or column (not
# migrated), insufficient privilege (roles not granted).
NOT_SET_UP = frozenset({"42P01", "42703", "42501"})


def _is_timeout(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "interrupted" in message or "statement timeout" in message or "canceling" in message


async def _database(request: Request, exc: Exception) -> Response:
    """A runaway query or an unreachable database is a 503 with a body, never a hang or a 500.

    Only those, and a database not set up for the API yet (no schema, no privileges): a value
    the database refused (DataError) is the request's fault, a 422; any other database error
    is a bug, a 500. Neither is reported as "unavailable".
    """
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, DataError):
        logger.warning("database refused a value: %s", exc.orig)
        detail = "a value in the request is not valid"
        return problem_response("invalid-parameter", detail, _instance(request))
    not_set_up = getattr(exc.orig, "sqlstate", None) in NOT_SET_UP
    if not isinstance(exc, OperationalError | InterfaceError) and not not_set_up:
        return await _unexpected(request, exc)
    if _is_timeout(exc):
        kind, detail = (
            "query-timeout",
            "the query took too long and was stopped; narrow the filters",
        )
    elif not_set_up:
        logger.exception("database not set up", exc_info=exc)
        kind, detail = "not-ready", "the database is not set up for the API yet"
    else:
        logger.exception("database error", exc_info=exc)
        kind, detail = "database-unavailable", "the database is unavailable"
    return problem_response(kind, detail, _instance(request), headers={"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", exc_info=exc)
    return problem_response("internal-error", "internal error", _instance(request))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
