"""claim.doc: each claim's public JSON, rendered at ingest and served as stored

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No migration can render documents (that is the ingestion job's work): rows from before
    # this revision get an empty one, so the loaded dataset stops counting as loaded and
    # /readyz answers 503 until the next `bilateral ingest` rewrites every row.
    op.execute("DELETE FROM dataset")
    with op.batch_alter_table("claim") as batch:
        batch.add_column(
            sa.Column("doc", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
    with op.batch_alter_table("claim") as batch:
        batch.alter_column("doc", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("claim") as batch:
        batch.drop_column("doc")
