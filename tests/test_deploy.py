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
from tests.compose_env import VARIABLE, env_example, expand
from tests.conftest import ROOT, ingest
from tests.pg_cluster import Cluster

COMPOSE = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_compose_services_wait_for_each_other() -> None:
    services = COMPOSE["services"]
    assert {"db", "ingest", "api", "proxy"} <= set(services)  # the scale profile: test_scale.py
    # TCP, not the socket: the image's init-time server is on the socket only (docker-library
    # postgres #880), so a socket check passes before the ingest job can connect.
    for name in ("db", "db-primary", "db-replica-1"):
        probe = services[name]["healthcheck"]["test"]
        assert "pg_isready" in probe and probe[probe.index("-h") + 1] == "127.0.0.1", name
    assert services["ingest"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["ingest"]["condition"] == (
        "service_completed_successfully"
    )
    for name in ("ingest", "ingest-scale"):
        assert "bilateral migrate --wait" in " ".join(services[name]["command"])
        assert "bilateral ingest" in " ".join(services[name]["command"])
    (published,) = services["api"]["ports"]
    assert expand(published, {}) == "127.0.0.1:8000:8000"
    assert expand(published, {"API_BIND": "0.0.0.0"}) == "0.0.0.0:8000:8000"
    # Every published port is on loopback unless .env says otherwise.
    ports = [port for service in services.values() for port in service.get("ports", [])]
    assert len(ports) >= 3 and all(expand(p, {}).startswith("127.0.0.1:") for p in ports)
    for name in ("api", "api-1", "api-2"):
        assert services[name]["environment"]["REQUIRE_READ_ONLY_ROLE"] == "true"
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


def test_passwords_come_from_env_with_no_defaults() -> None:
    text_ = (ROOT / "docker-compose.yml").read_text()
    used = {m.group(1): m.group(2) for m in VARIABLE.finditer(text_)}
    secrets = [name for name in used if "PASSWORD" in name]
    assert secrets and all(used[name] == ":?" for name in secrets), used
    example = env_example()
    assert set(secrets) <= set(example)
    assert all(value.startswith("change-me") for k, v in example.items() if "PASSWORD" in k
               for value in [v])  # fmt: skip
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        expand(COMPOSE["services"]["db"]["environment"]["POSTGRES_PASSWORD"], {})
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def dockerignore_patterns() -> list[re.Pattern[str]]:
    """.dockerignore lines as Docker reads them (Go filepath.Match per path, `**` any depth)."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip().lstrip("/")
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("!"), "exceptions are not modelled by this test"
        regex = ""
        i = 0
        while i < len(line):
            if line.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif line.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif line[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif line[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif line[i] == "[":
                end = line.index("]", i)
                regex, i = regex + line[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(line[i]), i + 1
        patterns.append(re.compile(regex))
    return patterns


def ignored(relative: str, patterns: list[re.Pattern[str]]) -> bool:
    """A path is left out when it, or any folder above it, matches a pattern."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(p.fullmatch(prefix) for p in patterns for prefix in prefixes)


def test_dockerignore_keeps_what_the_dockerfile_copies_and_drops_the_rest() -> None:
    patterns = dockerignore_patterns()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M)
    sources = [name for line in copied for name in line.split()]
    assert {"pyproject.toml", "uv.lock", "app", "migrations", "seeds"} <= set(sources)
    for name in sources:
        assert (ROOT / name).exists() and not ignored(name, patterns), name
    context: list[str] = []  # what `docker build .` would send, walked as Docker prunes it
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT).as_posix()
        inside = [f"{here}/{name}".removeprefix("./") for name in (*dirs, *files)]
        dirs[:] = [d for d in dirs if not ignored(f"{here}/{d}".removeprefix("./"), patterns)]
        context += [path for path in inside if not ignored(path, patterns)]
    assert "app/cli.py" in context and "seeds/sources.yaml" in context
    assert not [p for p in context if p.split("/")[0] in (".venv", ".git", "tests")]
    assert not [p for p in context if p.endswith((".db", ".pyc")) or "__pycache__" in p]
    # What a run and a test run leave behind, at any depth, never reaches the context.
    for left_behind in (
        ".venv/bin/python", "bilateral.db", "bilateral.db-wal", "seeds/x.db",
        "app/__pycache__/x.pyc", ".pytest_cache/v", ".mypy_cache/x", ".ruff_cache/x",
        ".coverage", ".coverage.host.1",
        "htmlcov/index.html", "bench/out/results.json", ".git/HEAD", ".env", "test-artifacts/x",
    ):  # fmt: skip
        assert ignored(left_behind, patterns), left_behind


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


def as_reader(reader: str, *statements: str) -> None:
    """Run statements as the reader, with read-only mode switched off as any session can."""
    engine = create_engine(reader, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SET default_transaction_read_only = off"))
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def rerun_roles_sql(cluster: Cluster, database: str, writer_url: str, reader_url: str) -> None:
    """The repair: the roles script again, as the superuser, for the same two roles."""
    writer, reader = make_url(writer_url).username, make_url(reader_url).username
    assert writer and reader
    run_roles_sql(cluster, database, writer, reader)


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
            "SELECT id FROM claim FOR UPDATE",
            "COMMENT ON TABLE claim IS 'mine'",
            "CREATE SCHEMA mine",
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
    rerun_roles_sql(cluster, database, roles[1], reader)
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
    # PostgreSQL lets every role set its own defaults; nothing can revoke that.
    as_reader(
        reader,
        "SET statement_timeout = 0",  # this session only
        "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off",
        "ALTER ROLE CURRENT_USER SET statement_timeout = 0",
        f"ALTER ROLE CURRENT_USER IN DATABASE \"{database}\" SET work_mem = '2GB'",
        "ALTER ROLE CURRENT_USER SET enable_indexscan = off",
    )
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
    rerun_roles_sql(cluster, database, roles[1], reader)
    reader_role = make_url(reader).username
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
    # Every role may change its own password (PostgreSQL's ALTER ROLE); not preventable.
    as_reader(reader, "ALTER ROLE CURRENT_USER PASSWORD 'attacker'")
    with pytest.raises(DBAPIError, match="password authentication failed"):
        create_engine(reader).connect().close()
    rerun_roles_sql(cluster, database, writer_url, reader)
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
    assert "temporary files without limit (temp_file_limit = -1)" in found
