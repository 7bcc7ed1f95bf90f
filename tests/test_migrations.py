"""Alembic owns the schema: it builds it from empty, and the models match the migrations."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.migrate import alembic_config, include_name, upgrade
from tests.conftest import ingest


def mark_dataset_loaded(conn: Connection) -> None:
    """A dataset row as an ingest before the migration under test would have left it."""
    conn.execute(
        text(
            "INSERT INTO dataset (id, version, ingested_at, sources, claims) "
            "VALUES (1, 'old', '2026-01-01 00:00:00', 5, 73)"
        )
    )


def test_upgrade_from_empty_then_no_drift(empty_db: str) -> None:
    upgrade(empty_db)
    upgrade(empty_db)  # a second run is a no-op
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        expected = {"source", "source_evidence", "claim", "topic", "claim_topic", "entity"}
        assert expected <= tables and "quantity" in tables
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_upgrading_past_derived_columns_unloads_the_dataset(empty_db: str) -> None:
    """Documents and counts are rendered by the ingestion job, not by migrations: a dataset
    loaded before them must not look loaded (ready) until it is ingested again."""
    upgrade(empty_db, "0002")
    engine = create_engine(empty_db)
    with engine.begin() as conn:
        mark_dataset_loaded(conn)
    upgrade(empty_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dataset")).scalar_one() == 0
    engine.dispose()


def test_publication_dates_become_intervals(empty_db: str) -> None:
    """0007: an imprecise date stored as its first day becomes the interval it stood for."""
    upgrade(empty_db, "0011")
    engine = create_engine(empty_db)
    rows = [("y", "2019-01-01", "year"), ("m", "2021-02-01", "month"), ("d", "2021-02-26", "day")]
    with engine.begin() as conn:
        for source_id, published, precision in rows:
            conn.execute(
                text(
                    "INSERT INTO source (id, file, name, published, published_precision, "
                    "provenance_note, text, sha256) VALUES (:id, 'f.txt', 'n', :published, "
                    ":precision, 'note', 'text', 'x')"
                ),
                {"id": source_id, "published": published, "precision": precision},
            )
        conn.execute(
            text(
                "INSERT INTO source (id, file, name, published_precision, provenance_note, "
                "text, sha256) VALUES ('u', 'f.txt', 'n', 'unknown', 'note', 'text', 'x')"
            )
        )
    upgrade(empty_db)
    with engine.connect() as conn:
        got = {
            r[0]: tuple(None if v is None else str(v) for v in r[1:])
            for r in conn.execute(
                text(
                    "SELECT id, published, published_earliest, published_latest, "
                    "published_precision FROM source"
                )
            )
        }
    engine.dispose()
    assert got == {
        "y": ("2019", "2019-01-01", "2019-12-31", "year"),
        "m": ("2021-02", "2021-02-01", "2021-02-28", "month"),
        "d": ("2021-02-26", "2021-02-26", "2021-02-26", "day"),
        "u": (None, None, None, "unknown"),
    }


def test_downgrading_0007_invents_no_day(empty_db: str) -> None:
    """Back to 0011, a range within one year becomes that year (stored, as then, as Jan 1)."""
    ingest(empty_db)
    command.downgrade(alembic_config(empty_db), "0011")
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        got = {
            r[0]: (None if r[1] is None else str(r[1]), r[2])
            for r in conn.execute(text("SELECT id, published, published_precision FROM source"))
        }
    engine.dispose()
    assert got["usdos-2019-strengthening-our-alliance"] == ("2019-01-01", "year")
    assert got["usdos-2021-neighbors-friends-and-allies"] == ("2021-02-26", "day")
    assert got["article-us-canada-relationship-undated"] == ("2022-08-20", "day")
    assert got["gac-canada-united-states-relations"] == (None, "unknown")
    upgrade(empty_db)
