"""Drop the claim indexes on source_id, period_start and period_end (the listing index serves)

With them, SQLite's planner may fetch every match of a source or period filter through one of
them and sort the lot instead of walking the listing index in id order.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_claim_source_id": "source_id",
    "ix_claim_period_start": "period_start",
    "ix_claim_period_end": "period_end",
}


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="claim")


def downgrade() -> None:
    for name, column in DROPPED.items():
        op.create_index(name, "claim", [column])
