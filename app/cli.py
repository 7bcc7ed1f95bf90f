"""`bilateral`: validate and ingest the curated seeds, and serve the API."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from typer._click import ClickException, Context  # typer vendors its own click

from app.core.config import Settings
from app.ingest.dataset import Dataset, load_dataset
from app.ingest.errors import SeedsInvalid

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


class _OneLineErrors(typer.core.TyperGroup):
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


cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    cls=_OneLineErrors,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"bilateral {version('bilateral-facts')}")
        raise typer.Exit()


@cli.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help=f"Show tracebacks (also {DEBUG_ENV}=1)")
    ] = False,
    _show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version")
    ] = False,
) -> None:
    """Validate and ingest the curated seeds, and serve the API."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


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
    import time

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from app.db import is_sqlite

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


WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Retry the first database connection for up to this many seconds",
        metavar="SECONDS",
    ),
]


SeedsArg = Annotated[
    Path | None, typer.Argument(help="Seeds folder (default: $SEEDS_DIR or ./seeds)")
]


def _validated(seeds_dir: Path) -> Dataset:
    if seeds_dir.exists() and not seeds_dir.is_dir():
        fail(f"{seeds_dir} is not a folder; pass the seeds folder (the one holding sources.yaml)")
    try:
        return load_dataset(seeds_dir)
    except SeedsInvalid as exc:
        _fail(exc, "nothing was written.")


def _fail(exc: SeedsInvalid, outcome: str) -> NoReturn:
    for error in exc.errors:
        typer.echo(f"error: {error}", err=True)
    typer.echo(f"{len(exc.errors)} problem(s) found; {outcome}", err=True)
    raise typer.Exit(code=1) from exc


@cli.command()
def check(
    seeds_dir: SeedsArg = None,
    coverage: Annotated[
        bool,
        typer.Option(
            "--coverage",
            help="Also fail when a sentence is not covered: some content word of it is in "
            "no claim's quote and no excluded text",
        ),
    ] = False,
    report_only: Annotated[
        bool,
        typer.Option("--report-only", help="With --coverage: list what is uncovered, exit 0"),
    ] = False,
) -> None:
    """Validate the seeds without touching any database."""
    from app.ingest.coverage import coverage as coverage_report

    settings = Settings()
    ds = _validated(seeds_dir or settings.seeds_dir)
    typer.echo(
        f"ok: {len(ds.sources)} sources, {len(ds.claims)} claims, {len(ds.topics)} topics, "
        f"{len(ds.entities)} entities, {len(ds.figures)} figures"
    )
    if not coverage:
        return
    uncovered = 0
    for item in coverage_report(ds):
        typer.echo(
            f"{item.source_id}: {item.fraction:.0%} of {item.sentences - item.excluded} content "
            f"sentences covered ({item.excluded} excluded as furniture or headings)"
        )
        for gap in item.uncovered:
            uncovered += 1
            state = "partly covered" if gap.partly else "uncovered"
            typer.echo(f"  {state} @{gap.start} (not quoted: {', '.join(gap.missing)}): {gap.text}")
    if uncovered and not report_only:
        typer.echo(
            f"error: {uncovered} sentence(s) not fully covered: quote them in claims, or list "
            "their text under `excluded:` (--report-only lists them without failing)",
            err=True,
        )
        raise typer.Exit(code=1)


@cli.command()
def stats(
    seeds_dir: SeedsArg = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Also rewrite the table in README.md and tests/corpus_counts.json (both next "
            "to the seeds folder), as a corpus change requires",
        ),
    ] = False,
) -> None:
    """Print a Markdown table of claims per topic and source (the README's table)."""
    from app.ingest.stats import corpus_counts, stats_table, write_readme_table

    seeds = seeds_dir or Settings().seeds_dir
    ds = _validated(seeds)
    table = stats_table(ds)
    typer.echo(table, nl=False)
    if not write:
        return
    root = seeds.resolve().parent
    try:
        write_readme_table(root / "README.md", table)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"wrote the table in {root / 'README.md'}", err=True)
    counts = root / "tests" / "corpus_counts.json"
    if counts.parent.is_dir():
        counts.write_text(json.dumps(corpus_counts(ds), indent=2) + "\n")
        typer.echo(f"wrote {counts}", err=True)


@cli.command()
def ingest(
    seeds_dir: SeedsArg = None,
    allow_removals: Annotated[
        bool,
        typer.Option(
            "--allow-removals",
            help="Allow removing a whole source or more than 10% of the served claims",
        ),
    ] = False,
    wait: WaitOption = 0,
) -> None:
    """Run migrations, then replace the dataset with the seeds in one transaction."""
    from app.db import writer_engine
    from app.ingest.load import RemovalsRefused, write_dataset
    from app.ingest.report import change_lines, refusal
    from app.migrate import upgrade

    settings = Settings()
    url = settings.database_url
    database_url(url)
    ds = _validated(seeds_dir or settings.seeds_dir)
    with database_errors(url):
        wait_for_database(url, wait)
        typer.echo(f"validated {len(ds.claims)} claims; writing", err=True)
        upgrade(url)
        engine = writer_engine(url)
        try:
            summary = write_dataset(engine, ds, allow_removals=allow_removals)
        except RemovalsRefused as exc:
            typer.echo(refusal(exc.summary), err=True)
            raise typer.Exit(code=1) from exc
        finally:
            engine.dispose()
    state = "unchanged" if summary.unchanged else "loaded"
    typer.echo(
        f"{state} dataset {summary.version}: {summary.sources} sources, {summary.claims} claims, "
        f"{summary.topics} topics; {summary.added} added, {summary.changed} changed, "
        f"{summary.removed} removed"
    )
    for line in change_lines(summary):
        typer.echo(f"  {line}")


@cli.command()
def pin(seeds_dir: SeedsArg = None) -> None:
    """Record each document's sha256 and size in sources.yaml, after a deliberate change."""
    from app.ingest.pins import pin_documents

    try:
        pins = pin_documents(seeds_dir or Settings().seeds_dir)
    except SeedsInvalid as exc:
        _fail(exc, "sources.yaml was not changed.")
    for item in pins:
        state = "updated" if item.changed else "unchanged"
        typer.echo(f"{state}: {item.source_id} ({item.file}): {item.size} bytes, {item.sha256}")


@cli.command()
def migrate(wait: WaitOption = 0) -> None:
    """Bring the database schema to the latest Alembic revision (ingest does this too)."""
    from app.migrate import upgrade

    url = Settings().database_url
    database_url(url)
    with database_errors(url):
        wait_for_database(url, wait)
        upgrade(url)
    typer.echo("schema is at the latest revision")


def _public_url(host: str, port: int) -> str:
    """The address to print: a wildcard bind is reached through loopback on this machine."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _check_port_free(host: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}; pick another with --port/--host")


def _preflight(settings: Settings) -> None:
    """Fail before uvicorn starts, in one line, on what would otherwise fail in every worker."""
    from sqlalchemy import text

    from app.db import is_sqlite, reader_engine
    from app.pg_guard import write_capabilities

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


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0: every interface)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: $WORKERS or 1)")
    ] = None,
) -> None:
    """Serve the read-only API with uvicorn."""
    import logging
    import os
    import secrets

    import uvicorn

    from app.api.access_log import configure, uvicorn_log_config
    from app.http_server import HeaderDeadlineH11Protocol

    settings = Settings()
    workers = workers or settings.workers
    configure(settings.log_level, settings.log_format)
    _preflight(settings)
    _check_port_free(host, port)
    if settings.cursor_secret is None:
        # One secret for all workers of this server (they inherit the environment), so a
        # cursor issued by one is accepted by the others; several instances need CURSOR_SECRET.
        os.environ["CURSOR_SECRET"] = secrets.token_urlsafe(32)
    log = logging.getLogger("bilateral.serve")
    base = _public_url(host, port)
    log.info(f"serving on {base} ({workers} worker{'s' if workers > 1 else ''})")
    if settings.docs_enabled:
        log.info(f"docs: {base}/docs")
    log.info(f"try: {base}/v1/claims?topic=arctic")
    uvicorn.run(
        "app.api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(settings.log_level, settings.log_format),
        log_level=settings.log_level,
        server_header=False,
        access_log=False,
        limit_concurrency=settings.limit_concurrency,
        proxy_headers=False,
        # h11 bounds the request line + headers (httptools buffers them without limit); the
        # protocol adds a deadline for them. See README, "Limits".
        http=HeaderDeadlineH11Protocol if settings.http_parser == "h11" else "httptools",
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=settings.timeout_keep_alive,
        # With several workers uvicorn kills one that does not answer a health check within
        # this many seconds, including while it starts; 5 (its default) is too short for a
        # busy host, where workers were killed and restarted in a loop.
        timeout_worker_healthcheck=30,
    )


@cli.command()
def schema(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the JSON Schemas")] = Path(
        "seeds/schema"
    ),
) -> None:
    """Write the JSON Schema of every seed-file format."""
    from app.ingest.schema_export import schemas

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, document in schemas().items():
        (out_dir / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"wrote {out_dir / name}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
