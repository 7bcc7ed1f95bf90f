"""CSV for every list endpoint: its own `.csv` path (documented as text/csv only, so typed
clients generated from the JSON operations never meet it), and negotiated on the JSON path
(`?format=csv` or `Accept: text/csv`, undocumented there).

Claims come in pages of at most CSV_MAX_ROWS rows, each read within CSV_PAGE_SECONDS by at most
CSV_CONCURRENCY exports per worker, with a `Link: <…>; rel="next"` to the rest: an export never
holds a worker for long, and a page is complete before its first byte is sent, so a slow page
ends early with a link instead of a silently short file.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from datetime import date, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Any, Literal, TypeVar

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from app.api.negotiation import CSV_SUFFIX, representation
from app.api.present import link_header, page_link

CSV_BATCH = 500
SPOOL_IN_MEMORY = 1024 * 1024
CHUNK = 64 * 1024
CSV_ONLY: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV with a header row (UTF-8, CRLF line ends)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
Position = TypeVar("Position")
CSV_LISTS: set[str] = set()  # full paths of the lists with a `.csv` twin (see add_csv_twin)


class ExportSlots:
    """How many CSV pages a worker reads at once. A counter polled by waiting requests rather
    than an asyncio primitive, which would bind to the first event loop that used it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0

    async def acquire(self, deadline: float) -> bool:
        while self.busy >= self.limit:
            if time.monotonic() >= deadline:
                return False
            await anyio.sleep(0.02)
        self.busy += 1
        return True

    def release(self) -> None:
        self.busy -= 1


class CsvResponse(StreamingResponse):
    media_type = "text/csv"  # Starlette adds the charset


async def wants_csv(
    request: Request,
    format: Annotated[Literal["json", "csv"] | None, Query(include_in_schema=False)] = None,
) -> bool:
    """Whether this request gets CSV. The decision is the negotiation's (app.api.negotiation),
    which reads `format` too; the parameter is declared here, undocumented, so that it is
    validated and allowed, while clients generated from the JSON operation never see CSV."""
    return csv_requested(request)


def csv_requested(request: Request) -> bool:
    return representation(request.scope) == "csv"


def add_csv_twin(router: APIRouter, path: str, endpoint: Callable[..., Any], what: str) -> None:
    """`{path}.csv`: the same list as CSV, a separate operation documented as text/csv only."""
    CSV_LISTS.add(router.prefix + path)
    json_route = next(r for r in router.routes if getattr(r, "endpoint", None) is endpoint)
    router.add_api_route(
        path + CSV_SUFFIX,
        endpoint,
        tags=[t for t in getattr(json_route, "tags", []) if t not in router.tags],
        methods=["GET"],
        name=f"{endpoint.__name__}_csv",
        summary=f"{what} as CSV",
        description=f"{what} as CSV (the same rows as `{path}`; `Accept` is not consulted).",
        response_class=CsvResponse,
        response_model=None,
        responses=CSV_ONLY,
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        if "establishes" in value:  # a source's evidence entry
            return f"{value['establishes']}: {value['value']} ({value['relation']})"
        return _cell(value.get("id", value.get("as_stated", "")))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _lines(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _disposition(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}.csv"'}


def csv_response(
    rows: Iterable[dict[str, Any]], columns: list[str], name: str
) -> StreamingResponse:
    return CsvResponse(_lines(rows, columns), headers=_disposition(name))


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


async def csv_page(
    request: Request,
    columns: list[str],
    name: str,
    read: Callable[[Position | None, int], Awaitable[tuple[list[dict[str, Any]], Position | None]]],
    start: Position | None,
    rows: int,
    next_token: Callable[[Position], str],
) -> StreamingResponse:
    """At most `rows` rows, read batch by batch (each on a connection of its own) until
    the rows are there, the data ends, or the page's time is up (at least one batch is always
    read, so paging progresses). The page is spooled, then sent with a Link to the rest."""
    settings = request.app.state.settings
    deadline = time.monotonic() + settings.csv_page_seconds
    slots: ExportSlots = request.app.state.csv_slots
    if not await slots.acquire(deadline):
        raise HTTPException(
            503, "too many CSV exports at once; retry shortly", headers={"Retry-After": "2"}
        )
    spool = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by _chunks)
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(columns)
        after, written = start, 0
        while True:
            batch, after = await read(after, min(CSV_BATCH, rows - written))
            writer.writerows([_cell(row.get(c)) for c in columns] for row in batch)
            written += len(batch)
            if after is None or written >= rows or time.monotonic() >= deadline:
                break
        text.flush()
        text.detach()
    except BaseException:
        spool.close()
        raise
    finally:
        slots.release()
    headers = _disposition(name)
    if after is not None:
        headers.update(link_header(page_link(request, cursor=next_token(after))))
    return CsvResponse(_chunks(spool), headers=headers)
