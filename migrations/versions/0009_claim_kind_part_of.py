"""claim.kind (fact, commitment, position, rhetoric) and claim.part_of (the claim it restates a
part of), both in the listing index so their filters walk it like the others

Revision ID: 0009
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_LISTING = ["id", "topic_mask", "source_id", "period_start", "period_end"]


def upgrade() -> None:
    # Both come from the seeds and go into each claim's stored document: until the next
    # `bilateral ingest` the loaded dataset stops counting as loaded (/readyz answers 503), as
    # in 0003. Rows already stored say `unclassified` rather than guess a kind.
    op.execute("DELETE FROM dataset")
    op.drop_index("ix_claim_listing", table_name="claim")
    with op.batch_alter_table("claim") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="unclassified",
            )
        )
        batch.add_column(sa.Column("part_of", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("claim") as batch:
        batch.alter_column("kind", server_default=None)
    op.create_index("ix_claim_listing", "claim", [*OLD_LISTING, "kind", "part_of"])


def downgrade() -> None:
    op.drop_index("ix_claim_listing", table_name="claim")
    with op.batch_alter_table("claim") as batch:
        batch.drop_column("part_of")
        batch.drop_column("kind")
    op.create_index("ix_claim_listing", "claim", OLD_LISTING)
