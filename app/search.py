"""Full-text search over claims: SQLite FTS5 or Postgres tsvector, one interface.

The index is rebuilt by the ingestion job inside its transaction (no triggers to remember).
User text never reaches a query language: it is cut into words and each word is quoted.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    Connection,
    Double,
    Float,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
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
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM claim_fts"))
        conn.execute(
            text(
                "INSERT INTO claim_fts (id, statement, quote) "
                "SELECT id, statement, quote FROM claim"
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
    """The bind values of `matches` for this text: every word, quoted (never an operator)."""
    quoted = " ".join('"' + t.replace('"', '""') + '"' for t in words(q))
    return {"fts_query": quoted, "ts_query": quoted}


def matches(dialect: str, q: str) -> Select[tuple[str, float]]:
    """(claim id, rank) of claims matching every word of q; a lower rank is more relevant."""
    quoted = parameters(q)["fts_query"]
    if dialect == "sqlite":
        fts = table("claim_fts", column("id"))
        bm25 = literal_column("bm25(claim_fts, 0.0, 2.0, 1.0)", Float)
        return (
            select(fts.c.id.label("id"), bm25.label("rank"))
            .select_from(fts)
            .where(literal_column("claim_fts").op("MATCH")(bindparam("fts_query", quoted)))
        )
    search = table("claim_search", column("claim_id"), column("document"))
    tsquery = func.websearch_to_tsquery(
        literal_column("'english'::regconfig"), bindparam("ts_query", quoted)
    )
    # float8, so the rank a cursor carries compares exactly (float4 loses digits on the way out)
    rank = -cast(func.ts_rank_cd(search.c.document, tsquery), Double)
    return select(search.c.claim_id.label("id"), rank.label("rank")).where(
        search.c.document.op("@@")(tsquery)
    )
