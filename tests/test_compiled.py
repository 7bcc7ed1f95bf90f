"""Statements compiled once and run on the DBAPI connection (app.compiled), and the reader
engine's pool: same rows as SQLAlchemy, the statement deadline, errors, lost connections."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import Date, bindparam, func, literal, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Select

from app import compiled, db
from app.db import reader_engine
from app.models import CLAIM, SOURCE
from tests.conftest import PostgresServer

claim, source = CLAIM.c, SOURCE.c


def _statement() -> Select[str, date]:
    """A list (expanding), a date bound to a typed column, a date literal and a LIMIT."""
    far = literal(date(9999, 12, 31), Date)
    return (
        select(claim.id, func.coalesce(source.published_earliest, far).label("published"))
        .select_from(CLAIM.join(SOURCE, SOURCE.c.id == claim.source_id))
        .where(claim.source_id.in_(bindparam("sources", expanding=True)))
        .where(func.coalesce(source.published_earliest, far) >= bindparam("since", type_=Date))
        .order_by(claim.id)
        .limit(bindparam("page_limit"))
    )


@pytest.mark.parametrize("count", [1, 2, 3])
def test_rows_match_sqlalchemy_for_every_list_length(seeded_db: str, count: int) -> None:
    engine = reader_engine(seeded_db, timeout_ms=2000)
    with engine.connect() as conn:
        sources = list(conn.execute(select(source.id).order_by(source.id)).scalars())[:count]
        values = {"sources": sources, "since": date(1900, 1, 1), "page_limit": 500}
        expected = [(r[0], r[1]) for r in conn.execute(_statement(), values)]
        got = compiled.run(conn, ("test-rows",), _statement, values)
    engine.dispose()
    assert expected, "the seeds have claims in these sources"
    # dates: SQLAlchemy's result processing makes them dates; the driver gives SQLite's text
    assert [(i, str(d)) for i, d in got] == [(i, d.isoformat()) for i, d in expected]


def test_a_later_date_bound_filters_on_the_driver_path(seeded_db: str) -> None:
    engine = reader_engine(seeded_db, timeout_ms=2000)
    with engine.connect() as conn:
        sources = list(conn.execute(select(source.id)).scalars())
        early = {"sources": sources, "since": date(1, 1, 2), "page_limit": 10_000}
        late = {**early, "since": date(9999, 12, 31)}
        many = compiled.run(conn, ("test-since",), _statement, early)
        undated = compiled.run(conn, ("test-since",), _statement, late)
    engine.dispose()
    assert len(undated) < len(many)
    assert all(str(published) == "9999-12-31" for _, published in undated)


RUNAWAY = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n",
    "postgres": "SELECT pg_sleep(5)",
}


def test_the_statement_deadline_holds_and_errors_are_sqlalchemy_s(
    backend: str, seeded_db: str
) -> None:
    engine = reader_engine(seeded_db, timeout_ms=200)
    started = time.monotonic()
    with engine.connect() as conn, pytest.raises(OperationalError):
        compiled.execute(conn, RUNAWAY[backend], ())
    assert time.monotonic() - started < 3
    with engine.connect() as conn:
        assert compiled.execute(conn, "SELECT count(*) FROM claim", ())[0][0] > 0
    engine.dispose()


@pytest.mark.postgres
def test_a_connection_lost_while_idle_is_replaced(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    engine = reader_engine(url, timeout_ms=2000)
    admin = reader_engine(url, timeout_ms=2000)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    time.sleep(db.IDLE_BEFORE_PING + 0.2)
    with engine.connect() as conn:  # the dead pooled connection is pinged and replaced
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        assert compiled.execute(conn, "SELECT 1", ())[0][0] == 1
    engine.dispose()
    admin.dispose()


@pytest.mark.postgres
def test_a_connection_lost_in_use_invalidates_the_pool(postgres: PostgresServer) -> None:
    """As after a server restart: every pooled connection is replaced, without waiting for the
    idle ping, once one of them is found dead."""
    url = postgres.new_database()
    engine = reader_engine(url, timeout_ms=2000)
    admin = reader_engine(url, timeout_ms=2000)
    with engine.connect() as first, engine.connect() as second:  # two pooled connections
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in (first, second)]
    with admin.connect() as other:
        for pid in pids:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with engine.connect() as conn, pytest.raises(OperationalError) as raised:
        compiled.execute(conn, "SELECT 1", ())
    assert raised.value.connection_invalidated
    for _ in range(2):  # right away, and both: new connections
        with engine.connect() as conn:
            assert compiled.execute(conn, "SELECT pg_backend_pid()", ())[0][0] not in pids
    engine.dispose()
    admin.dispose()
