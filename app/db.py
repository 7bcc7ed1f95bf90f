"""Engines for the two roles the project has: the ingestion job (writer) and the API (reader)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from app.pg_guard import undo_self_set_settings

_PACKAGED_MIGRATIONS = Path(__file__).resolve().parent / "migrations"  # inside an installed wheel
MIGRATIONS_DIR = (
    _PACKAGED_MIGRATIONS
    if _PACKAGED_MIGRATIONS.is_dir()
    else Path(__file__).resolve().parent.parent / "migrations"
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def writer_engine(url: str) -> Engine:
    """Engine for ingestion; SQLite gets WAL so readers keep the previous snapshot meanwhile."""
    engine = create_engine(url, future=True)
    if is_sqlite(url):
        event.listen(engine, "connect", _sqlite_writer_pragmas)
    return engine


def reader_engine(url: str, timeout_ms: int) -> Engine:
    """Engine for the API: it cannot write (read-only file or read-only transactions)."""
    if is_sqlite(url):
        database = make_url(url).database or ""
        if database in ("", ":memory:"):
            raise ValueError("the API needs a SQLite file, not an in-memory database")
        path = Path(database).resolve()
        if not path.exists():
            raise FileNotFoundError(
                f"SQLite database {path} does not exist: run `bilateral ingest`"
            )
        engine = create_engine(
            f"sqlite:///file:{path}?mode=ro&uri=true",
            connect_args={"check_same_thread": False},
            pool_size=8,
            max_overflow=32,
        )
        event.listen(engine, "connect", _sqlite_reader_pragmas)
        _limit_sqlite_statements(engine, timeout_ms)
        return engine
    # REPEATABLE READ: a request's count, page and facets come from one snapshot, even when an
    # ingest commits in between (read-only transactions never fail serialization there).
    engine = create_engine(
        url,
        isolation_level="REPEATABLE READ",
        pool_size=8,
        max_overflow=32,
        pool_pre_ping=True,
        connect_args={
            # Client options outrank any ALTER ROLE … SET the role may have made on itself.
            "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} "
            "-c client_encoding=UTF8"
        },
    )
    event.listen(engine, "connect", undo_self_set_settings)
    return engine


def _sqlite_writer_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_reader_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _limit_sqlite_statements(engine: Engine, timeout_ms: int) -> None:
    """SQLite has no statement_timeout: a progress handler stops a statement past its deadline."""
    deadline_key = "bilateral_deadline"

    @event.listens_for(engine, "connect")
    def _install(dbapi_conn: Any, record: Any) -> None:
        record.info[deadline_key] = float("inf")

        def over_time() -> int:
            return 1 if time.monotonic() > record.info[deadline_key] else 0

        dbapi_conn.set_progress_handler(over_time, 5_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn: Any, *_: Any) -> None:
        conn.info[deadline_key] = time.monotonic() + timeout_ms / 1000
