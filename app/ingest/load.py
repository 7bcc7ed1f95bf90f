"""Replace the stored dataset with a validated one in a single transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table, delete, insert, select, text

from app import models, search
from app.ingest.dataset import Dataset

# Parents before children; deletes run in the reverse order.
_TABLES: list[tuple[Table, str]] = [
    (models.SOURCE, "sources"),
    (models.TOPIC, "topics"),
    (models.ENTITY, "entities"),
    (models.ENTITY_ALIAS, "entity_aliases"),
    (models.FIGURE, "figures"),
    (models.CLAIM, "claims"),
    (models.CLAIM_TOPIC, "claim_topics"),
    (models.CLAIM_ENTITY, "claim_entities"),
    (models.QUANTITY, "quantities"),
    (models.CLAIM_COUNT, "claim_counts"),
]
_DATASET = models.DATASET
_CLAIM = models.CLAIM
SQLITE_CACHE_KIB = 1024 * 1024  # an upper bound: SQLite allocates the cache as it fills


@dataclass(frozen=True)
class IngestSummary:
    version: str
    unchanged: bool
    sources: int
    claims: int
    topics: int
    added: int
    changed: int
    removed: int


def write_dataset(engine: Engine, ds: Dataset) -> IngestSummary:
    """All or nothing: readers see the previous dataset until the commit, never a mix."""
    version = ds.version
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE dataset IN EXCLUSIVE MODE"))
        else:  # keep the transaction's pages in memory rather than spill and rewrite them
            conn.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
        previous = conn.execute(select(_DATASET.c.version)).scalar()
        old: dict[str, str] = {
            r.id: r.digest for r in conn.execute(select(_CLAIM.c.id, _CLAIM.c.digest))
        }
        new = {c["id"]: c["digest"] for c in ds.claims}
        summary = IngestSummary(
            version=version,
            unchanged=previous == version,
            sources=len(ds.sources),
            claims=len(ds.claims),
            topics=len(ds.topics),
            added=len(new.keys() - old.keys()),
            changed=sum(1 for k in new.keys() & old.keys() if new[k] != old[k]),
            removed=len(old.keys() - new.keys()),
        )
        if summary.unchanged:
            return summary
        conn.execute(delete(_DATASET))
        for table, _ in reversed(_TABLES):
            conn.execute(delete(table))
        for table, attribute in _TABLES:
            _bulk_insert(conn, table, getattr(ds, attribute))
        search.rebuild_index(conn)
        conn.execute(text("ANALYZE"))  # statistics the planner needs to pick the listing index
        conn.execute(
            insert(_DATASET),
            {
                "id": 1,
                "version": version,
                "ingested_at": datetime.now(UTC),
                "sources": len(ds.sources),
                "claims": len(ds.claims),
            },
        )
    return summary


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows through the driver itself, in the connection's open transaction.

    The values are the ones SQLAlchemy would send (its bind processors are applied), but
    Postgres takes them by COPY and SQLite by one executemany, without SQLAlchemy's
    per-row work, which cost more than the database's own.
    """
    if not rows:
        return
    names = [column.name for column in table.columns]
    values = _driver_values(conn.dialect, table, map(itemgetter(*names), rows))
    preparer = conn.dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(map(preparer.quote, names))})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {target} VALUES ({', '.join('?' * len(names))})", values
            )
    finally:
        cursor.close()


def _driver_values(
    dialect: Dialect, table: Table, rows: Iterable[tuple[Any, ...]]
) -> Iterable[tuple[Any, ...]]:
    """Rows (values in column order) as the driver expects them, e.g. SQLite dates as text."""
    processors: list[Callable[[Any], Any] | None] = [
        column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
    ]
    if not any(processors):
        return rows
    return (
        tuple(
            value if process is None else process(value)
            for process, value in zip(processors, row, strict=True)
        )
        for row in rows
    )
