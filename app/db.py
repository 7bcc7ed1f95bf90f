"""Engines for the two roles the project has: the ingestion job (writer) and the API (reader)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

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
        connect_args={
            # Client options outrank any ALTER ROLE … SET the role may have made on itself.
            "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} "
            "-c client_encoding=UTF8"
        },
    )
    event.listen(engine, "connect", undo_self_set_settings)
    _ping_when_idle(engine)
    return engine


IDLE_BEFORE_PING = 1.0  # seconds a pooled Postgres connection may sit unused before a ping


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it sat idle a while (a restart, a failover
    or an idle timeout may have closed it meanwhile), not on every checkout as pool_pre_ping
    does: under load that was one more round trip per request. A dead one is replaced (the
    pool retries on DisconnectionError); one that dies in use is invalidated when its error
    is seen (SQLAlchemy, app.compiled)."""
    returned_key = "bilateral_returned_at"

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[returned_key] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(returned_key)
        if returned is None or time.monotonic() - returned <= IDLE_BEFORE_PING:
            return  # new, or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_conn, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("pooled connection lost while idle")


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


_DEADLINE = "bilateral_deadline"
_TIMEOUT = "bilateral_timeout"


def _limit_sqlite_statements(engine: Engine, timeout_ms: int) -> None:
    """SQLite has no statement_timeout: a progress handler stops a statement past its deadline."""

    @event.listens_for(engine, "connect")
    def _install(dbapi_conn: Any, record: Any) -> None:
        record.info[_DEADLINE] = float("inf")
        record.info[_TIMEOUT] = timeout_ms / 1000

        def over_time() -> int:
            return 1 if time.monotonic() > record.info[_DEADLINE] else 0

        dbapi_conn.set_progress_handler(over_time, 5_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn: Connection, *_: Any) -> None:
        _arm_statement_deadline(conn)


def _arm_statement_deadline(conn: Connection) -> None:
    """Start the clock of the next statement on `conn` (app.compiled fires the same cursor
    event for the statements it runs on the DBAPI connection)."""
    info = conn.info
    timeout = info.get(_TIMEOUT)
    if timeout is not None:
        info[_DEADLINE] = time.monotonic() + timeout
