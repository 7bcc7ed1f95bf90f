"""The read side of the dataset: every read the API makes, as one typed object.

A `Catalog` owns the reader engine, the loaded dataset's stamp (version and ingest time), the
values that stay valid for one dataset version (the filter vocabulary, claim totals), and the
choice of where each read runs:

- on the event loop, for a quick SQLite read (an index walk for one page, totals the ingest
  precomputed, one row by its id): it takes well under a millisecond, less than handing it to
  a thread would cost;
- in the thread pool for anything else: a read that may scan (full text, a count the ingest did
  not precompute, facets, whole lists), where SQLite releases the GIL so one slow request does
  not stall the others, and every Postgres read, which waits on the network.

The thread pool is the default: a read has to be declared quick to stay on the loop.

Each method reads on one connection, so on Postgres (REPEATABLE READ) a page's total, items and
facets come from one snapshot, and the page knows which dataset version it was read from.
HTTP stays in app.api: nothing here knows about requests or responses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from anyio import to_thread
from sqlalchemy import Connection, Engine

from app import queries
from app.core.config import Settings
from app.db import reader_engine
from app.filters import ClaimFilters, counts_per_source_suffice
from app.lru import Lru
from app.pagination import Cursor
from app.queries import Replication
from app.vocabulary import Vocabulary

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DatasetStamp = tuple[str, datetime]  # (version, ingested_at in UTC) of the loaded dataset
STAMP_TTL = 1.0  # seconds a dataset stamp is trusted before it is read again
VOCABULARY = "vocabulary"


class VersionCache(Generic[K, V]):
    """Values that hold for one dataset version: an ingest makes them unreachable (the version
    is part of the key) and the LRU forgets them. `max_entries=0` keeps nothing."""

    def __init__(self, max_entries: int) -> None:
        self._items: Lru[tuple[str, K], V] = Lru(max_entries)
        self._lock = threading.Lock()  # reads in the thread pool use it too

    def get(self, version: str | None, key: K) -> V | None:
        if version is None:
            return None
        with self._lock:
            return self._items.get((version, key))

    def put(self, version: str | None, key: K, value: V) -> None:
        """Keep `value` as read from dataset `version` (nothing is kept without a version)."""
        if version is not None:
            with self._lock:
                self._items.put((version, key), value)


@dataclass(frozen=True)
class ClaimsPage:
    """One page of claims, read from one snapshot of the dataset named by `stamp`."""

    total: int
    documents: list[str]  # the claims' stored JSON, in page order
    next_cursor: Cursor | None
    facets: dict[str, list[dict[str, Any]]] | None
    stamp: DatasetStamp | None  # the dataset the page was read from (None: none loaded)


@dataclass(frozen=True)
class FigureRows:
    """A curated figure and every quantity that states it (each with its claim and source)."""

    figure: dict[str, Any]
    statements: list[dict[str, Any]]


@dataclass(frozen=True)
class Readiness:
    """What the database holds right now (no dataset: `info` is None) and, on a replica, how
    fresh it is."""

    info: dict[str, Any] | None
    replication: Replication


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def version_of(stamp: DatasetStamp | None) -> str | None:
    return None if stamp is None else stamp[0]


def read_stamp(conn: Connection) -> DatasetStamp | None:
    """The stamp of the dataset this connection sees."""
    found = queries.dataset_stamp(conn)
    return None if found is None else (found[0], _utc(found[1]))


def _snapshot(conn: Connection) -> None:
    """Make the following reads one snapshot. Postgres already does (REPEATABLE READ); SQLite
    outside a transaction gives each statement its own, so open a (deferred, read) one, straight
    on the driver (a few microseconds; through SQLAlchemy it cost a page as much as its dataset
    stamp). The pool's rollback on return ends it."""
    if conn.dialect.name == "sqlite":
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        dbapi_connection.execute("BEGIN")


class Catalog:
    """Every read of the dataset the API makes (see the module docstring)."""

    def __init__(
        self, engine: Engine, *, count_entries: int = 4096, stamp_ttl: float = STAMP_TTL
    ) -> None:
        self.engine = engine
        self._on_loop = engine.dialect.name == "sqlite"
        self.stamp_ttl = stamp_ttl
        self._stamp: DatasetStamp | None = None
        self._stamp_read_at = float("-inf")
        self._vocabulary: VersionCache[str, Vocabulary] = VersionCache(2)
        self._totals: VersionCache[ClaimFilters, int] = VersionCache(count_entries)

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        """The API's catalog: a read-only engine on READER_URL; claim totals are kept as long
        as responses are (RESPONSE_CACHE_ENTRIES=0 turns both off, as the benchmarks need)."""
        engine = reader_engine(settings.reader_url, settings.query_timeout_ms)
        return cls(engine, count_entries=settings.response_cache_entries)

    def dispose(self) -> None:
        """Close the pooled connections (tests, and before a process exits)."""
        self.engine.dispose()

    def _blocking(self, read: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return read(conn)

    async def _read(self, read: Callable[[Connection], T], *, quick: bool = False) -> T:
        """Run `read` on one connection: on the event loop only if it is quick and SQLite."""
        if quick and self._on_loop:
            return self._blocking(read)
        return await to_thread.run_sync(self._blocking, read)

    # --- the dataset and what holds for one version of it ----------------------------------

    async def dataset_stamp(self) -> DatasetStamp | None:
        """(version, ingested_at) of the loaded dataset, read again at most every `stamp_ttl`
        seconds; None when no dataset is loaded or the database cannot be reached."""
        now = time.monotonic()
        if now - self._stamp_read_at > self.stamp_ttl:
            if self._stamp_read_at != float("-inf"):  # others keep the last stamp meanwhile
                self._stamp_read_at = now  # (until there is one, each waits for a read)
            try:
                stamp = await self._read(read_stamp, quick=True)
            except Exception:  # database down: serve without validators, /readyz reports it
                stamp = None
            self._stamp, self._stamp_read_at = stamp, now
        return self._stamp

    async def vocabulary(self) -> Vocabulary:
        """The names the claim filters accept, read once per dataset version."""
        stamp = await self.dataset_stamp()
        cached = self._vocabulary.get(version_of(stamp), VOCABULARY)
        if cached is not None:
            return cached

        def read(conn: Connection) -> tuple[DatasetStamp | None, Vocabulary]:
            _snapshot(conn)
            return read_stamp(conn), Vocabulary.read(conn)

        read_from, value = await self._read(read)
        self._vocabulary.put(version_of(read_from), VOCABULARY, value)
        return value

    async def readiness(self) -> Readiness:
        """The dataset held right now (past the stamp's second) and the replication state;
        raises SQLAlchemyError when the database cannot be read."""

        def read(conn: Connection) -> Readiness:
            return Readiness(queries.dataset_info(conn), queries.replication_status(conn))

        return await self._read(read, quick=True)

    # --- claims ------------------------------------------------------------------------------

    async def claims_page(
        self,
        filters: ClaimFilters,
        sort: str,
        limit: int,
        after: Cursor | None = None,
        facets: Sequence[str] = (),
    ) -> ClaimsPage:
        """A page of claims with its total, next cursor and (if asked) facet counts, all from
        one snapshot. The total is kept per (dataset version, filters)."""

        def read(conn: Connection) -> ClaimsPage:
            _snapshot(conn)  # the stamp, total, page and facets: one dataset, even mid-ingest
            stamp = read_stamp(conn)
            version = version_of(stamp)
            total = self._totals.get(version, filters)
            if total is None:
                total = queries.count_claims(conn, filters)
                self._totals.put(version, filters, total)
            # With no match, walking the listing index would visit every claim to find nothing.
            documents, next_cursor = (
                queries.list_claims(conn, filters, sort, limit, after) if total else ([], None)
            )
            counts = queries.facet_counts(conn, filters, facets) if facets else None
            return ClaimsPage(total, documents, next_cursor, counts, stamp)

        quick = not (filters.q or facets) and counts_per_source_suffice(filters)
        return await self._read(read, quick=quick)

    async def claim_batch(
        self, filters: ClaimFilters, sort: str, after: Cursor | None, count: int
    ) -> tuple[list[str], Cursor | None]:
        """Up to `count` claims' documents after `after`, and where the next batch starts (for
        exports, read batch by batch, each on a short-lived connection in a thread)."""
        return await self._read(lambda conn: queries.list_claims(conn, filters, sort, count, after))

    async def claim(self, claim_id: str) -> str | None:
        """One claim's stored JSON document."""
        documents = await self._read(
            lambda conn: queries.claim_documents(conn, [claim_id]), quick=True
        )
        return documents[0] if documents else None

    # --- what the claims are drawn from and about --------------------------------------------

    async def sources(self) -> list[dict[str, Any]]:
        return await self._read(queries.list_sources)

    async def source(self, source_id: str) -> dict[str, Any] | None:
        """One source with its full text."""
        return await self._read(lambda conn: queries.get_source(conn, source_id), quick=True)

    async def topics(self) -> list[dict[str, Any]]:
        return await self._read(queries.list_topics)

    async def entities(self, kind: str | None = None) -> list[dict[str, Any]]:
        return await self._read(lambda conn: queries.list_entities(conn, kind))

    async def entity(self, entity_id: str) -> dict[str, Any] | None:
        """One entity and its claims' documents (`claim_documents`, in claim id order); in a
        thread, as an entity may be the subject of many claims."""

        def read(conn: Connection) -> dict[str, Any] | None:
            _snapshot(conn)
            found = queries.get_entity(conn, entity_id)
            if found is None:
                return None
            ids = found.pop("claim_ids")
            return {**found, "claim_documents": queries.claim_documents(conn, ids)}

        return await self._read(read)

    async def figures(self) -> list[FigureRows]:
        """Every curated figure with its statements."""

        def read(conn: Connection) -> list[FigureRows]:
            _snapshot(conn)
            by_figure: dict[str, list[dict[str, Any]]] = {}
            for row in queries.figure_statements(conn):
                by_figure.setdefault(row["figure_id"], []).append(row)
            return [FigureRows(f, by_figure.get(f["id"], [])) for f in queries.list_figures(conn)]

        return await self._read(read)

    async def figure(self, figure_id: str) -> FigureRows | None:
        def read(conn: Connection) -> FigureRows | None:
            _snapshot(conn)
            figure = queries.get_figure(conn, figure_id)
            if figure is None:
                return None
            return FigureRows(figure, queries.figure_statements(conn, figure_id))

        return await self._read(read)
