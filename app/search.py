"""Full-text search over claims: SQLite FTS5 or Postgres tsvector, one interface.

The index is rebuilt by the ingestion job inside its transaction (no triggers to remember).
User text never reaches a query language: it is cut into words and each word is quoted.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    Float,
    Integer,
    TableClause,
    bindparam,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    tablesample,
    text,
)
from sqlalchemy.sql import Select

MAX_QUERY_LENGTH = 200
MAX_WORDS = 16
# A decimal or grouped number (1.7, 5,525) is one word: Postgres indexes 1.7 as one token, and
# SQLite matches the quoted "1.7" as the phrase 1 7; split, Postgres would find neither part.
_WORD = re.compile(r"\d+(?:[.,]\d+)+|\w+", re.UNICODE)

# Tables that exist outside the SQLModel metadata (see migration 0002), with FTS5's shadow tables.
INDEX_TABLE_PREFIXES = ("claim_fts", "claim_search")


def is_index_table(name: str | None) -> bool:
    """Alembic's autogenerate must not treat the search index as drift."""
    return bool(name) and str(name).startswith(INDEX_TABLE_PREFIXES)


class EmptySearch(ValueError):
    """The text has no word to search for (only punctuation or operators)."""


def words(q: str) -> list[str]:
    found = _WORD.findall(q)
    if not found:
        raise EmptySearch("q has no word to search for")
    return found[:MAX_WORDS]


def rebuild_index(conn: Connection) -> None:
    """Refill the index from the claim table. On SQLite each index row takes its claim's rowid,
    so a search joins claims by integer rowid and pages past ranked candidates in rowid order
    (reading the index's own `id` column costs a lookup in its content table per match)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM claim_fts"))
        conn.execute(
            text(
                "INSERT INTO claim_fts (rowid, id, statement, quote) "
                "SELECT rowid, id, statement, quote FROM claim"
            )
        )
    else:
        conn.execute(text("DELETE FROM claim_search"))
        conn.execute(
            text(
                "INSERT INTO claim_search (claim_id, document) SELECT id, "
                "setweight(to_tsvector('english', statement), 'A') || "
                "setweight(to_tsvector('english', quote), 'B') FROM claim"
            )
        )


def parameters(q: str) -> dict[str, str]:
    """The bind values of `found` for this text: every word, quoted (never an operator)."""
    quoted = " ".join('"' + t.replace('"', '""') + '"' for t in words(q))
    return {"fts_query": quoted, "ts_query": quoted}


# Bounded work per search, whatever the number of matches (see docs/search.md):
# - a total above EXACT_TOTAL_UP_TO matches is estimated from a sample (and says so);
# - relevance ranks the first RANKED_CANDIDATES matches in index order (all of them when fewer
#   match, so a search with fewer matches is ranked exactly); the matches beyond follow them,
#   unranked, in index order, with the relevance key UNRANKED (above every rank).
# Module settings, read at each call (tests lower them).
EXACT_TOTAL_UP_TO = 1000
RANKED_CANDIDATES = 1000
UNRANKED = 1.0
# Estimates, at a cost bounded whatever the number of matches:
# - SQLite: the rowid range is cut in ESTIMATE_WINDOWS equal windows; in each, matches are counted
#   up to WINDOW_QUOTA, and a window that reaches it is extrapolated by the rowids it covered
#   (a window below its quota is counted exactly, so clustered matches are still well counted);
# - Postgres: matches are counted in a page sample of the index of about SAMPLE_ROWS rows
#   (TABLESAMPLE SYSTEM, a fixed seed: the same total on every page), then scaled up.
ESTIMATE_WINDOWS = 8
WINDOW_QUOTA = 128
SAMPLE_ROWS = 10_000

_fts = table("claim_fts", column("rowid"))
_search = table("claim_search", column("claim_id"), column("document"))


def _tsquery() -> ColumnElement[Any]:
    return func.websearch_to_tsquery(literal_column("'english'::regconfig"), bindparam("ts_query"))


def claim_key(dialect: str, claim: TableClause) -> ColumnElement[Any]:
    """The claim column the index is keyed by (its order is the index order): the rowid on
    SQLite, the id on Postgres."""
    if dialect == "sqlite":
        return literal_column(f"{claim.name}.rowid", Integer)
    return claim.c.id


def key_of(dialect: str, claim: TableClause, claim_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The index key of the claim with this id (NULL when there is none)."""
    if dialect == "sqlite":
        return select(claim_key(dialect, claim)).where(claim.c.id == claim_id).scalar_subquery()
    return claim_id


def found(dialect: str, ranked: bool = False, sampled: bool = False) -> Select[Any]:
    """(key[, rank]) of the claims matching every word of q (bind values: `parameters`).

    ranked adds the relevance rank (lower is more relevant): costly per row, so only for a
    bounded set of rows (a key range). sampled (Postgres) keeps a page sample of the index of
    `sample_percent` percent, for estimates.
    """
    if dialect == "sqlite":
        columns: list[ColumnElement[Any]] = [_fts.c.rowid.label("key")]
        if ranked:
            columns.append(literal_column("bm25(claim_fts, 0.0, 2.0, 1.0)", Float).label("rank"))
        matching = literal_column("claim_fts").op("MATCH")(bindparam("fts_query"))
        return select(*columns).select_from(_fts).where(matching)
    source: Any = _search
    if sampled:
        source = tablesample(
            _search,
            func.system(bindparam("sample_percent", type_=Double)),
            name="sampled",
            seed=literal(7),
        )
    key = source.c.claim_id
    columns = [key.label("key")]
    if ranked:
        # float8, so the rank a cursor carries compares exactly (float4 loses digits)
        rank = -cast(func.ts_rank_cd(source.c.document, _tsquery()), Double)
        columns.append(rank.label("rank"))
    return select(*columns).select_from(source).where(source.c.document.op("@@")(_tsquery()))


class EstimatedTotal(int):
    """A total estimated from a sample (above EXACT_TOTAL_UP_TO): the API marks it as such."""

    @classmethod
    def of(cls, estimate: float) -> EstimatedTotal:
        """Rounded to two significant digits (it is no more precise), and never at or below
        the threshold it was estimated above."""
        rounded = int(float(f"{estimate:.2g}")) if estimate >= 1 else 0
        return cls(max(rounded, EXACT_TOTAL_UP_TO + 1))


def sample_percent(claims: int) -> float:
    """The share of the Postgres index (in percent) that holds about SAMPLE_ROWS rows."""
    return min(100.0, 100.0 * SAMPLE_ROWS / max(claims, 1))


def windows(low: int, high: int) -> list[int]:
    """ESTIMATE_WINDOWS + 1 bounds cutting the rowids low..high in equal windows [b_i, b_i+1)."""
    width = (high - low) // ESTIMATE_WINDOWS + 1
    return [low + i * width for i in range(ESTIMATE_WINDOWS + 1)]


def windowed_estimate(bounds: list[int], counted: list[tuple[int, int, int | None]]) -> float:
    """Matches in all windows, from (window, matches counted up to WINDOW_QUOTA, rowid of the
    last one counted) per window: a full window is scaled by the share of it that was read."""
    total = 0.0
    for window, count, last in counted:
        low, high = bounds[window], bounds[window + 1]
        if count < WINDOW_QUOTA or last is None:
            total += count
        else:
            total += count * (high - low) / (last - low + 1)
    return total
