"""The container setup, checked without a Docker engine: structure, lint, and the roles."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.db import reader_engine
from app.pg_guard import write_capabilities
from tests import pg_cluster
from tests.conftest import ROOT, ingest
from tests.pg_cluster import Cluster

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


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not pg_cluster.available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("initdb/pg_ctl are needed under CI for the reader-role tests")
        pytest.skip("initdb/pg_ctl not installed")
    with pg_cluster.private_cluster() as started:
        yield started


def run_roles_sql(cluster: Cluster, database: str, writer: str, reader: str) -> None:
    cluster.psql(
        database, "-v", f"writer_role={writer}", "-v", f"reader_role={reader}",
        "-v", "writer_password=w-secret", "-v", "reader_password=r-secret",
        "-f", str(ROOT / "deploy" / "postgres" / "roles.sql"),
    )  # fmt: skip


@pytest.fixture
def roles(cluster: Cluster) -> Iterator[tuple[str, str, str]]:
    """A fresh database with the roles script applied: (database, writer url, reader url)."""
    suffix = uuid.uuid4().hex[:8]
    database, writer, reader = f"bf_app_{suffix}", f"bfw_{suffix}", f"bfr_{suffix}"
    cluster.psql("postgres", "-c", f'CREATE DATABASE "{database}"')
    run_roles_sql(cluster, database, writer, reader)
    writer_url = cluster.url(database, writer, "w-secret")
    ingest(writer_url)
    yield database, writer_url, cluster.url(database, reader, "r-secret")
    cluster.psql("postgres", "-c", f'DROP DATABASE "{database}" WITH (FORCE)')
    cluster.psql("postgres", "-c", f'DROP OWNED BY "{writer}", "{reader}" CASCADE')
    cluster.psql("postgres", "-c", f'DROP ROLE "{writer}", "{reader}"')


def _fails(conn: Connection, statement: str, match: str) -> None:
    with pytest.raises(DBAPIError, match=match):
        conn.execute(text(statement))


def test_reader_role_cannot_write_tables(roles: tuple[str, str, str]) -> None:
    _, _, reader = roles
    engine = create_engine(reader, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
        assert count > 0
        conn.execute(text("SET default_transaction_read_only = off"))
        for statement in (
            "INSERT INTO topic (id, name, description) VALUES ('x', 'x', 'x')",
            "UPDATE claim SET statement = 'changed'",
            "DELETE FROM claim",
            "TRUNCATE claim",
            "CREATE TABLE sneaky (id int)",
            "DROP TABLE claim",
        ):
            _fails(conn, statement, r"permission denied|must be owner")
        assert conn.execute(text("SELECT count(*) FROM claim")).scalar_one() == count
        assert write_capabilities(conn) == []
    engine.dispose()


def test_reader_role_has_no_large_objects_temp_tables_or_other_databases(
    cluster: Cluster, roles: tuple[str, str, str]
) -> None:
    database, _, reader = roles
    other = f"bf_other_{uuid.uuid4().hex[:8]}"
    cluster.psql("postgres", "-c", f'CREATE DATABASE "{other}"')
    # A database created later gets PUBLIC's default CONNECT: the roles script, re-run, locks it.
    writer_role, reader_role = make_url(roles[1]).username, make_url(reader).username
    assert writer_role and reader_role
    run_roles_sql(cluster, database, writer_role, reader_role)
    engine = create_engine(reader, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # lo_create works even in a read-only transaction unless EXECUTE is revoked.
        _fails(conn, "SELECT lo_create(0)", "permission denied for function lo_create")
        conn.execute(text("SET default_transaction_read_only = off"))
        _fails(conn, "SELECT lo_from_bytea(0, 'x')", "permission denied for function")
        _fails(conn, "SELECT lo_creat(-1)", "permission denied for function")
        _fails(conn, "CREATE TEMP TABLE t (x int)", "permission denied to create temporary")
        # temp_file_limit is superuser-only: the reader can neither lift nor drop it.
        for statement in (
            "ALTER ROLE CURRENT_USER SET temp_file_limit = -1",
            "ALTER ROLE CURRENT_USER RESET temp_file_limit",
            "SET temp_file_limit = -1",
        ):
            _fails(conn, statement, "permission denied to set parameter")
    engine.dispose()
    for name in (other, "postgres", "template1"):
        elsewhere = create_engine(make_url(reader).set(database=name))
        with pytest.raises(DBAPIError, match="permission denied for database"):
            elsewhere.connect().close()
        elsewhere.dispose()
    objects = cluster.psql(database, "-Atc", "SELECT count(*) FROM pg_largeobject_metadata")
    assert objects.stdout.strip() == "0"
    cluster.psql("postgres", "-c", f'DROP DATABASE "{other}"')


def test_settings_the_reader_puts_on_itself_do_not_reach_the_api(
    cluster: Cluster, roles: tuple[str, str, str]
) -> None:
    database, _, reader = roles
    engine = create_engine(reader, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SET default_transaction_read_only = off"))
        conn.execute(text("SET statement_timeout = 0"))  # this session only
        # PostgreSQL lets every role set its own defaults; nothing can revoke that.
        for statement in (
            "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off",
            "ALTER ROLE CURRENT_USER SET statement_timeout = 0",
            f"ALTER ROLE CURRENT_USER IN DATABASE \"{database}\" SET work_mem = '2GB'",
            "ALTER ROLE CURRENT_USER SET enable_indexscan = off",
        ):
            conn.execute(text(statement))
    engine.dispose()
    api = reader_engine(reader, 300)
    with api.connect() as conn:
        show = {
            name: conn.execute(text(f"SHOW {name}")).scalar_one()
            for name in ("default_transaction_read_only", "statement_timeout", "work_mem",
                         "enable_indexscan")
        }  # fmt: skip
        assert show == {
            "default_transaction_read_only": "on",
            "statement_timeout": "300ms",
            "work_mem": "4MB",
            "enable_indexscan": "on",
        }
        with pytest.raises(DBAPIError, match="statement timeout"):
            conn.execute(text("SELECT pg_sleep(5)"))
    with api.connect() as conn, pytest.raises(DBAPIError, match="read-only transaction"):
        conn.execute(text("DELETE FROM claim"))
    api.dispose()
    # Re-running the roles script (the repair) removes what the reader set on itself.
    writer, reader_role = make_url(roles[1]).username, make_url(reader).username
    assert writer and reader_role
    run_roles_sql(cluster, database, writer, reader_role)
    left = cluster.psql(
        "postgres", "-Atc",
        "SELECT string_agg(array_to_string(setconfig, ','), ';' ORDER BY setdatabase) "
        f"FROM pg_db_role_setting WHERE setrole = '{reader_role}'::regrole",
    )  # fmt: skip
    assert left.stdout.strip() == "default_transaction_read_only=on,temp_file_limit=1GB"


def test_a_password_the_reader_sets_is_undone_by_the_roles_script(
    cluster: Cluster, roles: tuple[str, str, str]
) -> None:
    database, writer_url, reader = roles
    engine = create_engine(reader, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SET default_transaction_read_only = off"))
        # Every role may change its own password (PostgreSQL's ALTER ROLE); not preventable.
        conn.execute(text("ALTER ROLE CURRENT_USER PASSWORD 'attacker'"))
    engine.dispose()
    with pytest.raises(DBAPIError, match="password authentication failed"):
        create_engine(reader).connect().close()
    writer, reader_role = make_url(writer_url).username, make_url(reader).username
    assert writer and reader_role
    run_roles_sql(cluster, database, writer, reader_role)
    again = create_engine(reader)
    with again.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM claim")).scalar_one() > 0
    again.dispose()


def test_write_capabilities_name_what_a_writer_can_do(roles: tuple[str, str, str]) -> None:
    engine = create_engine(roles[1])
    with engine.connect() as conn:
        found = write_capabilities(conn)
    engine.dispose()
    assert "INSERT on claim" in found and "CREATE on schema public" in found
