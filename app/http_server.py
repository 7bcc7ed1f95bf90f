"""uvicorn's h11 protocol with a deadline for a request's headers (slowloris protection).

uvicorn bounds the header block (`h11_max_incomplete_event_size`) but has no header-read timeout:
its keep-alive timer is reset by every byte, so a client that sends one header byte every few
seconds holds a connection, and a slot of LIMIT_CONCURRENCY, forever. Here the clock starts when
the connection opens (and again after each response) and only a complete request line and
headers stop it; when it runs out the connection is closed, with a 408 if part of a request had
arrived (an idle keep-alive connection is closed silently, as clients expect).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


class HeaderDeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol; `header_timeout` (seconds, HEADER_READ_TIMEOUT) is given by
    `with_header_deadline`, which binds it for uvicorn."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the request line and headers are complete

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm()  # waiting for the next request on this connection

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.debug("closing a connection that sent no complete headers in time")
            if self.conn.trailing_data[0]:
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()


def with_header_deadline(header_timeout: float) -> type[asyncio.Protocol]:
    """The protocol class uvicorn is given (`http=`), with the header deadline bound: a partial
    of a module-level class pickles, so workers started by uvicorn receive it too (uvicorn
    only calls it, as it would call the class)."""
    return cast(
        type[asyncio.Protocol], partial(HeaderDeadlineH11Protocol, header_timeout=header_timeout)
    )
