"""The FastAPI application: read-only, versioned under /v1, documented at /docs and /redoc."""

from __future__ import annotations

import re
import secrets

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from app.api import access_log, openapi, problems
from app.api.access_log import AccessLog
from app.api.caching import HttpCaching, ResponseCache
from app.api.csv_export import CSV_LISTS, ExportSlots
from app.api.freshness import DatasetFreshness, cache_directives
from app.api.methods import ReadOnlyMethods
from app.api.metrics import HttpMetrics, RequestMetrics
from app.api.negotiation import offers
from app.api.request_guard import RequestGuard
from app.api.routes import claims, entities, figures, health, index, sources
from app.api.security import SecurityHeaders
from app.catalog import Catalog
from app.core.config import Settings
from app.pagination import CursorSigner

DESCRIPTION = """
Curated, citable facts about U.S.–Canada relations.

Every **claim** carries the verbatim `quote` it rests on, the character offsets (`start`, `end`)
of that quote in the stored source text (`GET /v1/sources/{id}` returns the text), and a summary
of its source (publisher, publication date and its precision, URL when known) plus a ready-made
`citation`. Unknown provenance stays `null`; nothing is guessed.

Every list answers one envelope (`items`, `total`, `limit`, `next_cursor`, `next`); claims and
the timeline are paged with an opaque `cursor` (`next` link in the body and in an RFC 8288
`Link` header). Filters forgive case (`topic=Arctic`, `country=us`, `unit=usd`), accept topic
aliases and comma lists (`topic=arctic,trade`).

Errors are [problem details](https://www.rfc-editor.org/rfc/rfc9457) whose `type` names the
kind (`/problems/unknown-topic`…; `GET /problems` lists them): branch on `type`, not on
`detail`. Unknown parameters and malformed values are a 422; the only ignored parameter is `_`
(a cache-buster). The API is read-only: only GET, HEAD and OPTIONS exist.
"""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# What a browser app on another origin may send and read (conditional requests, paging links,
# request ids for support, when to retry).
CORS_REQUEST_HEADERS = [
    "If-None-Match",
    "If-Modified-Since",
    "X-Request-ID",
    "X-Min-Dataset-Ingested-At",
]
CORS_EXPOSED_HEADERS = [
    "Link",
    "ETag",
    "Last-Modified",
    "X-Request-ID",
    "Retry-After",
    "X-Dataset-Version",
    "X-Dataset-Ingested-At",
]

TAGS = [
    {"name": "claims", "description": "Facts drawn from the sources, filterable and citable."},
    {"name": "sources", "description": "The source documents and their provenance."},
    {"name": "topics", "description": "The controlled topic vocabulary."},
    {"name": "entities", "description": "Organizations, agreements, people… (aliases resolve)."},
    {"name": "figures", "description": "Measurable things several sources state, compared."},
    {"name": "health", "description": "Probes for operators."},
    {"name": "index", "description": "The front door: links to everything else."},
    {"name": "problems", "description": "The kinds of error, one page per problem `type`."},
]


def _acceptable_request_id(value: str) -> bool:
    """Keep a caller's request id if it is a short token; otherwise a new one is made."""
    return bool(_REQUEST_ID.fullmatch(value))


def _cursor_secret(settings: Settings) -> bytes:
    """The configured secret; else one for this process only (`bilateral serve` sets one that
    its workers share, so a cursor works on whichever worker the next request reaches)."""
    if settings.cursor_secret is not None:
        return settings.cursor_secret.get_secret_value().encode()
    return secrets.token_bytes(32)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    access_log.configure(settings.log_level, settings.log_format)
    docs = settings.docs_enabled
    app = FastAPIOffline(
        title="Bilateral Facts",
        version=openapi.api_version(),
        generate_unique_id_function=openapi.operation_id,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # Metrics come from app.api.metrics (Prometheus); OpenTelemetry is off, so FastAPI
        # does not look up its providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    catalog = Catalog.from_settings(settings)
    app.state.catalog = catalog  # routes reach it through app.api.deps.CatalogDep
    app.state.cursors = CursorSigner(_cursor_secret(settings))
    app.state.csv_slots = ExportSlots(settings.csv_concurrency)
    problems.install(app)
    openapi.install(app, settings, openapi.api_version(), catalog)
    routers = (claims, sources, entities, figures, health, index)
    for router in (module.router for module in routers):
        app.include_router(router)
    registry = CollectorRegistry()  # one per app: tests and workers never share counters
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    app.state.metrics_registry = registry
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # The cache keeps what the body and its negotiated representation determine; every layer
    # outside it adds per-request headers (CORS, security, request id) to hits and 304s alike.
    app.add_middleware(
        HttpCaching,
        stamp=catalog.dataset_stamp,
        max_age=settings.cache_max_age,
        responses=ResponseCache(max_entries=settings.response_cache_entries),
        offered=offers(CSV_LISTS),
    )
    # Just outside the cache: names the dataset on hits and 304s too, and refuses (503) to answer
    # a client from a replica older than what it has seen, inside the host, CORS and
    # security-header layers like any other answer.
    app.add_middleware(
        DatasetFreshness,
        catalog=catalog,
        shared_cache=cache_directives(
            settings.cache_s_maxage,
            settings.cache_stale_while_revalidate,
            settings.cache_stale_if_error,
        ),
    )
    # Outside the cache and the freshness check: hits, 304s, 406s and 503 refusals are counted
    # too, under the route template the memo or the router gives (see app.api.metrics).
    app.add_middleware(RequestMetrics, metrics=HttpMetrics.register(registry))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        allow_credentials=False,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        RequestGuard,
        allowed_hosts=settings.trusted_hosts,
        max_headers=settings.max_headers,
        max_header_bytes=settings.max_header_bytes,
        public_base_url=settings.public_base_url,
    )
    app.add_middleware(AccessLog)
    app.add_middleware(
        CorrelationIdMiddleware, header_name="X-Request-ID", validator=_acceptable_request_id
    )
    app.add_middleware(ReadOnlyMethods)
    return app
