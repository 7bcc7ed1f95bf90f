"""The container setup, checked without a Docker engine: structure, lint, and the roles."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.db import reader_engine
from tests.conftest import ROOT, PostgresServer, ingest

COMPOSE = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_compose_services_wait_for_each_other() -> None:
    services = COMPOSE["services"]
    assert {"db", "ingest", "api", "proxy"} <= set(services)  # the scale profile: test_scale.py
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["ingest"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["ingest"]["condition"] == (
        "service_completed_successfully"
    )
    assert "bilateral migrate" in " ".join(services["ingest"]["command"])
    assert "bilateral ingest" in " ".join(services["ingest"]["command"])
    assert services["api"]["ports"] == ["8000:8000"]
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert any("pgdata" in v for v in services["db"]["volumes"])


def test_compose_sets_only_variables_the_app_reads() -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name in ("ingest", "api"):
        env = COMPOSE["services"][name]["environment"]
        assert set(env) <= known, set(env) - known
    writer = COMPOSE["services"]["ingest"]["environment"]["DATABASE_URL"]
    reader = COMPOSE["services"]["api"]["environment"]["DATABASE_URL"]
    assert "bilateral_writer" in writer and "bilateral_reader" in reader


def test_dockerfile_is_multistage_nonroot_with_healthcheck() -> None:
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.M)) == 2
    assert "uv sync --frozen" in DOCKERFILE
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert "COPY seeds" in DOCKERFILE


@pytest.mark.parametrize(
    "argv",
    [
        ["hadolint", str(ROOT / "Dockerfile")],
        ["check-jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(ROOT / "docker-compose.yml")],
    ],
)  # fmt: skip
def test_linters_accept_dockerfile_and_compose(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is a dev dependency and should be installed")
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlite_api_engine_cannot_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    ingest(url)
    engine = reader_engine(url, 1000)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM claim")).scalar_one() > 0
        with pytest.raises(DBAPIError):
            conn.execute(text("DELETE FROM claim"))
    engine.dispose()


@pytest.mark.postgres
def test_postgres_reader_role_has_select_only(postgres: PostgresServer) -> None:
    database_url = postgres.new_database()
    url = make_url(database_url)
    subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1", "-p", str(url.port),
         "-U", url.username or "postgres", "-d", url.database or "",
         "-v", "writer_password=w", "-v", "reader_password=r",
         "-f", str(ROOT / "deploy" / "postgres" / "roles.sql")],
        check=True, capture_output=True,
    )  # fmt: skip
    writer = url.set(username="bilateral_writer").render_as_string(hide_password=False)
    reader = url.set(username="bilateral_reader").render_as_string(hide_password=False)
    ingest(writer)
    engine = create_engine(reader, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
        assert count > 0
        conn.execute(text("SET default_transaction_read_only = off"))
        for statement in (
            "INSERT INTO topic (id, name, description) VALUES ('x', 'x', 'x')",
            "UPDATE claim SET statement = 'changed'",
            "DELETE FROM claim",
            "CREATE TABLE sneaky (id int)",
            "DROP TABLE claim",
        ):
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                conn.execute(text(statement))
        assert conn.execute(text("SELECT count(*) FROM claim")).scalar_one() == count
    engine.dispose()
