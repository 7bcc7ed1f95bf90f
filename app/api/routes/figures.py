"""GET /v1/figures and /v1/figures/{id}: what each source says a figure is; do they agree?"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import Depends, Path

from app import figures, queries
from app.api.csv_export import add_csv_twin, csv_response, wants_csv
from app.api.deps import Conn, api_router, not_found
from app.api.present import source_summary
from app.api.schemas import NOT_FOUND, FigureOut, FigurePage, whole_list
from app.citation import cite
from app.claim_document import period_json
from app.ingest.schema import SLUG_PATTERN

router = api_router(prefix="/v1", tags=["figures"])


def _statement(row: dict[str, Any]) -> dict[str, Any]:
    source = source_summary(row)
    return {
        "claim_id": row["claim_id"],
        "value": row["value"],
        "unit": row["unit"],
        "per": row["per"],
        "qualifier": row["qualifier"],
        "as_stated": row["as_stated"],
        "period": period_json(row),
        "quote": row["quote"],
        "start": row["quote_start"],
        "end": row["quote_end"],
        "source": source,
        "citation": cite(source, row["quote_start"], row["quote_end"]),
    }


def _figure(figure: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    verdict = figures.judge(rows)
    return {
        **figure,
        "verdict": verdict.status,
        "conflicts": verdict.conflicts,
        "spread": verdict.spread,
        "statements": [_statement(r) for r in sorted(rows, key=figures.time_order)],
    }


@router.get("/figures", response_model=FigurePage)
def list_figures(conn: Conn, csv: Annotated[bool, Depends(wants_csv)]) -> Any:
    """Every curated figure with its verdict: `consistent` or `conflicting` across sources."""
    by_figure: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in queries.figure_statements(conn):
        by_figure[row["figure_id"]].append(row)
    out = [_figure(f, by_figure[f["id"]]) for f in queries.list_figures(conn)]
    if csv:
        rows = [{**f, "statements": [s["claim_id"] for s in f["statements"]]} for f in out]
        return csv_response(rows, ["id", "name", "dimension", "verdict", "statements"], "figures")
    return whole_list(out)


@router.get("/figures/{figure_id}", response_model=FigureOut, responses=NOT_FOUND)
def get_figure(
    conn: Conn,
    figure_id: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120, description="Figure id")],
) -> dict[str, Any]:
    """One figure: every claim stating it (value, unit, period, source, quote) and the verdict."""
    figure = next((f for f in queries.list_figures(conn) if f["id"] == figure_id), None)
    if figure is None:
        raise not_found("figure", figure_id)
    return _figure(figure, queries.figure_statements(conn, figure_id))


add_csv_twin(router, "/figures", list_figures, "Figures")
