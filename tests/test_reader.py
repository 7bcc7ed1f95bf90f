"""Where a request's reads run: quick SQLite reads on the event loop, anything else in a thread."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import Connection, text

from app.api.reader import Reader
from app.db import reader_engine


def test_quick_sqlite_reads_stay_on_the_loop_and_the_rest_go_to_a_thread(
    backend: str, seeded_db: str
) -> None:
    engine = reader_engine(seeded_db, 2000)
    reader = Reader(engine)

    def read(conn: Connection) -> tuple[str, int]:
        claims = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
        return threading.current_thread().name, claims

    async def main() -> tuple[tuple[str, int], tuple[str, int], str]:
        loop_thread = threading.current_thread().name
        return await reader(read), await reader(read, quick=False), loop_thread

    try:
        (quick_thread, claims), (slow_thread, same_claims), loop_thread = asyncio.run(main())
    finally:
        engine.dispose()
    assert claims == same_claims > 0
    assert slow_thread != loop_thread
    assert (quick_thread == loop_thread) is (backend == "sqlite")
