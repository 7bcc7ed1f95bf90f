"""Logs: one line per request (with the request id, also sent as X-Request-ID), and one format
for every logger of the process, uvicorn's included: readable lines on a terminal, JSON otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("bilateral.access")

MAX_LOGGED_PATH = 500  # characters of the path (and of the query string) written per request


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return dict(getattr(record, "fields", {}))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """`08:40:01 info  GET /v1/topics 200 1.2 ms` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if "method" in fields:
            query = f"?{fields['query']}" if fields.get("query") else ""
            message = (
                f"{fields['method']} {fields['path']}{query} {fields['status']} "
                f"{fields['duration_ms']} ms"
            )
        else:
            message = record.getMessage()
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname.lower():<7} {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def make_formatter(log_format: str = "auto") -> logging.Formatter:
    """`auto`: console lines when stdout is a terminal, JSON when it is a pipe or a file."""
    console = log_format == "console" or (log_format == "auto" and sys.stdout.isatty())
    return ConsoleFormatter() if console else JsonFormatter()


def configure(level: str, log_format: str = "auto") -> None:
    """Our loggers write to stdout in the chosen format (uvicorn's access log stays off)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(make_formatter(log_format))
    root = logging.getLogger("bilateral")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    logger.handlers[:] = []
    logger.propagate = True


def uvicorn_log_config(level: str, log_format: str = "auto") -> dict[str, Any]:
    """uvicorn's `log_config`: its own lines go through the same formatter as ours."""
    handler = {"handlers": ["stdout"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "bilateral": {"()": "app.api.access_log.make_formatter", "log_format": log_format}
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "bilateral",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {"uvicorn": handler, "bilateral": handler},
    }


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        if not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, capture)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            logger.info(
                "request",
                extra={
                    "fields": {
                        "request_id": correlation_id.get(),
                        "method": scope["method"],
                        "path": scope["path"][:MAX_LOGGED_PATH],
                        "query": query[:MAX_LOGGED_PATH],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": (scope.get("client") or ("", 0))[0],
                    }
                },
            )
