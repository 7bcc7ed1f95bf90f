"""HTTP caching for a dataset that changes only at ingest: ETag, Last-Modified, 304s, and an
in-process response cache.

A response is a pure function of (dataset version, path, query string, negotiated
representation): links in bodies come from PUBLIC_BASE_URL or are relative, never from the
request's Host. So the validator is computed before the route runs: a matching If-None-Match
is answered 304 without touching the query at all, and a repeated request is answered from
memory (the key holds the dataset version, so a new ingest makes old entries unreachable; LRU
evicts them). The version is the catalog's dataset stamp, re-read once a second: a route whose
body comes from a newer dataset (read just after an ingest) says so in `X-Dataset-Version`, and
the answer then gets that dataset's validators and is not kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.negotiation import MEDIA_TYPES, negotiate, offered_for
from app.api.problems import problem_response
from app.catalog import DatasetStamp
from app.lru import Lru

StampSource = Callable[[], Awaitable[DatasetStamp | None]]
# The headers naming the dataset a body was read from (app.api.freshness adds them to every /v1
# answer; a route that knows its body's dataset sets them itself).
VERSION_HEADER = "x-dataset-version"
INGESTED_AT_HEADER = "x-dataset-ingested-at"
UNCACHED_PREFIXES = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/static")


def _etag(version: str, scope: Scope, chosen: str) -> str:
    key = f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}#{chosen}"
    return f'W/"{version}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.removeprefix("W/") in candidates


def _not_modified_since(if_modified_since: str, ingested_at: datetime) -> bool:
    """False for a date that cannot be read: RFC 9110 §13.1.3 says to ignore it then."""
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, OverflowError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return ingested_at.replace(microsecond=0) <= since


class ResponseCache:
    """Least-recently-used complete responses, bounded in entries and in body size."""

    def __init__(self, max_entries: int = 2048, max_body: int = 512 * 1024) -> None:
        self.max_body = max_body
        self._items: Lru[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = Lru(max_entries)
        # Requests answered from memory: lets a test prove it reached the database.
        self.hits: int = 0

    def get(self, key: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        found = self._items.get(key)
        if found is not None:
            self.hits += 1
        return found

    def put(self, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if len(body) <= self.max_body:
            self._items.put(key, (status, headers, body))


async def _not_modified(send: Send, validators: dict[str, str]) -> None:
    raw = [(k.encode(), v.encode()) for k, v in validators.items()]
    await send({"type": "http.response.start", "status": 304, "headers": raw})
    await send({"type": "http.response.body", "body": b""})


def _precondition_holds(request_headers: Headers, etag: str, ingested_at: datetime) -> bool:
    """Whether a 200 with these validators is answered 304 instead (RFC 9110 §13.2.2: with
    If-None-Match, If-Modified-Since is not consulted)."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return _matches(if_none_match, etag) or any(
            tag.strip() == "*" for tag in if_none_match.split(",")
        )
    since = request_headers.get("if-modified-since")
    return since is not None and _not_modified_since(since, ingested_at)


def _body_stamp(headers: MutableHeaders) -> DatasetStamp | None:
    """The dataset a route says its body was read from, if it says so."""
    version = headers.get(VERSION_HEADER)
    ingested_at = headers.get(INGESTED_AT_HEADER)
    if version is None or ingested_at is None:
        return None
    try:
        return version, datetime.fromisoformat(ingested_at)
    except ValueError:
        return None


class HttpCaching:
    """Negotiation, validators, 304s and the response cache, for every cacheable GET.

    Sits inside the layers that add per-request headers (request id, CORS): what it keeps is
    only what the body and its representation determine, so a hit never replays another
    client's headers.
    """

    def __init__(
        self,
        app: ASGIApp,
        stamp: StampSource,
        max_age: int,
        responses: ResponseCache | None = None,
        offered: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.app = app
        self.stamp = stamp
        self.max_age = max_age
        self.responses = responses or ResponseCache()
        self.offered = offered if offered is not None else {}
        self._validators: tuple[DatasetStamp, dict[str, str]] | None = None

    def _validators_of(self, stamp: DatasetStamp) -> dict[str, str]:
        """The validators every response of one dataset version shares, formatted once."""
        if self._validators is None or self._validators[0] != stamp:
            self._validators = (
                stamp,
                {
                    "last-modified": format_datetime(stamp[1], usegmt=True),
                    "cache-control": f"public, max-age={self.max_age}",
                    "vary": "Accept, Accept-Encoding",
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
        offered = offered_for(self.offered, scope["path"])
        chosen = negotiate(scope, offered)
        if chosen is None:
            names = " or ".join(MEDIA_TYPES[name] for name in offered)
            response = problem_response(
                406, f"this resource is available as {names} only", scope["path"][:200]
            )
            response.headers["vary"] = "Accept"
            await response(scope, receive, send)
            return
        stamp = await self.stamp()
        if stamp is None:
            await self.app(scope, receive, send)
            return
        version, ingested_at = stamp
        request_headers = Headers(scope=scope)
        etag = _etag(version, scope, chosen)
        validators = {"etag": etag, **self._validators_of(stamp)}
        if_none_match = request_headers.get("if-none-match")
        # A matching tag can only come from a 200 of this version: answer without the route.
        # `*` and If-Modified-Since hold only if the URL has a representation at all, i.e. the
        # route answers 200; a 404 or 422 is passed on as it is.
        if if_none_match is not None and _matches(if_none_match, etag):
            await _not_modified(send, validators)
            return
        not_modified_if_found = _precondition_holds(request_headers, etag, ingested_at)

        cache_key = f"{etag}|{request_headers.get('accept-encoding', '')}"
        cached = self.responses.get(cache_key)
        if cached is not None:
            if not_modified_if_found:
                await _not_modified(send, validators)
                return
            status, raw_headers, body = cached
            start = {"type": "http.response.start", "status": status, "headers": list(raw_headers)}
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return

        def revalidated(body: DatasetStamp) -> tuple[dict[str, str], bool]:
            """Validators and precondition for a body read from a newer dataset than the stamp
            (an ingest committed within the stamp's second)."""
            tag = _etag(body[0], scope, chosen)
            named = {VERSION_HEADER: body[0], INGESTED_AT_HEADER: body[1].isoformat()}
            found = {"etag": tag, **self._validators_of(body), **named}
            return found, _precondition_holds(request_headers, tag, body[1])

        keeping = self._keeping(
            send, cache_key, stamp, validators, not_modified_if_found, revalidated
        )
        await self.app(scope, receive, keeping)

    def _keeping(
        self,
        send: Send,
        cache_key: str,
        stamp: DatasetStamp,
        validators: dict[str, str],
        not_modified: bool,
        revalidated: Callable[[DatasetStamp], tuple[dict[str, str], bool]],
    ) -> Send:
        """A `send` that adds the validators to a 200, keeps it for later and, when the
        request's precondition holds, answers 304 instead of the body. A body that names
        another dataset than `stamp` gets that dataset's validators and is not kept (its key
        names the stamp's version)."""
        headers_kept: list[tuple[bytes, bytes]] | None = None
        chunks: list[bytes] | None = []
        size = 0
        passing = False

        async def wrapped(message: Message) -> None:
            nonlocal headers_kept, chunks, size, passing, validators, not_modified
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    passing = True
                    await send(message)
                    return
                headers = MutableHeaders(scope=message)
                body_stamp = _body_stamp(headers)
                if body_stamp is not None and body_stamp[0] != stamp[0]:
                    validators, not_modified = revalidated(body_stamp)
                    chunks = None
                for key, value in validators.items():
                    headers[key] = value
                headers_kept = list(message["headers"])  # before outer layers add theirs
                if not not_modified:
                    await send(message)
                return
            if passing or message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if chunks is not None:
                chunks.append(body)
                size += len(body)
                if size > self.responses.max_body:
                    chunks = None  # too big to keep (e.g. a CSV export): just pass it on
                elif not more and headers_kept is not None:
                    self.responses.put(cache_key, 200, headers_kept, b"".join(chunks))
            if not not_modified:
                await send(message)
            elif not more:
                await _not_modified(send, validators)

        return wrapped
