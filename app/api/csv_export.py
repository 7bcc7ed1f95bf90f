"""CSV for every list endpoint: `?format=csv` or `Accept: text/csv`, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FORMAT_DESCRIPTION = "Response format; CSV also via `Accept: text/csv`"


async def wants_csv(
    request: Request,
    format: Annotated[Literal["json", "csv"] | None, Query(description=FORMAT_DESCRIPTION)] = None,
) -> bool:
    return csv_requested(request, format)


def csv_requested(request: Request, format: str | None) -> bool:
    """`format` decides; without it, an Accept header asking for CSV and not JSON."""
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
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


def csv_response(
    rows: Iterable[dict[str, Any]], columns: list[str], name: str
) -> StreamingResponse:
    return StreamingResponse(
        _lines(rows, columns),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
