"""claim_count: claims per source and topic, written at ingest (totals without a scan)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The counts are the ingestion job's work: until the next `bilateral ingest` fills them, the
    # loaded dataset stops counting as loaded (/readyz answers 503), as in 0003.
    op.execute("DELETE FROM dataset")
    op.create_table(
        "claim_count",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("topic_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"]),
        sa.PrimaryKeyConstraint("source_id", "topic_id"),
    )


def downgrade() -> None:
    op.drop_table("claim_count")
