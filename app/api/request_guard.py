"""Requests refused before any route runs: too many or too large headers, or a Host not on the
allow-list; and redirects that point at PUBLIC_BASE_URL (or are relative) instead of at whatever
Host the client sent (Starlette builds its trailing-slash redirects from the Host header).

The server's parser bounds a header block that arrives in pieces; one that arrives whole (up to
a socket read) is measured here, so MAX_HEADER_BYTES holds either way, under any server.

Nothing in an answer is built from the Host header (links come from PUBLIC_BASE_URL or are
relative), so the allow-list is defence in depth, as Starlette's TrustedHostMiddleware is; this
one answers with a problem body like every other error.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response

REDIRECTS = frozenset({301, 302, 303, 307, 308})


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Exact names, or `*.example.org` for any subdomain (Starlette's rule)."""
    for pattern in allowed:
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: list[str],
        max_headers: int,
        max_header_bytes: int,
        public_base_url: str | None,
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes
        self.base = (public_base_url or "").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
        size += sum(len(name) + len(value) + 4 for name, value in headers)
        if len(headers) > self.max_headers or size > self.max_header_bytes:
            detail = (
                f"request headers over the limit ({self.max_headers} headers, "
                f"{self.max_header_bytes} bytes with the request line)"
            )
            response = problem_response(431, detail, scope["path"][:200])
        elif self.allowed_hosts and not host_allowed(_host(headers), self.allowed_hosts):
            response = problem_response(400, "unknown Host header", scope["path"][:200])
        else:
            await self.app(scope, receive, self._redirects_without_host(send))
            return
        await response(scope, receive, send)

    def _redirects_without_host(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in REDIRECTS:
                message["headers"] = [
                    (name, self._location(value) if name == b"location" else value)
                    for name, value in message["headers"]
                ]
            await send(message)

        return wrapped

    def _location(self, value: bytes) -> bytes:
        """`scheme://any-host/path?query` → PUBLIC_BASE_URL + `/path?query` (or just that)."""
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc:
            return value
        return self.base + urlunsplit((b"", b"", parts.path, parts.query, parts.fragment))


def _host(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1").lower()
            if host.startswith("["):  # IPv6 literal: [::1]:8000
                return host.partition("]")[0] + "]"
            return host.split(":")[0]
    return ""
