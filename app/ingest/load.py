"""Replace the stored dataset with a validated one in a single transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Table,
    bindparam,
    delete,
    insert,
    select,
    text,
)

from app import models, search
from app.ingest.dataset import CuratedSeeds

# Parents before children; deletes run in the reverse order.
_TABLES: list[tuple[Table, str]] = [
    (models.SOURCE, "sources"),
    (models.SOURCE_EVIDENCE, "evidence"),
    (models.TOPIC, "topics"),
    (models.TOPIC_ALIAS, "topic_aliases"),
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
# Without --allow-removals, an ingest that would remove more than this share of the served
# claims (or any whole source) is refused: a missing or renamed seed file must not wipe data.
MAX_REMOVED_SHARE = 0.10


@dataclass(frozen=True)
class Change:
    """Ids added, changed or removed by an ingest, and for claims the source of each."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    source_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def between(cls, old: dict[str, str], new: dict[str, str]) -> Change:
        """`old` and `new` map ids to a digest of their content."""
        return cls(
            added=sorted(new.keys() - old.keys()),
            changed=sorted(k for k in new.keys() & old.keys() if new[k] != old[k]),
            removed=sorted(old.keys() - new.keys()),
        )

    def per_source(self, ids: list[str]) -> Counter[str]:
        return Counter(self.source_of.get(i, "?") for i in ids)


@dataclass(frozen=True)
class IngestSummary:
    version: str
    unchanged: bool
    sources: int
    claims: int
    topics: int
    claim_changes: Change
    source_changes: Change
    entity_changes: Change
    served_claims: int  # before this ingest

    @property
    def added(self) -> int:
        return len(self.claim_changes.added)

    @property
    def changed(self) -> int:
        return len(self.claim_changes.changed)

    @property
    def removed(self) -> int:
        return len(self.claim_changes.removed)


class RemovalsRefused(Exception):
    """The ingest would remove a whole source or too many claims; nothing was written."""

    def __init__(self, summary: IngestSummary) -> None:
        self.summary = summary
        super().__init__("ingest would remove served data; pass --allow-removals to proceed")


def removals_need_consent(summary: IngestSummary) -> bool:
    """Whether the ingest removes a whole source or more than MAX_REMOVED_SHARE of the claims."""
    removed = summary.removed
    return bool(summary.source_changes.removed) or removed > MAX_REMOVED_SHARE * max(
        summary.served_claims, 1
    )


def _changes(conn: Connection, ds: CuratedSeeds) -> tuple[str | None, IngestSummary]:
    """The served version, and what replacing the served dataset (read in `conn`) with `ds`
    adds, changes and removes; the summary's version is still to be filled in."""
    previous = conn.execute(select(_DATASET.c.version)).scalar()
    old_claims: dict[str, str] = {}
    source_of: dict[str, str] = {}
    for row in conn.execute(select(_CLAIM.c.id, _CLAIM.c.digest, _CLAIM.c.source_id)):
        old_claims[row.id] = row.digest
        source_of[row.id] = row.source_id
    source_of.update((c["id"], c["source_id"]) for c in ds.claims)
    claims = Change.between(old_claims, {c["id"]: c["digest"] for c in ds.claims})
    old_sources = dict(conn.execute(select(models.SOURCE.c.id, models.SOURCE.c.sha256)).all())
    old_entities = dict(conn.execute(select(models.ENTITY.c.id, models.ENTITY.c.name)).all())
    summary = IngestSummary(
        version="",
        unchanged=False,
        sources=len(ds.sources),
        claims=len(ds.claims),
        topics=len(ds.topics),
        claim_changes=Change(claims.added, claims.changed, claims.removed, source_of),
        source_changes=Change.between(old_sources, {s["id"]: s["sha256"] for s in ds.sources}),
        entity_changes=Change.between(old_entities, {e["id"]: e["name"] for e in ds.entities}),
        served_claims=len(old_claims),
    )
    return previous, summary


def _same_ids_and_content(summary: IngestSummary) -> bool:
    """No claim, source or entity added, changed or removed: most likely the served dataset."""
    return not any(
        (change.added, change.changed, change.removed)
        for change in (summary.claim_changes, summary.source_changes, summary.entity_changes)
    )


class _Unchanged(Exception):
    """The new dataset turned out to be the served one: roll back, nothing to write."""


def write_dataset(
    engine: Engine, ds: CuratedSeeds, *, allow_removals: bool = False
) -> IngestSummary:
    """All or nothing: readers see the previous dataset until the commit, never a mix.

    Raises RemovalsRefused, before writing anything, when the new dataset drops a whole source
    or more than MAX_REMOVED_SHARE of the served claims and `allow_removals` is false.

    Hashing the dataset's version costs as much as a good part of the write, and only the
    `dataset` row (written last) needs it; so unless the dataset looks unchanged, a thread
    hashes while this one writes (the databases do their part without holding the GIL).
    """
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataset-version")
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE dataset IN EXCLUSIVE MODE"))
            else:  # keep the transaction's pages in memory rather than spill and rewrite them
                conn.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
            previous, summary = _changes(conn, ds)
            if previous is not None and _same_ids_and_content(summary):
                version = ds.version
                if version == previous:
                    return replace(summary, version=version, unchanged=True)
                pending = None
            else:
                pending = hashing.submit(lambda: ds.version)
            if not allow_removals and removals_need_consent(summary):
                raise RemovalsRefused(
                    replace(summary, version=ds.version if pending is None else pending.result())
                )
            _replace_rows(conn, ds)
            version = version if pending is None else pending.result()
            summary = replace(summary, version=version, unchanged=version == previous)
            if summary.unchanged:  # cannot happen with any id or digest changed; be safe
                raise _Unchanged
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
    except _Unchanged:
        pass
    finally:
        hashing.shutdown(wait=False, cancel_futures=True)
    return summary


def _replace_rows(conn: Connection, ds: CuratedSeeds) -> None:
    """Every table's rows replaced by the dataset's, the search index rebuilt, statistics
    refreshed. On SQLite the tables' own indexes are built after their rows are in (see
    `_indexes_deferred`)."""
    conn.execute(delete(_DATASET))
    for table, _ in reversed(_TABLES):
        conn.execute(delete(table))
    with _indexes_deferred(conn, [table for table, _ in _TABLES]):
        for table, attribute in _TABLES:
            _bulk_insert(conn, table, getattr(ds, attribute))
    search.rebuild_index(conn)
    conn.execute(text("ANALYZE"))  # statistics the planner needs to pick the listing index


@contextmanager
def _indexes_deferred(conn: Connection, tables: list[Table]) -> Iterator[None]:
    """On SQLite, drop the secondary indexes of `tables` and create them again, from the
    schema's own SQL, once the rows are in: one sorted build instead of a b-tree insert per
    row and index. It is all inside the write transaction: WAL readers keep the previous
    snapshot (indexes included) until the commit, and a crash rolls the DDL back too.

    Postgres keeps its indexes: DROP INDEX would lock the tables against readers until the
    commit, and readers must go on reading the previous dataset meanwhile.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    names = [table.name for table in tables]
    indexes = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN :tables ORDER BY rowid"
        ).bindparams(bindparam("tables", expanding=True)),
        {"tables": names},
    ).all()
    preparer = conn.dialect.identifier_preparer
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {preparer.quote(name)}"))
    yield
    for _, sql in indexes:
        conn.execute(text(sql))


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
