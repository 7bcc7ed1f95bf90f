"""topic.mask, claim.topic_mask and the claim listing index (filters walk one index)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The masks are the ingestion job's work: until the next `bilateral ingest` fills them, the
    # loaded dataset stops counting as loaded (/readyz answers 503), as in 0003.
    op.execute("DELETE FROM dataset")
    with op.batch_alter_table("topic") as batch:
        batch.add_column(sa.Column("mask", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("claim") as batch:
        batch.add_column(
            sa.Column("topic_mask", sa.BigInteger(), nullable=False, server_default="0")
        )
    for table, column in (("topic", "mask"), ("claim", "topic_mask")):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, server_default=None)
    op.create_index(
        "ix_claim_listing",
        "claim",
        ["id", "topic_mask", "source_id", "period_start", "period_end"],
    )


def downgrade() -> None:
    op.drop_index("ix_claim_listing", table_name="claim")
    with op.batch_alter_table("claim") as batch:
        batch.drop_column("topic_mask")
    with op.batch_alter_table("topic") as batch:
        batch.drop_column("mask")
