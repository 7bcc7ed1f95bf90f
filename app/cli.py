"""`bilateral`: validate and ingest the curated seeds, and serve the API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from app.cli_support import (
    DEBUG_ENV,
    OneLineErrors,
    check_port_free,
    database_errors,
    database_url,
    fail,
    preflight,
    public_url,
    wait_for_database,
)
from app.core.config import Settings
from app.ingest.dataset import CuratedSeeds, load_dataset
from app.ingest.errors import SeedsInvalid

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    cls=OneLineErrors,
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


def _validated(seeds_dir: Path) -> CuratedSeeds:
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
    from app.http_server import with_header_deadline

    settings = Settings()
    workers = workers or settings.workers
    configure(settings.log_level, settings.log_format)
    preflight(settings)
    check_port_free(host, port)
    if settings.cursor_secret is None:
        # One secret for all workers of this server (they inherit the environment), so a
        # cursor issued by one is accepted by the others; several instances need CURSOR_SECRET.
        os.environ["CURSOR_SECRET"] = secrets.token_urlsafe(32)
    log = logging.getLogger("bilateral.serve")
    base = public_url(host, port)
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
        http=(
            with_header_deadline(settings.header_read_timeout)
            if settings.http_parser == "h11"
            else "httptools"
        ),
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
