"""Publication dates as intervals (source.published_earliest/_latest, the date as curated, how it
was established); figures' behaviour over time; currency-uncertain quantities; aliases as written

Revision ID: 0007
Revises: 0011
"""

import calendar
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE = sa.table(
    "source",
    sa.column("id", sa.String()),
    sa.column("published", sa.String()),
    sa.column("published_earliest", sa.Date()),
    sa.column("published_latest", sa.Date()),
    sa.column("published_precision", sa.String()),
)
_OLD_SOURCE = sa.table(  # before this revision: published is the first day
    "source",
    sa.column("id", sa.String()),
    sa.column("published", sa.Date()),
    sa.column("published_precision", sa.String()),
)


def _interval(first: date, precision: str) -> tuple[str, date]:
    """An old row stored an imprecise date as its first day: the date as written, last day."""
    if precision == "year":
        return str(first.year), date(first.year, 12, 31)
    if precision == "month":
        last = calendar.monthrange(first.year, first.month)[1]
        return f"{first.year:04d}-{first.month:02d}", date(first.year, first.month, last)
    return first.isoformat(), first


def upgrade() -> None:
    # Claim documents embed the source summary, whose shape changes: the loaded dataset stops
    # counting as loaded (/readyz 503) until `bilateral ingest` renders them again, as in 0003.
    op.execute("DELETE FROM dataset")
    bind = op.get_bind()
    old = bind.execute(
        sa.text("SELECT id, published, published_precision FROM source WHERE published IS NOT NULL")
    ).all()
    with op.batch_alter_table("source") as batch:
        batch.add_column(sa.Column("published_earliest", sa.Date(), nullable=True))
        batch.add_column(sa.Column("published_latest", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("published_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch.drop_index("ix_source_published")
        batch.drop_column("published")
    with op.batch_alter_table("source") as batch:
        batch.add_column(sa.Column("published", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("figure") as batch:
        batch.add_column(
            sa.Column(
                "behaviour",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="changes",
            )
        )
        batch.add_column(
            sa.Column("time_window", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("quantity") as batch:
        batch.add_column(
            sa.Column("currency_uncertain", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("entity_alias") as batch:
        batch.add_column(
            sa.Column(
                "written", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
    op.execute("UPDATE entity_alias SET written = alias")
    for table, column in (
        ("figure", "behaviour"),
        ("quantity", "currency_uncertain"),
        ("entity_alias", "written"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, server_default=None)
    for source_id, published, precision in old:
        first = published if isinstance(published, date) else date.fromisoformat(str(published))
        text, last = _interval(first, precision)
        bind.execute(
            _SOURCE.update()
            .where(_SOURCE.c.id == source_id)
            .values(published=text, published_earliest=first, published_latest=last)
        )


def downgrade() -> None:
    op.execute("DELETE FROM dataset")
    for table, column in (
        ("figure", "behaviour"),
        ("figure", "time_window"),
        ("quantity", "currency_uncertain"),
        ("entity_alias", "written"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    with op.batch_alter_table("source") as batch:
        batch.drop_column("published")
    with op.batch_alter_table("source") as batch:
        batch.add_column(sa.Column("published", sa.Date(), nullable=True))
        batch.create_index("ix_source_published", ["published"], unique=False)
    op.execute("UPDATE source SET published = published_earliest")
    # The old schema has no ranges: one within a year goes back to that year (its first day, as
    # it stored years), any other to unknown, so no day is invented.
    bind = op.get_bind()
    ranges = bind.execute(
        sa.select(_SOURCE.c.id, _SOURCE.c.published_earliest, _SOURCE.c.published_latest).where(
            _SOURCE.c.published_precision == "range"
        )
    ).all()
    for source_id, earliest, latest in ranges:
        first, last = (
            d if isinstance(d, date) else date.fromisoformat(str(d)) for d in (earliest, latest)
        )
        same_year = first.year == last.year
        bind.execute(
            sa.update(_OLD_SOURCE)
            .where(_OLD_SOURCE.c.id == source_id)
            .values(
                published_precision="year" if same_year else "unknown",
                published=date(first.year, 1, 1) if same_year else None,
            )
        )
    with op.batch_alter_table("source") as batch:
        batch.drop_column("published_reason")
        batch.drop_column("published_latest")
        batch.drop_column("published_earliest")
