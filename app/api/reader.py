"""Run a request's reads on one connection: on the event loop for quick SQLite reads, in a
thread otherwise.

A quick SQLite read of this read-only dataset (an index walk for one page) takes well under a
millisecond, so handing it to the thread pool costs more than it saves. A read that may scan
(full text, a count the ingest did not precompute, facets) goes to a thread, where SQLite
releases the GIL, so one slow request does not stall the others; so does every Postgres read,
which waits on the network. Either way one request's reads (count, page, facets) share one
connection, hence on Postgres one REPEATABLE READ snapshot.
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

    async def __call__(self, read: Callable[[Connection], T], quick: bool = True) -> T:
        if quick and self.on_event_loop:
            return self.run_blocking(read)
        return await run_in_threadpool(self.run_blocking, read)
