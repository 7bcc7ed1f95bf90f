"""Every foreseeable CLI failure: one `error:` line naming the value and the fix, exit 1,
no traceback (unless --debug), and no database changed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import ROOT, SEEDS, PostgresServer, ingest

runner = CliRunner()
PROJECT_ENV = ("DATABASE_URL", "API_DATABASE_URL", "SEEDS_DIR", "BILATERAL_DEBUG", "WORKERS")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def one_error_line(args: list[str], **env: str) -> str:
    """Run `bilateral args` in-process; it must fail with exactly one `error:` line."""
    clean: dict[str, str | None] = dict.fromkeys(PROJECT_ENV)
    result = runner.invoke(cli, args, env={**clean, **env})
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert result.stdout == ""
    assert "Traceback" not in result.output
    return lines[0]


def snapshot(url: str) -> tuple[Any, ...]:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
        version = conn.execute(text("SELECT version FROM dataset")).scalar_one()
    engine.dispose()
    return count, version


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    ingest(url)
    return url


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


@pytest.mark.parametrize("command", [["migrate"], ["ingest", str(SEEDS)], ["serve"]])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("garbage", "DATABASE_URL='garbage' is not a database URL; use sqlite:///"),
        ("mysql://root:hunter2@db/x", "mysql is not supported; use sqlite:///"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2 is not supported"),
        ("sqlite:///no/such/folder/x.db", "folder"),
    ],
)
def test_bad_database_url_is_one_line(
    command: list[str], url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = one_error_line(command, DATABASE_URL=url)
    assert expected in line
    assert "hunter2" not in line  # passwords are never echoed
    assert list(tmp_path.iterdir()) == []  # no database file, no folder was created


def test_serve_without_a_database_file_says_to_ingest(tmp_path: Path) -> None:
    missing = tmp_path / "bilateral.db"
    line = one_error_line(["serve"], DATABASE_URL=f"sqlite:///{missing}")
    assert f"no database at {missing}" in line and "bilateral ingest" in line
    assert not missing.exists()
    api = one_error_line(
        ["serve"], DATABASE_URL="sqlite:///x.db", API_DATABASE_URL=f"sqlite:///{missing}"
    )
    assert "(API_DATABASE_URL)" in api


def test_serve_on_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    impostor = tmp_path / "notes.db"
    impostor.write_bytes(b"these are notes, not SQLite" * 100)
    line = one_error_line(["serve"], DATABASE_URL=f"sqlite:///{impostor}")
    assert "file is not a database" in line and "DATABASE_URL" in line
    assert impostor.read_bytes() == b"these are notes, not SQLite" * 100


def test_serve_refuses_a_port_in_use(seeded: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_error_line(["serve", "--port", str(port)], DATABASE_URL=seeded)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--port" in line


@pytest.mark.parametrize("command", [["migrate"], ["ingest", str(SEEDS)], ["serve"]])
def test_postgres_refusing_the_connection_is_one_line(command: list[str]) -> None:
    port = closed_port()
    line = one_error_line(command, DATABASE_URL=f"postgresql+psycopg://u:pw@127.0.0.1:{port}/d")
    assert f"database postgresql+psycopg://u:***@127.0.0.1:{port}/d: Connection refused" in line
    assert "is the server running" in line


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["migrate"], ["ingest", str(SEEDS)], ["serve"]])
def test_unknown_postgres_role_is_one_line(command: list[str], postgres: PostgresServer) -> None:
    url = postgres.new_database()
    stranger = postgres.url.set(username="bf_nobody_7f3a", database=url.rsplit("/", 1)[1])
    line = one_error_line(command, DATABASE_URL=stranger.render_as_string(hide_password=False))
    assert 'role "bf_nobody_7f3a" does not exist' in line and "roles.sql" in line
    engine = create_engine(url)
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []  # nothing was migrated
    engine.dispose()


@pytest.mark.postgres
def test_serve_refuses_a_role_that_can_write_when_asked(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    ingest(url)
    line = one_error_line(["serve"], DATABASE_URL=url, REQUIRE_READ_ONLY_ROLE="true")
    assert "can make lasting changes: role attribute SUPERUSER" in line
    assert "deploy/postgres/roles.sql" in line


def test_a_file_as_the_seeds_folder_says_so(seeded: str, tmp_path: Path) -> None:
    before = snapshot(seeded)
    not_a_folder = tmp_path / "seeds.txt"
    not_a_folder.write_text("x")
    for command in ("check", "ingest", "stats"):
        line = one_error_line([command, str(not_a_folder)], DATABASE_URL=seeded)
        assert f"{not_a_folder} is not a folder" in line
    assert snapshot(seeded) == before


def test_a_folder_where_a_document_should_be_is_one_line(seeded: str, seeds: Path) -> None:
    """Tests run as root, where chmod 000 does not deny reading: a directory does, honestly."""
    document = sorted((seeds / "documents").iterdir())[0]
    document.unlink()
    document.mkdir()
    before = snapshot(seeded)
    for command in ("check", "ingest"):
        line = one_error_line([command, str(seeds)], DATABASE_URL=seeded)
        assert str(document) in line and "a file is expected there, not a folder" in line
    assert snapshot(seeded) == before


def make_unreadable(target: Path, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 for a normal user; as root, which reads anything, `Path.<method>` is made to
    raise the PermissionError everyone else would get (tests here run as root)."""
    if os.geteuid() != 0:
        target.chmod(0)
        return
    real = getattr(Path, method)

    def denied(path: Path) -> Any:
        if path == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, method, denied)


def test_a_permission_error_names_the_file(
    seeded: str, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = sorted((seeds / "claims").iterdir())[0]
    make_unreadable(claims, "read_bytes", monkeypatch)
    before = snapshot(seeded)
    line = one_error_line(["ingest", str(seeds)], DATABASE_URL=seeded)
    assert str(claims) in line and "Permission denied" in line and "read access" in line
    assert snapshot(seeded) == before


def test_an_unreadable_claims_folder_names_it(
    seeded: str, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = seeds / "claims"
    make_unreadable(folder, "iterdir", monkeypatch)
    before = snapshot(seeded)
    try:
        for command in ("check", "ingest"):
            line = one_error_line([command, str(seeds)], DATABASE_URL=seeded)
            assert f"cannot read {folder}: Permission denied" in line
    finally:
        folder.chmod(0o755)
    assert snapshot(seeded) == before


def test_an_invalid_setting_is_one_line(seeded: str) -> None:
    line = one_error_line(["serve"], DATABASE_URL=seeded, WORKERS="many")
    assert "WORKERS='many'" in line
    line = one_error_line(["serve"], DATABASE_URL=seeded, LOG_LEVEL="loud")
    assert "LOG_LEVEL='loud'" in line and "'info'" in line


def subprocess_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in PROJECT_ENV}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, **env},
        timeout=120,
    )


def test_the_real_command_prints_one_line_and_debug_the_traceback() -> None:
    port = closed_port()
    url = f"postgresql+psycopg://u@127.0.0.1:{port}/d"
    plain = subprocess_cli("migrate", DATABASE_URL=url)
    assert plain.returncode == 1
    assert plain.stderr.count("\n") == 1 and plain.stderr.startswith("error: database ")
    for debug in (["--debug", "migrate"], ["migrate"]):
        env = {"DATABASE_URL": url} | ({} if debug[0] == "--debug" else {"BILATERAL_DEBUG": "1"})
        loud = subprocess_cli(*debug, **env)
        assert loud.returncode == 1
        assert "Traceback" in loud.stderr and "Connection refused" in loud.stderr


def test_wait_retries_for_a_bounded_time_then_one_line() -> None:
    port = closed_port()
    url = f"postgresql+psycopg://u@127.0.0.1:{port}/d"
    started = time.monotonic()
    result = runner.invoke(cli, ["migrate", "--wait", "2"], env={"DATABASE_URL": url})
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert 2 <= elapsed < 15
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"waiting for database postgresql+psycopg://u@127.0.0.1:{port}/d")
    assert lines[-1].startswith("error: database") and len(lines) <= 3


def test_version_comes_from_the_package() -> None:
    from importlib.metadata import version

    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"bilateral {version('bilateral-facts')}"
