"""SQLite: each full-text index row takes its claim's rowid

A search then joins claims by integer rowid and pages past its ranked candidates in rowid order,
without reading the index's `id` column (a content-table lookup per match). The ingestion job
fills the index this way (app.search.rebuild_index); this refills an index loaded before it.
Postgres keys its index by claim id already: nothing to do there.

Revision ID: 0012
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM claim_fts")
        op.execute(
            "INSERT INTO claim_fts (rowid, id, statement, quote) "
            "SELECT rowid, id, statement, quote FROM claim"
        )


def downgrade() -> None:
    """Any rowids serve the earlier revisions: the index stays as it is."""
