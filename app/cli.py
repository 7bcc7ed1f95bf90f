"""`bilateral`: validate and ingest the curated seeds, and serve the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.core.config import Settings
from app.ingest.dataset import Dataset, load_dataset
from app.ingest.errors import SeedsInvalid

cli = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

SeedsArg = Annotated[
    Path | None, typer.Argument(help="Seeds folder (default: $SEEDS_DIR or ./seeds)")
]


def _validated(seeds_dir: Path) -> Dataset:
    try:
        return load_dataset(seeds_dir)
    except SeedsInvalid as exc:
        for error in exc.errors:
            typer.echo(f"error: {error}", err=True)
        typer.echo(f"{len(exc.errors)} problem(s) found; nothing was written.", err=True)
        raise typer.Exit(code=1) from exc


@cli.command()
def check(
    seeds_dir: SeedsArg = None,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Report the sentences no claim covers")
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
    for item in coverage_report(ds):
        typer.echo(
            f"{item.source_id}: {item.fraction:.0%} of {item.sentences - item.excluded} content "
            f"sentences covered ({item.excluded} excluded as furniture or headings)"
        )
        for sentence in item.uncovered:
            typer.echo(f"  uncovered @{sentence.start}: {sentence.text}")


@cli.command()
def stats(seeds_dir: SeedsArg = None) -> None:
    """Print a Markdown table of claims per topic and source (the README's table)."""
    ds = _validated(seeds_dir or Settings().seeds_dir)
    sources = [s["id"] for s in ds.sources]
    counts = {(c["topic_id"], c["source_id"]): c["claims"] for c in ds.claim_counts}
    typer.echo("| topic | claims | " + " | ".join(f"`{s}`" for s in sources) + " |")
    typer.echo("|---|---|" + "---|" * len(sources))
    for topic in sorted(t["id"] for t in ds.topics):
        row = [counts.get((topic, s), 0) for s in sources]
        typer.echo(f"| {topic} | {sum(row)} | " + " | ".join(map(str, row)) + " |")
    per_source = [counts.get(("*", s), 0) for s in sources]
    typer.echo(f"| **all claims** | {len(ds.claims)} | " + " | ".join(map(str, per_source)) + " |")


@cli.command()
def ingest(seeds_dir: SeedsArg = None) -> None:
    """Run migrations, then replace the dataset with the seeds in one transaction."""
    from app.db import writer_engine
    from app.ingest.load import write_dataset
    from app.migrate import upgrade

    settings = Settings()
    ds = _validated(seeds_dir or settings.seeds_dir)
    typer.echo(f"validated {len(ds.claims)} claims; writing", err=True)
    upgrade(settings.database_url)
    engine = writer_engine(settings.database_url)
    try:
        summary = write_dataset(engine, ds)
    finally:
        engine.dispose()
    state = "unchanged" if summary.unchanged else "loaded"
    typer.echo(
        f"{state} dataset {summary.version}: {summary.sources} sources, {summary.claims} claims, "
        f"{summary.topics} topics; {summary.added} added, {summary.changed} changed, "
        f"{summary.removed} removed"
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema to the latest Alembic revision (ingest does this too)."""
    from app.migrate import upgrade

    upgrade(Settings().database_url)
    typer.echo("schema is at the latest revision")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: $WORKERS or 1)")
    ] = None,
) -> None:
    """Serve the read-only API with uvicorn."""
    import os
    import secrets

    import uvicorn

    from app.http_server import HeaderDeadlineH11Protocol

    settings = Settings()
    workers = workers or settings.workers
    if settings.cursor_secret is None:
        # One secret for all workers of this server (they inherit the environment), so a
        # cursor issued by one is accepted by the others; several instances need CURSOR_SECRET.
        os.environ["CURSOR_SECRET"] = secrets.token_urlsafe(32)
    uvicorn.run(
        "app.api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
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
