"""Reads from streaming replicas: how fresh this copy is, and what a client may rely on.

Every /v1 response names the dataset it comes from (`X-Dataset-Version`, the content digest, and
`X-Dataset-Ingested-At`, its ingest time: later means newer). A client that sends the newest
ingest time it has seen as `X-Min-Dataset-Ingested-At` (or a cache revalidating with
`If-Modified-Since`) never gets an older dataset: an instance on a replica that may be behind it
answers 503 with `Retry-After: 1`, so the proxy tries another instance (or serves its newer cached
copy). A copy that cannot be behind (the writer's own database, SQLite, or a replica streaming from
the writer with nothing left to replay) ignores a newer marker: nothing newer exists, so the marker
is bogus, and refusing it would be a 5xx for bad input (and would take healthy instances out of
the proxy's rotation).

The same layer adds the shared-cache directives (`s-maxage`, `stale-while-revalidate`,
`stale-if-error`) to the API's `Cache-Control`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.caching import INGESTED_AT_HEADER, VERSION_HEADER
from app.api.problems import problem_response
from app.catalog import Catalog, DatasetStamp
from app.queries import WRITER_COPY, Replication, replication_status

__all__ = [  # Replication and its reading live with the other SQL (app.queries)
    "WRITER_COPY",
    "DatasetFreshness",
    "Replication",
    "cache_directives",
    "dataset_headers",
    "is_behind",
    "parse_marker",
    "replication_status",
]

MIN_HEADER = "x-min-dataset-ingested-at"
MAX_CLOCK_SKEW = timedelta(seconds=60)  # between the ingest host's clock and ours


def dataset_headers(stamp: DatasetStamp) -> dict[str, str]:
    """The headers that name a dataset: its version and its ingest time (RFC 3339, UTC)."""
    return {VERSION_HEADER: stamp[0], INGESTED_AT_HEADER: _utc(stamp[1]).isoformat()}


def parse_marker(value: str | None, http_date: bool = False) -> datetime | None:
    """An ingest time a client has seen (RFC 3339, or an HTTP-date); malformed → ignored."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value) if http_date else datetime.fromisoformat(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return when if when.tzinfo is not None else None


def is_behind(marker: datetime, ingested_at: datetime, status: Replication, now: datetime) -> bool:
    """Whether this copy must refuse a client that has seen `marker`."""
    if marker <= ingested_at or marker > now + MAX_CLOCK_SKEW:  # not newer, or bogus
        return False
    return not status.caught_up


def cache_directives(s_maxage: int | None, while_revalidate: int, if_error: int) -> str:
    """What a shared cache in front may do: the part appended to `public, max-age=…`."""
    parts = [] if s_maxage is None else [f"s-maxage={s_maxage}"]
    if while_revalidate:
        parts.append(f"stale-while-revalidate={while_revalidate}")
    if if_error:
        parts.append(f"stale-if-error={if_error}")
    return ", ".join(parts)


class DatasetFreshness:
    """Names the dataset on every /v1 response and refuses to go behind what a client saw."""

    def __init__(
        self,
        app: ASGIApp,
        catalog: Catalog,
        shared_cache: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.catalog = catalog
        self.shared_cache = shared_cache
        self.clock = clock

    async def _fresh_look(self) -> tuple[datetime | None, Replication]:
        """The dataset and replication state right now (past the stamp's second)."""
        try:
            ready = await self.catalog.readiness()
        except SQLAlchemyError:  # unreachable: the route answers 503 for that itself
            return None, WRITER_COPY
        info = ready.info
        return (None if info is None else _utc(info["ingested_at"])), ready.replication

    @staticmethod
    def _markers(headers: Headers, ingested_at: datetime) -> list[tuple[datetime, datetime]]:
        """(what the client saw, this copy's ingest time at the same precision) pairs: the
        explicit header has microseconds, an HTTP-date whole seconds."""
        pairs = []
        explicit = parse_marker(headers.get(MIN_HEADER))
        if explicit is not None:
            pairs.append((explicit, ingested_at))
        since = parse_marker(headers.get("if-modified-since"), http_date=True)
        if since is not None:
            pairs.append((since, ingested_at.replace(microsecond=0)))
        return pairs

    def _newer_than(self, headers: Headers, ingested_at: datetime) -> bool:
        return any(seen > own for seen, own in self._markers(headers, ingested_at))

    def _behind(self, headers: Headers, ingested_at: datetime, status: Replication) -> bool:
        now = self.clock()
        pairs = self._markers(headers, ingested_at)
        return any(is_behind(seen, own, status, now) for seen, own in pairs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith("/v1")
        ):
            await self.app(scope, receive, send)
            return
        stamp = await self.catalog.dataset_stamp()
        if stamp is not None and self._newer_than(Headers(scope=scope), _utc(stamp[1])):
            ingested_at, status = await self._fresh_look()
            if ingested_at is not None and self._behind(Headers(scope=scope), ingested_at, status):
                detail = (
                    f"this copy holds the dataset ingested at {ingested_at.isoformat()}; "
                    "you have seen a newer one: retry (another instance)"
                )
                response = problem_response(
                    503,
                    detail,
                    scope["path"],
                    headers={"Retry-After": "1", "Cache-Control": "no-store"},
                )
                await response(scope, receive, send)
                return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start" and stamp is not None:
                out = MutableHeaders(scope=message)
                if VERSION_HEADER not in out:  # else the route named its body's dataset
                    out.update(dataset_headers(stamp))
                control = out.get("cache-control", "")
                if self.shared_cache and control.startswith("public"):
                    out["cache-control"] = f"{control}, {self.shared_cache}"
            await send(message)

        await self.app(scope, receive, send_named)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
