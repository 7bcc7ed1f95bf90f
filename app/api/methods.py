"""The API is read-only: HEAD and OPTIONS everywhere, 405 with an Allow header for anything else."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_body, shorten

ALLOW = "GET, HEAD, OPTIONS"


class ReadOnlyMethods:
    """Pure ASGI middleware, so it also covers routes FastAPI would answer with 405 for HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "GET":
            await self.app(scope, receive, send)
        elif method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        elif method == "OPTIONS" and "access-control-request-method" not in _headers(scope):
            await _send(send, 204, b"", [(b"allow", ALLOW.encode())])
        elif method == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflight, answered by CORSMiddleware
        else:
            detail = f"{shorten(method)} is not allowed: this API is read-only"
            body = problem_body("method-not-allowed", detail, scope.get("path"))
            await _send(
                send,
                405,
                body,
                [(b"allow", ALLOW.encode()), (b"content-type", b"application/problem+json")],
            )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _without_body(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return wrapped


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
