"""Resource limits: a runaway query is stopped and answered 503; errors never leak or hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from app import queries
from app.api.main import create_app
from app.core.config import Settings
from app.db import reader_engine

RUNAWAY = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n",
    "postgres": "SELECT pg_sleep(5)",
}


def test_runaway_query_is_stopped(backend: str, seeded_db: str) -> None:
    engine = reader_engine(seeded_db, timeout_ms=200)
    started = time.monotonic()
    with engine.connect() as conn, pytest.raises(OperationalError):
        conn.execute(text(RUNAWAY[backend]))
    assert time.monotonic() - started < 3
    with engine.connect() as conn:  # the connection is usable again afterwards
        assert conn.execute(text("SELECT count(*) FROM claim")).scalar_one() > 0
    engine.dispose()


def test_timeout_becomes_a_503_problem(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    app = create_app(Settings(database_url=seeded_db, query_timeout_ms=200))

    def runaway(conn: Connection) -> object:
        return conn.execute(text(RUNAWAY[backend])).all()

    monkeypatch.setattr(queries, "list_topics", runaway)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.get("/v1/topics")
        assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "took too long" in response.json()["detail"]
    app.state.catalog.dispose()


def test_unexpected_error_is_a_generic_500_problem(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(conn: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(queries, "list_topics", boom)
    app = create_app(Settings(database_url=seeded_db))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/topics")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["type"] == "/problems/internal-error"


def test_missing_sqlite_database_is_a_clear_startup_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="bilateral ingest"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'missing.db'}"))


def test_validation_errors_stay_small(client: TestClient) -> None:
    params = [("topic", "BAD TOPIC " * 20)] * 20 + [("limit", "x" * 5000)]
    response = client.get("/v1/claims", params=params)
    assert response.status_code == 422
    assert len(response.content) < 4000


def test_every_documented_path_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    claim_id = client.get("/v1/claims?limit=1").json()["items"][0]["id"]
    source_id = client.get("/v1/sources").json()["items"][0]["id"]
    examples = {
        "{claim_id}": claim_id, "{source_id}": source_id, "{entity}": "norad",
        "{figure_id}": "land-ports-of-entry", "{kind}": "not-found",
    }  # fmt: skip
    for path, operations in spec["paths"].items():
        # OPTIONS is documented once, on /v1 (every path answers it with Allow)
        assert set(operations) == ({"get", "options"} if path == "/v1" else {"get"}), path
        url = path
        for placeholder, value in examples.items():
            url = url.replace(placeholder, value)
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "path",
    ["/admin", "/v1/admin", "/v2/claims", "/debug", "/.env", "/v1/ingest", "/api"],
)
def test_undocumented_paths_do_not_exist(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
