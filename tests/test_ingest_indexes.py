"""A load may build the tables' indexes after their rows (SQLite does): every index the
migrations create is there afterwards, the same, and the stored rows are what a load with the
indexes in place stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from app.db import writer_engine
from app.ingest.dataset import load_dataset
from app.ingest.load import write_dataset
from app.migrate import upgrade
from bench.synth import generate
from tests.conftest import SEEDS, ingest


def schema_indexes(url: str) -> dict[str, list[Any]]:
    """Every table's indexes as the database reports them (name, columns, uniqueness…)."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: sorted(inspector.get_indexes(table), key=lambda index: str(index["name"]))
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: [
                    tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))
                ]
                for table in ("claim", "claim_topic", "claim_entity", "quantity", "claim_count")
            }
    finally:
        engine.dispose()


def test_every_index_is_back_after_loads(empty_db: str, tmp_path: Path) -> None:
    upgrade(empty_db)
    migrated = schema_indexes(empty_db)
    assert any(migrated[table] for table in ("claim", "claim_topic", "quantity"))
    ingest(empty_db)  # into empty tables
    assert schema_indexes(empty_db) == migrated
    generate(tmp_path / "synthetic", 300)
    ingest(empty_db, tmp_path / "synthetic")  # replacing a served dataset
    assert schema_indexes(empty_db) == migrated


def test_a_failed_load_keeps_the_indexes(empty_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The indexes are dropped inside the write transaction: a failure rolls that back too."""
    ingest(empty_db)
    before = schema_indexes(empty_db), rows(empty_db)

    def fail(_conn: Any) -> None:
        raise RuntimeError("the search index build failed")

    monkeypatch.setattr("app.search.rebuild_index", fail)
    engine = writer_engine(empty_db)
    try:
        dataset = load_dataset(SEEDS)
        # the same ids and digests, yet another version: the write goes ahead
        dataset.claims[0] = {**dataset.claims[0], "note": "a note stored but not digested"}
        try:
            write_dataset(engine, dataset, allow_removals=True)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the load should have failed")
    finally:
        engine.dispose()
    assert (schema_indexes(empty_db), rows(empty_db)) == before
