"""full-text search index over claim statement and quote

SQLite: an FTS5 table; Postgres: a tsvector table with a GIN index. Both live outside the
SQLModel metadata (their types are engine-specific) and are filled by the ingestion job.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE claim_fts USING fts5("
            "id UNINDEXED, statement, quote, tokenize='porter unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE TABLE claim_search (claim_id VARCHAR PRIMARY KEY, document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_claim_search_document ON claim_search USING GIN (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE claim_fts")
    else:
        op.execute("DROP TABLE claim_search")
