"""The CLI's failure handling and pre-flight checks, apart from the commands themselves.

Every foreseeable failure becomes one `error: …` line (what failed, the value, the fix) and exit
1; tracebacks only with `--debug` or BILATERAL_DEBUG=1.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool
from typer._click import ClickException, Context  # typer vendors its own click

from app.core.config import Settings
from app.db import is_sqlite, reader_engine
from app.pg_guard import write_capabilities

DEBUG_ENV = "BILATERAL_DEBUG"
URL_EXAMPLES = "sqlite:///bilateral.db or postgresql+psycopg://user:password@host:5432/db"


class CliError(ClickException):
    """A foreseeable failure: one line saying what failed, the value, and the fix."""

    def show(self, file: Any = None) -> None:
        typer.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    raise CliError(message)


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes")


def _describe(exc: Exception) -> str:
    """One line for an exception no command foresaw more precisely."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        value = repr(first["input"])[:100]
        return f"environment variable {name}={value}: {first['msg']}; see the README"
    if isinstance(exc, OSError) and exc.filename is not None:
        fix = {
            IsADirectoryError: "a file is expected there, not a folder",
            NotADirectoryError: "a folder is expected there, not a file",
            PermissionError: "give the user running bilateral read access to it",
        }.get(type(exc), "check that it exists and is readable")
        return f"cannot read {exc.filename}: {exc.strerror}; {fix}"
    return (
        f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}; "
        f"run again with --debug (or {DEBUG_ENV}=1) for the traceback"
    )


class OneLineErrors(typer.core.TyperGroup):
    """Every exception leaves as one `error:` line and exit 1, unless debugging is asked for."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ClickException, typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _debug():
                raise
            raise CliError(_describe(exc)) from exc


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url[:100]


def database_url(url: str, variable: str = "DATABASE_URL") -> URL:
    """The parsed URL, or one line naming the variable, its value and what a valid one is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        fail(f"{variable}={url[:100]!r} is not a database URL; use {URL_EXAMPLES}")
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in ("sqlite", "postgresql") or driver not in ("", "pysqlite", "psycopg"):
        fail(
            f"{variable}={_shown(url)!r}: {parsed.drivername} is not supported; use {URL_EXAMPLES}"
        )
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database or "").resolve().parent
        if not folder.is_dir():
            fail(
                f"{variable}={_shown(url)!r}: folder {folder} does not exist; "
                "create it or point the URL elsewhere"
            )
    return parsed


def _fix_for(reason: str, variable: str) -> str:
    lowered = reason.lower()
    if "refused" in lowered or "resolve host" in lowered or "timeout" in lowered:
        return f"is the server running, and are the host and port in {variable} right?"
    if "role" in lowered or "password" in lowered:
        return (
            f"check the user and password in {variable} "
            "(deploy/postgres/roles.sql creates the roles)"
        )
    if "database" in lowered and "does not exist" in lowered:
        return f"create the database or fix its name in {variable}"
    return f"check {variable}"


@contextmanager
def database_errors(url: str, variable: str = "DATABASE_URL") -> Iterator[None]:
    """Turn a database driver's error into one line: the URL (no password), the reason, a fix."""
    try:
        yield
    except DBAPIError as exc:
        if _debug():
            raise
        reason = _reason(exc)
        fail(f"database {_shown(url)}: {reason}; {_fix_for(reason, variable)}")


def _reason(exc: DBAPIError) -> str:
    """The driver's first line, without libpq's "connection to server … failed:" preamble."""
    lines = str(exc.orig or exc).strip().splitlines() or [""]
    reason = lines[0].rpartition(" failed: ")[2].replace("FATAL:  ", "").strip()
    return reason.removeprefix("connection failed: ")


def wait_for_database(url: str, seconds: float) -> None:
    """Connect once, retrying for up to `seconds`: a fresh Postgres may still be starting.

    The last failure propagates (and `database_errors` turns it into one line)."""
    if is_sqlite(url):
        return  # a SQLite file is there or not: waiting does not help
    deadline = time.monotonic() + seconds
    said_at = float("-inf")
    engine = create_engine(url, poolclass=NullPool)
    try:
        while True:
            try:
                with engine.connect():
                    return
            except DBAPIError as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                if time.monotonic() - said_at >= 5:
                    typer.echo(
                        f"waiting for database {_shown(url)}: {_reason(exc)} ({left:.0f}s left)",
                        err=True,
                    )
                    said_at = time.monotonic()
                time.sleep(min(1.0, left))
    finally:
        engine.dispose()


def public_url(host: str, port: int) -> str:
    """The address to print: a wildcard bind is reached through loopback on this machine."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}; pick another with --port/--host")


def preflight(settings: Settings) -> None:
    """Fail before uvicorn starts, in one line, on what would otherwise fail in every worker."""
    url = settings.reader_url
    variable = "API_DATABASE_URL" if settings.api_database_url else "DATABASE_URL"
    parsed = database_url(url, variable)
    if is_sqlite(url):
        path = Path(parsed.database or "").resolve()
        if not parsed.database or parsed.database == ":memory:":
            fail(f"{variable}={url!r}: the API needs a SQLite file; run `bilateral ingest` first")
        if not path.is_file():
            fail(f"no database at {path} ({variable}); run `bilateral ingest` first to create it")
    with database_errors(url, variable):
        engine = reader_engine(url, settings.query_timeout_ms)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                if is_sqlite(url):
                    conn.execute(text("SELECT count(*) FROM sqlite_master"))
                elif settings.require_read_only_role:
                    found = write_capabilities(conn)
                    if found:
                        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
                        fail(
                            f"the API's database role {parsed.username} can make lasting "
                            f"changes: {', '.join(found[:5])}{more}; run "
                            "deploy/postgres/roles.sql as the superuser, or connect as the "
                            "SELECT-only reader role"
                        )
        finally:
            engine.dispose()
