"""topic_alias: other spellings of a topic id (defence -> defense), from seeds/topics.yaml

A dataset loaded before this revision simply has no aliases until the next ingest.

Revision ID: 0011
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topic_alias",
        sa.Column("alias", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("topic_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"]),
        sa.PrimaryKeyConstraint("alias"),
    )
    op.create_index("ix_topic_alias_topic_id", "topic_alias", ["topic_id"])


def downgrade() -> None:
    op.drop_index("ix_topic_alias_topic_id", table_name="topic_alias")
    op.drop_table("topic_alias")
