"""Run a request's reads on one connection: on the event loop for SQLite, in a thread otherwise.

A SQLite read of this read-only dataset is an in-process index walk of well under a
millisecond (and bounded by the query deadline), so handing it to the thread pool costs more
than it saves. A Postgres read waits on the network, so it goes to a thread and the event loop
keeps serving. Either way one request's reads (count, page, facets) share one connection, hence
on Postgres one REPEATABLE READ snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


class Reader:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.on_event_loop = engine.dialect.name == "sqlite"

    def run_blocking(self, read: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return read(conn)

    async def __call__(self, read: Callable[[Connection], T]) -> T:
        if self.on_event_loop:
            return self.run_blocking(read)
        return await run_in_threadpool(self.run_blocking, read)
