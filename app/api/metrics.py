"""Prometheus request metrics: a lean ASGI middleware with the series the
prometheus-fastapi-instrumentator exported by default, so dashboards keep working.

The instrumentator re-matched every request against all routes before the app ran and built
Request/Response objects per request (~110 µs, ~8% of a cache miss). Here the route template
is read after the app ran from what the router left in the scope (`scope["route"]`); a request
answered before the router (a cache hit, a 304, a 406) takes its template from a memo of the
paths already routed, and only a path never routed here is matched against the routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Summary
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.lru import Lru

# The instrumentator's defaults (v8.1): many buckets without labels, few with them.
HIGHR_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5,
    10, 30, 60, float("inf"),
)  # fmt: skip
LOWR_BUCKETS = (0.1, 0.5, 1, float("inf"))
# The handler label of a path no route matches (bounded cardinality, as the instrumentator's
# should_group_untemplated did).
UNMATCHED = "none"
_UNSEEN: Any = object()


@dataclass(frozen=True)
class HttpMetrics:
    """The request metric families, registered once per app registry."""

    requests: Counter
    request_size: Summary
    response_size: Summary
    latency_highr: Histogram
    latency: Histogram

    @classmethod
    def register(cls, registry: CollectorRegistry) -> HttpMetrics:
        """Names, help texts, labels and buckets as the instrumentator's `metrics.default()`."""
        return cls(
            requests=Counter(
                "http_requests_total",
                "Total number of requests by method, status and handler.",
                ("method", "status", "handler"),
                registry=registry,
            ),
            request_size=Summary(
                "http_request_size_bytes",
                "Content length of incoming requests by handler. Only value of header is "
                "respected. Otherwise ignored. No percentile calculated. ",
                ("handler",),
                registry=registry,
            ),
            response_size=Summary(
                "http_response_size_bytes",
                "Content length of outgoing responses by handler. Only value of header is "
                "respected. Otherwise ignored. No percentile calculated. ",
                ("handler",),
                registry=registry,
            ),
            latency_highr=Histogram(
                "http_request_duration_highr_seconds",
                "Latency with many buckets but no API specific labels. Made for more accurate "
                "percentile calculations. ",
                buckets=HIGHR_BUCKETS,
                registry=registry,
            ),
            latency=Histogram(
                "http_request_duration_seconds",
                "Latency with only few buckets by handler. Made to be only used if aggregation "
                "by handler is important. ",
                ("method", "handler"),
                buckets=LOWR_BUCKETS,
                registry=registry,
            ),
        )


@dataclass(frozen=True)
class _Series:
    """The labelled children of one (handler, method, status group): `.labels()` takes a lock
    and builds a key on every call, so each combination is looked up once."""

    requests: Any
    request_size: Any
    response_size: Any
    latency: Any


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """The Content-Length header's value, 0 when absent or unreadable."""
    for key, value in headers:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _flat_routes(routes: Iterable[BaseRoute]) -> list[Any]:
    """Directly matchable routes: FastAPI keeps an included router as one entry whose
    `effective_route_contexts()` yields its routes with their full paths."""
    flat: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            flat.extend(getattr(c, "starlette_route", None) or c for c in contexts())
        else:
            flat.append(route)
    return flat


def _template_of(route: Any) -> str | None:
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    return path if isinstance(path, str) else None


class RequestMetrics:
    """Counts, sizes and latencies of every HTTP request under its route template.

    Place it outside the response cache so hits and 304s are counted too; handlers matching
    `excluded` (a substring of the template, e.g. /metrics itself) are not recorded.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: HttpMetrics,
        excluded: tuple[str, ...] = ("/metrics",),
        memo_entries: int = 4096,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.excluded = excluded
        self._templates: Lru[str, str] = Lru(memo_entries)
        self._series: dict[tuple[str, str, str], _Series | None] = {}
        self._routes: list[Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        root_path = scope.get("root_path", "")  # a Mount the router enters extends it
        status = 500
        response_size = 0

        async def measured(message: Message) -> None:
            nonlocal status, response_size
            if message["type"] == "http.response.start":
                status = message["status"]
                response_size = _content_length(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, measured)
        finally:
            duration = max(perf_counter() - start, 0.0)
            self._record(scope, root_path, status, response_size, duration)

    def _record(
        self, scope: Scope, root_path: str, status: int, response_size: int, duration: float
    ) -> None:
        key = (self._handler(scope, root_path), scope["method"], f"{int(status) // 100}xx")
        series = self._series.get(key, _UNSEEN)
        if series is _UNSEEN:
            series = self._series[key] = self._children(*key)
        if series is None:  # excluded
            return
        series.requests.inc()
        series.request_size.observe(_content_length(scope["headers"]))
        series.response_size.observe(response_size)
        self.metrics.latency_highr.observe(duration)
        series.latency.observe(duration)

    def _children(self, handler: str, method: str, status: str) -> _Series | None:
        """The series of a combination, None when its handler is excluded."""
        if any(part in handler for part in self.excluded):
            return None
        m = self.metrics
        return _Series(
            requests=m.requests.labels(method, status, handler),
            request_size=m.request_size.labels(handler),
            response_size=m.response_size.labels(handler),
            latency=m.latency.labels(method, handler),
        )

    def _handler(self, scope: Scope, root_path: str) -> str:
        """The route template that answered, or UNMATCHED. The router leaves its APIRoute in
        the scope; without one (answered before the router, or a plain Starlette route such as
        /openapi.json) the memo, then the routes themselves, say which template the path is."""
        path: str = scope["path"]
        template = _template_of(scope.get("route"))
        if template is not None:
            self._templates.put(path, template)
            return template
        template = self._templates.get(path)
        if template is None:
            template = self._match({**scope, "root_path": root_path})
            if template is None:
                return UNMATCHED
            self._templates.put(path, template)
        return template

    def _match(self, scope: Scope) -> str | None:
        """A full match's template, else the first partial one's (a wrong method)."""
        if self._routes is None:
            router = getattr(scope.get("app"), "router", None)
            self._routes = _flat_routes(getattr(router, "routes", ()))
        partial: str | None = None
        for route in self._routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return _template_of(route)
            if match == Match.PARTIAL and partial is None:
                partial = _template_of(route)
        return partial
