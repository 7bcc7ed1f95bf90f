"""Statements compiled once to their SQL text and run on the DBAPI connection.

On this data the SQL of a page takes 0.05–0.1 ms, less than SQLAlchemy spends per execution
(binding, execution context, result metadata). So a statement built once per filter shape is
also compiled once per dialect and per length of each list value (an `IN` list expands to one
placeholder per value), and each request only arranges its values in the driver's order and
runs the text on the connection it was given. Errors are wrapped as SQLAlchemy's (`DBAPIError`
subclasses) as if SQLAlchemy had run the statement, and a lost connection invalidates the pool
as SQLAlchemy's own handling does (the server restarted: its other connections are gone too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from app.lru import Lru

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Slot:
    """Where one driver parameter's value comes from: `values[name]` (or its `index`-th item
    for an expanded list), else (no name) the constant fixed at compile time; then the type's bind
    processor, if any (e.g. a date as text on SQLite)."""

    driver_name: str
    name: str | None
    index: int | None
    constant: Any
    process: Callable[[Any], Any] | None

    def value(self, values: Mapping[str, Any]) -> Any:
        if self.name is None:
            return self.constant
        value = values[self.name]
        if self.index is not None:
            value = value[self.index]
        return self.process(value) if self.process is not None and value is not None else value


@dataclass(frozen=True)
class Compiled:
    """One statement's SQL text for one dialect and list lengths, and its parameter slots."""

    sql: str
    slots: tuple[_Slot, ...]
    positional: bool

    @classmethod
    def of(cls, statement: Executable, conn: Connection, values: Mapping[str, Any]) -> Compiled:
        if not isinstance(statement, ClauseElement):
            raise TypeError(f"not a SQL statement: {statement!r}")
        compiler = statement.compile(dialect=conn.dialect)
        assert isinstance(compiler, SQLCompiler)
        expanded = compiler.construct_expanded_state(dict(values))
        processors = {**getattr(compiler, "_bind_processors", {}), **expanded.processors}
        origin: dict[str, tuple[str | None, int | None]] = {name: (name, None) for name in values}
        for listed, parts in expanded.parameter_expansion.items():
            origin.update((part, (listed, i)) for i, part in enumerate(parts))
        order = expanded.positiontup or list(expanded.parameters)
        slots = []
        for driver_name in order:
            name, index = origin.get(driver_name, (None, None))
            process = processors.get(driver_name)
            constant = None
            if name is None:
                constant = expanded.parameters[driver_name]
                if process is not None and constant is not None:
                    constant = process(constant)
            slots.append(_Slot(driver_name, name, index, constant, process))
        return cls(expanded.statement, tuple(slots), expanded.positiontup is not None)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.positional:
            return tuple(slot.value(values) for slot in self.slots)
        return {slot.driver_name: slot.value(values) for slot in self.slots}


# Bounded, because a client can combine filters (and list lengths) into many shapes.
_compiled: Lru[tuple[object, ...], Compiled] = Lru(1024)
_built: Lru[tuple[object, ...], Executable] = Lru(512)


def run(
    conn: Connection,
    kind: tuple[object, ...],
    build: Callable[[], Executable],
    values: Mapping[str, Any],
) -> list[Row]:
    """Every row of the statement `build()` makes for `kind` (its SQL text must depend on
    `kind` and the dialect only), run with `values` on `conn`'s DBAPI connection."""
    dialect = conn.dialect.name
    lengths = tuple(len(v) for v in values.values() if isinstance(v, list | tuple))
    key = (*kind, dialect, lengths)
    compiled = _compiled.get(key)
    if compiled is None:
        statement_key = (*kind, dialect)
        statement = _built.get(statement_key)
        if statement is None:
            statement = build()
            _built.put(statement_key, statement)
        compiled = Compiled.of(statement, conn, values)
        _compiled.put(key, compiled)
    return execute(conn, compiled.sql, compiled.parameters(values))


def execute(conn: Connection, sql: str, parameters: Sequence[Any] | dict[str, Any]) -> list[Row]:
    """Run driver-ready SQL on `conn`'s DBAPI connection (its transaction, if any)."""
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    events = conn.dispatch
    try:
        # The engine's cursor events fire as for SQLAlchemy's own statements (SQLite's
        # statement deadline, tracing, tests that watch statements); no execution context.
        for before in events.before_cursor_execute:
            sql, parameters = before(conn, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters)
        rows = list(cursor.fetchall())
        for after in events.after_cursor_execute:
            after(conn, cursor, sql, parameters, None, False)
        return rows
    except conn.dialect.loaded_dbapi.Error as error:
        lost = conn.dialect.is_disconnect(error, dbapi_connection, cursor)
        if lost:  # as SQLAlchemy does: every pooled connection made before now is replaced
            conn.engine.pool._invalidate(conn.connection, error)
            conn.invalidate(error)
        raise DBAPIError.instance(
            sql,
            parameters,
            error,
            conn.dialect.loaded_dbapi.Error,
            dialect=conn.dialect,
            connection_invalidated=lost,
        ) from error
    finally:
        cursor.close()
