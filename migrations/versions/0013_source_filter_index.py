"""A covering index for what source filters read (id, country, publication dates)

SQLite appended the date columns after the document text (0007), so a filter or count that
read them from the table walked each text's overflow pages; the index answers them alone.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["id", "country", "published_earliest", "published_latest"]


def upgrade() -> None:
    op.create_index("ix_source_filters", "source", COLUMNS)
    op.execute("ANALYZE source")


def downgrade() -> None:
    op.drop_index("ix_source_filters", table_name="source")
