"""Fixtures: every API and ingestion test runs on SQLite and on PostgreSQL.

PostgreSQL comes from DATABASE_URL when it names one, else the local server at 127.0.0.1:5432.
Each test session works in databases of its own, created and dropped here. When the server is
unreachable the Postgres tests are skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from app.api.caching import HttpCaching, ResponseCache
from app.api.main import create_app
from app.core.config import Settings
from app.db import writer_engine
from app.ingest.dataset import load_dataset
from app.ingest.load import write_dataset
from app.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else DEFAULT_POSTGRES


class PostgresServer:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new_database(self) -> str:
        name = f"bf_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(postgres_server_url())
    try:
        with server.admin.connect():
            pass
    except OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL unreachable under CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    yield server
    server.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a new, empty database on the current backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


def ingest(url: str, seeds: Path = SEEDS) -> None:
    upgrade(url)
    engine = writer_engine(url)
    try:
        write_dataset(engine, load_dataset(seeds), allow_removals=True)  # tests swap datasets
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def seeded_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Per backend, one database holding the real seeds, shared by the read-only API tests."""
    return {"sqlite": "", "postgres": ""}


@pytest.fixture
def seeded_db(backend: str, seeded_urls: dict[str, str], request: pytest.FixtureRequest) -> str:
    if not seeded_urls[backend]:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("seeded") / "seeded.db"
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("postgres").new_database()
        ingest(url)
        seeded_urls[backend] = url
    return seeded_urls[backend]


# Apps `serving` built during the current test, for the no_response_cache_hits check.
_served: list[FastAPI] = []


@contextmanager
def serving(url: str, **settings: Any) -> Iterator[TestClient]:
    """A test client of the API reading the database at `url` (`settings`: extra Settings)."""
    app = create_app(Settings(database_url=url, **settings))
    _served.append(app)
    with TestClient(app) as test_client:
        yield test_client
    app.state.catalog.dispose()


def response_cache(app: Any) -> ResponseCache:
    """The in-process response cache of an app built by create_app."""
    for middleware in app.user_middleware:
        if middleware.cls is HttpCaching:
            responses = middleware.kwargs["responses"]
            assert isinstance(responses, ResponseCache)
            return responses
    raise LookupError("the app has no HttpCaching layer")


@pytest.fixture(autouse=True)
def _no_response_cache_hits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked no_response_cache_hits repeat requests to check what the database holds:
    an answer replayed from the response cache would prove nothing, so none may be one."""
    _served.clear()
    yield
    apps = list(_served)
    _served.clear()
    if request.node.get_closest_marker("no_response_cache_hits") is None:
        return
    assert apps, "no_response_cache_hits: the test served no app through tests.conftest"
    hits = sum(response_cache(app).hits for app in apps)
    assert hits == 0, f"{hits} answer(s) came from the response cache, not the database"


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Per table (and search index), its row count and a digest of all its rows, read through a
    fresh engine, so no cache of a running API can stand in for what the database holds."""
    engine = create_engine(url)
    out: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as conn:
            for name, table in sorted(SQLModel.metadata.tables.items()):
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                out[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
            index = "claim_fts" if conn.dialect.name == "sqlite" else "claim_search"
            out[index] = (conn.execute(text(f"SELECT count(*) FROM {index}")).scalar_one(), "")
    finally:
        engine.dispose()
    return out


@pytest.fixture
def client(seeded_db: str) -> Iterator[TestClient]:
    with serving(seeded_db) as test_client:
        yield test_client


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the real seeds that a test may break."""
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Wrap owner.name so the test can see how often it ran (the list grows by one per call)."""
    calls: list[int] = []
    original = getattr(owner, name)

    def counting(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(owner, name, counting)
    return calls
