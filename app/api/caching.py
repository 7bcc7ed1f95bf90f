"""HTTP caching for a dataset that changes only at ingest: ETag, Last-Modified, 304s, and an
in-process response cache.

A response is a pure function of (dataset version, path, query string, requested format), so
the validator is computed before the route runs: a matching If-None-Match is answered 304
without touching the query at all, and a repeated request is answered from memory (the key
holds the dataset version, so a new ingest makes old entries unreachable; LRU evicts them).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.lru import Lru

DatasetStamp = tuple[str, datetime]
UNCACHED_PREFIXES = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/static")


class DatasetStampCache:
    """(version, ingested_at) of the loaded dataset, re-read at most every `ttl` seconds."""

    def __init__(self, load: Callable[[], DatasetStamp | None], ttl: float = 1.0) -> None:
        self._load = load
        self._ttl = ttl
        self._value: DatasetStamp | None = None
        self._read_at = float("-inf")

    def get(self) -> DatasetStamp | None:
        now = time.monotonic()
        if now - self._read_at > self._ttl:
            try:
                self._value = self._load()
            except Exception:  # database down: serve without validators, /readyz reports it
                self._value = None
            self._read_at = now
        return self._value


def _etag(version: str, scope: Scope, headers: Headers) -> str:
    variant = "csv" if "text/csv" in headers.get("accept", "") else ""
    key = f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}#{variant}"
    return f'W/"{version}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def _not_modified_since(if_modified_since: str, ingested_at: datetime) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return ingested_at.replace(microsecond=0) <= since


class ResponseCache:
    """Least-recently-used complete responses, bounded in entries and in body size."""

    def __init__(self, max_entries: int = 2048, max_body: int = 512 * 1024) -> None:
        self.max_body = max_body
        self._items: Lru[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = Lru(max_entries)

    def get(self, key: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        return self._items.get(key)

    def put(self, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if len(body) <= self.max_body:
            self._items.put(key, (status, headers, body))


class HttpCaching:
    def __init__(
        self,
        app: ASGIApp,
        stamps: DatasetStampCache,
        max_age: int,
        responses: ResponseCache | None = None,
    ) -> None:
        self.app = app
        self.stamps = stamps
        self.max_age = max_age
        self.responses = responses or ResponseCache()
        self._validators: tuple[DatasetStamp, dict[str, str]] | None = None

    def _validators_of(self, stamp: DatasetStamp) -> dict[str, str]:
        """The validators every response of one dataset version shares, formatted once."""
        if self._validators is None or self._validators[0] != stamp:
            self._validators = (
                stamp,
                {
                    "last-modified": format_datetime(stamp[1], usegmt=True),
                    "cache-control": f"public, max-age={self.max_age}",
                    "vary": "Accept, Accept-Encoding, Origin",
                },
            )
        return self._validators[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"].startswith(UNCACHED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        stamp = self.stamps.get()
        if stamp is None:
            await self.app(scope, receive, send)
            return
        version, ingested_at = stamp
        request_headers = Headers(scope=scope)
        etag = _etag(version, scope, request_headers)
        validators = {"etag": etag, **self._validators_of(stamp)}
        if_none_match = request_headers.get("if-none-match")
        if (if_none_match and _matches(if_none_match, etag)) or (
            not if_none_match
            and "if-modified-since" in request_headers
            and _not_modified_since(request_headers["if-modified-since"], ingested_at)
        ):
            raw = [(k.encode(), v.encode()) for k, v in validators.items()]
            await send({"type": "http.response.start", "status": 304, "headers": raw})
            await send({"type": "http.response.body", "body": b""})
            return

        cache_key = "|".join(
            (etag, request_headers.get("accept-encoding", ""), request_headers.get("origin", ""))
        )
        cached = self.responses.get(cache_key)
        if cached is not None:
            status, raw_headers, body = cached
            await send({"type": "http.response.start", "status": status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": body})
            return
        start: Message | None = None
        chunks: list[bytes] | None = []

        async def send_with_validators(message: Message) -> None:
            nonlocal start, chunks
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    headers = MutableHeaders(scope=message)
                    for key, value in validators.items():
                        headers[key] = value
                    start = message
                else:
                    chunks = None
            elif message["type"] == "http.response.body" and chunks is not None:
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > self.responses.max_body:
                    chunks = None  # too big to keep (e.g. a CSV export): just pass it on
                elif not message.get("more_body", False) and start is not None:
                    body = b"".join(chunks)
                    self.responses.put(cache_key, 200, list(start["headers"]), body)
            await send(message)

        await self.app(scope, receive, send_with_validators)


class CountCache:
    """Totals per filter set, valid for one dataset version (counting is the costly part of a
    page, and it does not change between ingests)."""

    def __init__(self, stamps: DatasetStampCache, max_entries: int = 4096) -> None:
        self.stamps = stamps
        self._items: Lru[tuple[object, object], int] = Lru(max_entries)

    def get_or_compute(self, key: object, compute: Callable[[], int]) -> int:
        stamp = self.stamps.get()
        if stamp is None:
            return compute()
        full_key = (stamp[0], key)
        value = self._items.get(full_key)
        if value is None:
            value = compute()
            self._items.put(full_key, value)
        return value
