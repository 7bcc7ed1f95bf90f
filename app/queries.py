"""All SQL the API runs. Rows come back as plain dicts; routes never build ORM objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Executable,
    Float,
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    select,
    text,
    tuple_,
    union_all,
)

from app import compiled, search
from app.claim_document import SOURCE_SUMMARY_FIELDS
from app.filters import (
    ClaimFilters,
    conditions,
    counts_per_source_suffice,
    parameters,
    shape,
    source_conditions,
)
from app.lru import Lru
from app.models import (
    CLAIM,
    CLAIM_COUNT,
    CLAIM_ENTITY,
    CLAIM_TOPIC,
    DATASET,
    ENTITY,
    ENTITY_ALIAS,
    FIGURE,
    QUANTITY,
    SOURCE,
    SOURCE_EVIDENCE,
    TOPIC,
    TOPIC_ALIAS,
)
from app.pagination import Cursor

EVIDENCE_FIELDS = ("establishes", "value", "relation", "address", "quote", "checked", "note")

SOURCE_SUMMARY = tuple(SOURCE.c[name] for name in SOURCE_SUMMARY_FIELDS)
_FAR_FUTURE = date(9999, 12, 31)
_FAR_PAST = date(1, 1, 1)

# sort name -> (date columns ordered by before the id, descending). A publication date is an
# interval: ordered by its earliest day, then its latest (a narrower interval first), then id;
# descending is the exact reverse. Unknown dates sort last in either direction.
_PUBLISHED = (SOURCE.c.published_earliest, SOURCE.c.published_latest)
SORTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "id": ((), False),
    "-id": ((), True),
    "published": (_PUBLISHED, False),
    "-published": (_PUBLISHED, True),
    "period": ((CLAIM.c.period_start,), False),
    "-period": ((CLAIM.c.period_start,), True),
    "relevance": ((), False),
}


# Statements built once per (kind, dialect, filter shape), then run with each request's values:
# building a SQLAlchemy statement costs more than running it on this data. Bounded, because a
# client can combine filters into many shapes.
_statements: Lru[tuple[object, ...], Executable] = Lru(512)


def _run(
    conn: Connection,
    kind: tuple[object, ...],
    filters: ClaimFilters,
    build: Callable[[], Executable],
    **values: Any,
) -> Any:
    key = (*kind, conn.dialect.name, shape(filters))
    statement = _statements.get(key)
    if statement is None:
        statement = build()
        _statements.put(key, statement)
    return conn.execute(statement, _values(filters, values))


def _rows(
    conn: Connection,
    kind: tuple[object, ...],
    filters: ClaimFilters,
    build: Callable[[], Executable],
    **values: Any,
) -> list[compiled.Row]:
    """`_run` for the statements of every page (count, page, facets): compiled once as well and
    run on the DBAPI connection (app.compiled), whose rows are plain tuples."""
    return compiled.run(conn, (*kind, shape(filters)), build, _values(filters, values))


def _values(filters: ClaimFilters, values: dict[str, Any]) -> dict[str, Any]:
    return {**parameters(filters), **values}  # q's words are among the filters' binds


def _filtered(conn: Connection, filters: ClaimFilters) -> tuple[Any, list[Any], Any]:
    """FROM clause, WHERE conditions and (with q) the matching index rows, joined to their
    claims: a subquery whose `key` column orders them in index order."""
    joined: Any = CLAIM
    hits = None
    if filters.q:
        dialect = conn.dialect.name
        hits = search.found(dialect).subquery("found")
        joined = joined.join(hits, hits.c.key == search.claim_key(dialect, CLAIM))
    return joined, conditions(filters), hits


def _matches(
    conn: Connection, filters: ClaimFilters, ranked: bool = False, sampled: bool = False
) -> tuple[Any, list[Any], Any]:
    """FROM clause, WHERE conditions and the index rows matching q (search.found): joined to
    their claims only when other filters test the claims (every claim is in the index)."""
    dialect = conn.dialect.name
    hits = search.found(dialect, ranked=ranked, sampled=sampled).subquery("found")
    where = conditions(filters)
    if not where:
        return hits, where, hits
    joined = CLAIM.join(hits, hits.c.key == search.claim_key(dialect, CLAIM))
    return joined, where, hits


def count_claims(conn: Connection, filters: ClaimFilters) -> int:
    if counts_per_source_suffice(filters):
        counted = CLAIM_COUNT.c
        topic_id = filters.topics[0] if filters.topics else "*"

        def by_sources() -> Executable:
            return (
                select(func.coalesce(func.sum(counted.claims), 0))
                .select_from(CLAIM_COUNT.join(SOURCE, SOURCE.c.id == counted.source_id))
                .where(counted.topic_id == bindparam("counted_topic"))
                .where(*source_conditions(filters))
            )

        by_source = _rows(conn, ("count-by-source",), filters, by_sources, counted_topic=topic_id)
        return int(by_source[0][0])
    if filters.q:
        return _count_matches(conn, filters)

    def build() -> Executable:
        joined, where, _ = _filtered(conn, filters)
        return select(func.count()).select_from(joined).where(*where)

    return int(_rows(conn, ("count",), filters, build)[0][0])


def _count_matches(conn: Connection, filters: ClaimFilters) -> int:
    """The number of claims a search (with its other filters) finds: counted up to
    search.EXACT_TOTAL_UP_TO, estimated from a sample of the index above it."""
    cap = search.EXACT_TOTAL_UP_TO

    def capped() -> Executable:
        joined, where, _ = _matches(conn, filters)
        found = select(literal(1)).select_from(joined).where(*where)
        return select(func.count()).select_from(found.limit(bindparam("count_cap")).subquery())

    counted = int(_run(conn, ("count-capped",), filters, capped, count_cap=cap + 1).scalar_one())
    if counted <= cap:
        return counted
    if conn.dialect.name == "sqlite":
        return search.EstimatedTotal.of(_windowed_estimate(conn, filters))
    return search.EstimatedTotal.of(_sampled_estimate(conn, filters))


def _windowed_estimate(conn: Connection, filters: ClaimFilters) -> float:
    """SQLite: matches counted up to a quota in each rowid window, extrapolated
    (search.windowed_estimate); a few thousand index rows read at most."""
    rowid = search.claim_key("sqlite", CLAIM)
    # two subqueries: SQLite reads min() or max() alone from the end of an index, not both
    ends = [select(f(rowid)).select_from(CLAIM).scalar_subquery() for f in (func.min, func.max)]
    low, high = conn.execute(select(*ends)).one()
    bounds = search.windows(low, high)

    def build() -> Executable:
        parts = []
        for window in range(search.ESTIMATE_WINDOWS):
            joined, where, hits = _matches(conn, filters)
            inside = (
                hits.c.key >= bindparam(f"window_{window}"),
                hits.c.key < bindparam(f"window_{window + 1}"),
            )
            keys = select(hits.c.key).select_from(joined).where(*where, *inside)
            first = keys.order_by(hits.c.key).limit(bindparam("window_quota")).subquery()
            parts.append(select(literal(window), func.count(), func.max(first.c.key)))
        return union_all(*parts)

    values = {f"window_{i}": bound for i, bound in enumerate(bounds)}
    counted = _run(
        conn, ("count-windows",), filters, build, window_quota=search.WINDOW_QUOTA, **values
    ).all()
    return search.windowed_estimate(bounds, [tuple(row) for row in counted])


def _sampled_estimate(conn: Connection, filters: ClaimFilters) -> float:
    """Postgres: matches counted in a fixed page sample of the index, scaled up."""
    claims = conn.execute(select(DATASET.c.claims)).scalar() or 0
    percent = search.sample_percent(claims)

    def build() -> Executable:
        joined, where, _ = _matches(conn, filters, sampled=True)
        return select(func.count()).select_from(joined).where(*where)

    in_sample = _run(conn, ("count-sampled",), filters, build, sample_percent=percent)
    return float(in_sample.scalar_one()) * 100.0 / percent


def list_claims(
    conn: Connection, filters: ClaimFilters, sort: str, limit: int, after: Cursor | None
) -> tuple[list[str], Cursor | None]:
    """One page of claims (their stored JSON documents) and the next cursor."""
    if sort == "relevance":
        return _relevance_page(conn, filters, limit, after)
    columns_sorted, descending = SORTS[sort]
    key_count = len(columns_sorted)

    def build() -> Executable:
        joined, where, _ = _filtered(conn, filters)
        if columns_sorted and columns_sorted[0].table is SOURCE:
            joined = joined.join(SOURCE, CLAIM.c.source_id == SOURCE.c.id)
        keys = _sort_keys(sort)
        columns = [CLAIM.c.id, CLAIM.c.doc, *(k.label(f"sort_key_{i}") for i, k in enumerate(keys))]
        query = select(*columns).select_from(joined).where(*where)
        if after is not None:
            if not keys:
                after_id: Any = bindparam("after_id")
                query = query.where(CLAIM.c.id < after_id if descending else CLAIM.c.id > after_id)
            else:
                bound = tuple_(
                    *(bindparam(f"after_key_{i}", type_=Date) for i in range(len(keys))),
                    bindparam("after_id"),
                )
                row = tuple_(*keys, CLAIM.c.id)
                query = query.where(row < bound if descending else row > bound)
        order = [*keys, CLAIM.c.id]
        query = query.order_by(*(c.desc() if descending else c.asc() for c in order))
        query = query.limit(bindparam("page_limit"))
        if keys:
            return query
        # In id order the page's ids come from the listing index alone (the planner prefers a
        # covering index; asked for documents too, it may walk the narrower primary-key index
        # and read every row it tests), then the page's documents are fetched by id.
        ids = query.with_only_columns(CLAIM.c.id)
        page = select(CLAIM.c.id, CLAIM.c.doc).where(CLAIM.c.id.in_(ids))
        return page.order_by(CLAIM.c.id.desc() if descending else CLAIM.c.id.asc())

    cursor_values: dict[str, Any] = {}
    if after is not None:
        cursor_values["after_id"] = after.id
        cursor_values.update(
            (f"after_key_{i}", value) for i, value in enumerate(_cursor_keys(after.key, key_count))
        )
    rows = _rows(
        conn,
        ("list", sort, after is not None),
        filters,
        build,
        page_limit=limit + 1,
        **cursor_values,
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        # (id, doc, sort keys…); a date comes back as text from SQLite, as a date from Postgres
        last = rows[-1]
        sort_value: Any = None
        if key_count:
            sort_value = "/".join(_iso(last[2 + i]) for i in range(key_count))
        next_cursor = Cursor(sort=sort, key=sort_value, id=last[0])
    return [r[1] for r in rows], next_cursor


def _iso(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _relevance_page(
    conn: Connection, filters: ClaimFilters, limit: int, after: Cursor | None
) -> tuple[list[str], Cursor | None]:
    """One page in relevance order, at a cost bounded by search.RANKED_CANDIDATES whatever
    the number of matches.

    The first RANKED_CANDIDATES matches in index order (other filters applied) are ranked
    (lower rank first, then id); when more claims match, the rest follow unranked in index
    order, keyed search.UNRANKED. A cursor (rank, id) says which part it is in.
    """
    past_ranked = after is not None and after.key >= search.UNRANKED
    values: dict[str, Any] = {
        "page_limit": limit + 1,
        "ranked_candidates": search.RANKED_CANDIDATES,
    }
    if after is not None:
        values.update(after_id=after.id, after_rank=after.key)
    rows: list[Any] = []
    full, edge = False, None
    if not past_ranked:
        build = partial(_ranked_rows, conn, filters, after is not None)
        rows = _run(conn, ("relevance", after is not None), filters, build, **values).all()
        if rows:
            full = rows[0].block_size >= search.RANKED_CANDIDATES
            edge = rows[0].edge
        elif after is not None:  # the cursor was the block's last claim: is there more?
            size, edge = _run(
                conn, ("relevance-block",), filters, partial(_ranked_block, conn, filters), **values
            ).one()
            full = size >= search.RANKED_CANDIDATES
    if (full or past_ranked) and len(rows) <= limit:
        values.update(page_limit=limit + 1 - len(rows), edge=edge)
        build = partial(_unranked_rows, conn, filters, past_ranked)
        rows += _run(conn, ("relevance-rest", past_ranked), filters, build, **values).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]._mapping
        next_cursor = Cursor(sort="relevance", key=last["sort_key_0"], id=last["id"])
    return [r.doc for r in rows], next_cursor


def _block(conn: Connection, filters: ClaimFilters, ranked: bool = False) -> Any:
    """The first RANKED_CANDIDATES matches in index order (other filters applied): their
    index key, and (ranked) their rank, computed for these rows only."""
    joined, where, hits = _matches(conn, filters, ranked=ranked)
    columns = [hits.c.key, hits.c.rank] if ranked else [hits.c.key]
    keys = select(*columns).select_from(joined).where(*where)
    return keys.order_by(hits.c.key).limit(bindparam("ranked_candidates")).subquery("block")


def _ranked_block(conn: Connection, filters: ClaimFilters) -> Executable:
    """(size, last index key) of the ranked block."""
    block = _block(conn, filters)
    return select(func.count(), func.max(block.c.key))


def _ranked_rows(conn: Connection, filters: ClaimFilters, paged: bool) -> Executable:
    """The ranked block's claims after the cursor, by rank then id, each row with the block's
    size and last index key (is there an unranked rest, and where does it start). Documents
    are read for the page's rows only."""
    block = _block(conn, filters, ranked=True)
    sized = select(
        block.c.key,
        block.c.rank,
        func.count().over().label("block_size"),
        func.max(block.c.key).over().label("edge"),
    ).subquery("sized")
    dialect = conn.dialect.name
    key = search.claim_key(dialect, CLAIM)
    ranked: Any = sized
    claim_id: Any = sized.c.key  # Postgres: the index key is the claim id
    if dialect == "sqlite":  # the index key is a rowid: the id is the claim's
        ranked, claim_id = CLAIM.join(sized, sized.c.key == key), CLAIM.c.id
    rank = sized.c.rank
    page = select(*sized.c, claim_id.label("claim_id")).select_from(ranked)
    if paged:
        after = tuple_(bindparam("after_rank", type_=Float), bindparam("after_id"))
        page = page.where(tuple_(rank, claim_id) > after)
    paged_rows = page.order_by(rank, claim_id).limit(bindparam("page_limit")).subquery("page")
    joined = CLAIM.join(paged_rows, paged_rows.c.key == key)
    columns = (paged_rows.c.rank.label("sort_key_0"), paged_rows.c.block_size, paged_rows.c.edge)
    query = select(CLAIM.c.id, CLAIM.c.doc, *columns).select_from(joined)
    return query.order_by(paged_rows.c.rank, paged_rows.c.claim_id)


def _unranked_rows(conn: Connection, filters: ClaimFilters, past_ranked: bool) -> Executable:
    """Matches past the ranked block, in index order, from its edge or from the cursor's
    claim."""
    joined, where, hits = _filtered(conn, filters)
    dialect = conn.dialect.name
    if past_ranked:
        start = search.key_of(dialect, CLAIM, bindparam("after_id"))
    else:
        start = bindparam("edge", type_=Integer if dialect == "sqlite" else String)
    unranked = literal(search.UNRANKED, Float).label("sort_key_0")
    query = select(CLAIM.c.id, CLAIM.c.doc, unranked).select_from(joined).where(*where)
    query = query.where(hits.c.key > start)
    return query.order_by(hits.c.key).limit(bindparam("page_limit"))


def _sort_keys(sort: str) -> list[Any]:
    """The expressions a date sort orders by before the id (none: the id alone)."""
    columns_sorted, descending = SORTS[sort]
    # unknown dates sort last in either direction
    unknown = literal(_FAR_PAST if descending else _FAR_FUTURE, Date)
    return [func.coalesce(column, unknown) for column in columns_sorted]


def _cursor_keys(key: Any, count: int) -> list[Any]:
    """A cursor's sort key as bind values: `count` dates written YYYY-MM-DD/YYYY-MM-DD (a
    malformed one resumes after every dated row)."""
    parts = str(key).split("/") if key is not None else []
    dates = [_as_date(part) for part in parts[:count]]
    return dates + [_FAR_FUTURE] * (count - len(dates))


def _as_date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return _FAR_FUTURE


def claim_documents(conn: Connection, ids: list[str]) -> list[str]:
    """The stored public JSON of each claim, in the order of `ids` (unknown ids are skipped)."""
    if not ids:
        return []
    if len(ids) == 1:  # one claim by id (the detail route): a statement compiled once
        return [
            row[1] for row in compiled.run(conn, ("claim-document",), _one_document, {"id": ids[0]})
        ]
    found = dict(conn.execute(select(CLAIM.c.id, CLAIM.c.doc).where(CLAIM.c.id.in_(ids))).all())
    return [found[i] for i in ids if i in found]


def _one_document() -> Executable:
    return select(CLAIM.c.id, CLAIM.c.doc).where(CLAIM.c.id == bindparam("id"))


def _sources(conn: Connection, source_id: str | None = None) -> list[dict[str, Any]]:
    """Sources with their provenance, claim count and evidence: every one, or the one asked
    (with its text). Counts come from the ingest's per-source totals, not from the claims."""
    counted = CLAIM_COUNT.c
    query = (
        select(
            *SOURCE_SUMMARY,
            SOURCE.c.published_reason,
            SOURCE.c.provenance_note,
            SOURCE.c.sha256,
            func.coalesce(counted.claims, 0).label("claims"),
        )
        .outerjoin(
            CLAIM_COUNT, (counted.source_id == SOURCE.c.id) & (counted.topic_id == literal("*"))
        )
        .order_by(SOURCE.c.id)
    )
    if source_id is not None:
        query = query.add_columns(SOURCE.c.text).where(SOURCE.c.id == source_id)
    rows = conn.execute(query).mappings().all()
    found = _evidence(conn, source_id)
    return [{**r, "evidence": found.get(r["id"], [])} for r in rows]


def list_sources(conn: Connection) -> list[dict[str, Any]]:
    return _sources(conn)


def _evidence(conn: Connection, source_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Sources' evidence entries in curated order: one query for all sources (or the one)."""
    query = select(
        SOURCE_EVIDENCE.c.source_id, *(SOURCE_EVIDENCE.c[name] for name in EVIDENCE_FIELDS)
    ).order_by(SOURCE_EVIDENCE.c.source_id, SOURCE_EVIDENCE.c.position)
    if source_id is not None:
        query = query.where(SOURCE_EVIDENCE.c.source_id == source_id)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(query).mappings():
        by_source[row["source_id"]].append({name: row[name] for name in EVIDENCE_FIELDS})
    return by_source


def get_source(conn: Connection, source_id: str) -> dict[str, Any] | None:
    """One source with its full stored text, read by its id (no other source is read)."""
    rows = _sources(conn, source_id)
    return rows[0] if rows else None


def list_topics(conn: Connection) -> list[dict[str, Any]]:
    counts = (
        select(CLAIM_TOPIC.c.topic_id, func.count().label("claims"))
        .group_by(CLAIM_TOPIC.c.topic_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            TOPIC.c.id,
            TOPIC.c.name,
            TOPIC.c.description,
            func.coalesce(counts.c.claims, 0).label("claims"),
        )
        .outerjoin(counts, counts.c.topic_id == TOPIC.c.id)
        .order_by(TOPIC.c.id)
    ).mappings()
    aliases: dict[str, list[str]] = defaultdict(list)
    for alias, topic_id in sorted(topic_aliases(conn).items()):
        aliases[topic_id].append(alias)
    return [{**r, "aliases": aliases[r["id"]]} for r in rows]


def known_ids(conn: Connection, kind: str) -> set[str]:
    table = {"topic": TOPIC, "source": SOURCE, "entity": ENTITY}[kind]
    return set(conn.execute(select(table.c.id)).scalars())


def topic_aliases(conn: Connection) -> dict[str, str]:
    """Every declared alias of a topic (defence) and the topic's id (defense)."""
    alias = TOPIC_ALIAS.c
    return dict(conn.execute(select(alias.alias, alias.topic_id)).all())


def known_units(conn: Connection) -> list[str]:
    """Every unit a stated quantity uses, as curated (USD, miles, km…)."""
    return list(
        conn.execute(select(QUANTITY.c.unit).distinct().order_by(QUANTITY.c.unit)).scalars()
    )


# The SECURITY DEFINER wrapper deploy/postgres/replication.sql installs: pg_stat_wal_receiver
# shows its details only to superusers and pg_read_all_stats, not to the SELECT-only reader.
_RECEIVER = "public.bilateral_wal_receiver()"


@dataclass(frozen=True)
class Replication:
    """Where this copy stands; `None` means unknown (e.g. the wrapper function is missing)."""

    replica: bool
    writer_reachable: bool | None
    replay_lag_seconds: float | None
    wal_pending_bytes: int | None

    @property
    def caught_up(self) -> bool:
        """Nothing newer can exist elsewhere: the writer's own copy, or a replica streaming from
        it with everything it received replayed."""
        return not self.replica or (self.writer_reachable is True and self.wal_pending_bytes == 0)


WRITER_COPY = Replication(False, True, 0.0, 0)


def replication_status(conn: Connection) -> Replication:
    """Ask Postgres whether it is a standby, how far replay trails, and whether it streams."""
    if conn.dialect.name != "postgresql":
        return WRITER_COPY
    row = conn.execute(
        text(
            "SELECT pg_is_in_recovery() AS replica,"
            " pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) AS pending,"
            " extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS since_replay,"
            f" to_regprocedure('{_RECEIVER}') IS NOT NULL AS has_receiver"
        )
    ).one()
    if not row.replica:
        return WRITER_COPY
    pending = None if row.pending is None else max(0, int(row.pending))
    streaming: bool | None = None
    if row.has_receiver:
        status = conn.execute(text(f"SELECT status FROM {_RECEIVER}")).scalar()
        streaming = status == "streaming"
    lag = 0.0 if pending == 0 else (None if row.since_replay is None else float(row.since_replay))
    return Replication(True, streaming, lag, pending)


def dataset_stamp(conn: Connection) -> tuple[str, datetime] | None:
    """(version, ingested_at) of the dataset this connection sees, if one is loaded.

    Read with every page of claims, so straight through the driver (app.compiled): SQLAlchemy's
    execution machinery costs several times this one-row query (the connection's transaction,
    hence its snapshot, is the same)."""
    rows = compiled.execute(conn, "SELECT version, ingested_at FROM dataset", ())
    if not rows:
        return None
    version, ingested_at = rows[0]
    if isinstance(ingested_at, str):  # SQLite stores it as text
        ingested_at = datetime.fromisoformat(ingested_at)
    return str(version), ingested_at


def dataset_info(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(
        select(DATASET.c.version, DATASET.c.ingested_at, DATASET.c.claims)
    ).mappings()
    first = row.first()
    return dict(first) if first else None


def entity_aliases(conn: Connection) -> dict[str, str]:
    """Every (lower-cased) name an entity is known by, and the entity's id."""
    alias = ENTITY_ALIAS.c
    return dict(conn.execute(select(alias.alias, alias.entity_id)).all())


def facet_counts(
    conn: Connection, filters: ClaimFilters, facets: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """For each facet, how many of the filtered claims fall in each value (most first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in facets:
        build = partial(_facet_query, conn, filters, facet)
        rows = _rows(conn, ("facet", facet), filters, build)
        counts = [
            {"value": _facet_value(facet, v), "count": n}
            for v, n in sorted(rows, key=lambda r: (-r[1], str(r[0])))
        ]
        out[facet] = counts
    return out


def _facet_query(conn: Connection, filters: ClaimFilters, facet: str) -> Executable:
    joined, where, _ = _filtered(conn, filters)
    ids = select(CLAIM.c.id).select_from(joined).where(*where).subquery("matching")
    if facet == "topic":
        value: Any = CLAIM_TOPIC.c.topic_id
        query = select(value, func.count()).join(ids, ids.c.id == CLAIM_TOPIC.c.claim_id)
    elif facet == "entity":
        value = CLAIM_ENTITY.c.entity_id
        query = select(value, func.count()).join(ids, ids.c.id == CLAIM_ENTITY.c.claim_id)
    elif facet == "kind":
        value = CLAIM.c.kind
        query = select(value, func.count()).select_from(CLAIM).join(ids, ids.c.id == CLAIM.c.id)
    else:
        value = {
            "source": SOURCE.c.id,
            "country": SOURCE.c.country,
            "year": _publication_year(),
        }[facet]
        query = (
            select(value, func.count())
            .select_from(CLAIM.join(SOURCE, CLAIM.c.source_id == SOURCE.c.id))
            .join(ids, ids.c.id == CLAIM.c.id)
        )
    return query.group_by(value)


def _publication_year() -> Any:
    """The year a source was published in, when its whole date interval lies in one year."""
    earliest = func.extract("year", SOURCE.c.published_earliest)
    return case((earliest == func.extract("year", SOURCE.c.published_latest), earliest))


def _facet_value(facet: str, value: Any) -> Any:
    if value is None:
        return "unknown" if facet == "country" else None
    return int(value) if facet == "year" else value


def _entities(
    conn: Connection, kind: str | None = None, entity_id: str | None = None
) -> list[dict[str, Any]]:
    """Entities with their claim counts and aliases: every one (of a kind), or the one asked."""
    counts = select(CLAIM_ENTITY.c.entity_id, func.count().label("claims"))
    aliases_query = select(ENTITY_ALIAS.c.written, ENTITY_ALIAS.c.entity_id).order_by(
        ENTITY_ALIAS.c.alias
    )
    if entity_id is not None:
        counts = counts.where(CLAIM_ENTITY.c.entity_id == entity_id)
        aliases_query = aliases_query.where(ENTITY_ALIAS.c.entity_id == entity_id)
    counted = counts.group_by(CLAIM_ENTITY.c.entity_id).subquery()
    query = (
        select(
            ENTITY.c.id,
            ENTITY.c.name,
            ENTITY.c.kind,
            func.coalesce(counted.c.claims, 0).label("claims"),
        )
        .outerjoin(counted, counted.c.entity_id == ENTITY.c.id)
        .order_by(ENTITY.c.id)
    )
    if kind:
        query = query.where(ENTITY.c.kind == kind)
    if entity_id is not None:
        query = query.where(ENTITY.c.id == entity_id)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    if not rows:
        return rows
    aliases: dict[str, list[str]] = defaultdict(list)
    for written, alias_of in conn.execute(aliases_query):
        aliases[alias_of].append(written)
    for row in rows:
        row["aliases"] = aliases[row["id"]]
    return rows


def list_entities(conn: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    return _entities(conn, kind)


def get_entity(conn: Connection, entity_id: str) -> dict[str, Any] | None:
    """One entity by its id, with its aliases, claim count and the ids of its claims."""
    rows = _entities(conn, entity_id=entity_id)
    if not rows:
        return None
    return {**rows[0], "claim_ids": claim_ids_for_entity(conn, entity_id)}


def claim_ids_for_entity(conn: Connection, entity_id: str) -> list[str]:
    return list(
        conn.execute(
            select(CLAIM_ENTITY.c.claim_id)
            .where(CLAIM_ENTITY.c.entity_id == entity_id)
            .order_by(CLAIM_ENTITY.c.claim_id)
        ).scalars()
    )


def list_figures(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(FIGURE).order_by(FIGURE.c.id)).mappings()]


def get_figure(conn: Connection, figure_id: str) -> dict[str, Any] | None:
    """One curated figure by its id (its statements: figure_statements(conn, figure_id))."""
    row = conn.execute(select(FIGURE).where(FIGURE.c.id == figure_id)).mappings().first()
    return dict(row) if row else None


def figure_statements(conn: Connection, figure_id: str | None = None) -> list[dict[str, Any]]:
    """Every quantity that states a figure, with its claim's period and its source."""
    query = (
        select(
            QUANTITY.c.figure_id,
            QUANTITY.c.claim_id,
            QUANTITY.c.value,
            QUANTITY.c.unit,
            QUANTITY.c.per,
            QUANTITY.c.qualifier,
            QUANTITY.c.as_stated,
            QUANTITY.c.currency_uncertain,
            CLAIM.c.quote,
            CLAIM.c.quote_start,
            CLAIM.c.quote_end,
            CLAIM.c.period_start,
            CLAIM.c.period_end,
            CLAIM.c.period_text,
            *(c.label(f"source_{c.name}") for c in SOURCE_SUMMARY),
        )
        .select_from(
            QUANTITY.join(CLAIM, CLAIM.c.id == QUANTITY.c.claim_id).join(
                SOURCE, SOURCE.c.id == CLAIM.c.source_id
            )
        )
        .where(QUANTITY.c.figure_id.is_not(None))
        .order_by(QUANTITY.c.claim_id, QUANTITY.c.position)
    )
    if figure_id is not None:
        query = query.where(QUANTITY.c.figure_id == figure_id)
    return [dict(r) for r in conn.execute(query).mappings()]
