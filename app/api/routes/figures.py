"""GET /v1/figures and /v1/figures/{id}: what each source says a figure is, and when; do they
agree? Also as a small SVG chart (`.svg` or `?format=svg`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response

from app import figure_chart, figures
from app.api.csv_export import add_csv_twin, csv_response, wants_csv
from app.api.deps import CatalogDep, api_router, not_found
from app.api.negotiation import MEDIA_TYPES, offer_pattern, representation
from app.api.present import source_summary
from app.api.schemas import NOT_FOUND, FigureOut, FigurePage, whole_list
from app.catalog import Catalog, FigureRows
from app.citation import cite
from app.claim_document import period_json
from app.terms import SLUG_PATTERN

router = api_router(prefix="/v1", tags=["figures"])

SVG_MEDIA_TYPE = MEDIA_TYPES["svg"]
SVG_RESPONSES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    200: {"content": {SVG_MEDIA_TYPE: {"schema": {"type": "string"}}}},
}
FigureId = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120, description="Figure id")]


def _number(value: float, dimension: str) -> int | float:
    """Counts are whole numbers: 119 ports, not 119.0."""
    return int(value) if dimension == "count" and float(value).is_integer() else value


def _statement(row: dict[str, Any], dimension: str) -> dict[str, Any]:
    source = source_summary(row)
    return {
        "claim_id": row["claim_id"],
        "value": _number(row["value"], dimension),
        "unit": row["unit"],
        "per": row["per"],
        "qualifier": row["qualifier"],
        "as_stated": row["as_stated"],
        "currency_uncertain": row["currency_uncertain"],
        "period": period_json(row),
        "as_of": figures.as_of(row).json(),
        "quote": row["quote"],
        "start": row["quote_start"],
        "end": row["quote_end"],
        "source": source,
        "citation": cite(source, row["quote_start"], row["quote_end"]),
    }


def _figure(found: FigureRows) -> dict[str, Any]:
    figure, rows = found.figure, found.statements
    dimension = figure["dimension"]
    verdict = figures.judge(rows, figures.Figure(figure["behaviour"], figure["time_window"]))
    lines = figures.series(rows)
    for line in lines:
        for point in line["points"]:
            for key in ("value", "low", "high"):
                point[key] = _number(point[key], dimension)
    return {
        "id": figure["id"],
        "name": figure["name"],
        "dimension": dimension,
        "behaviour": figure["behaviour"],
        "window": figure["time_window"],
        "verdict": verdict.status,
        "reason": verdict.reason,
        "conflicts": verdict.conflicts,
        "comparisons": verdict.comparisons,
        "spread": [
            {**s, "min": _number(s["min"], dimension), "max": _number(s["max"], dimension)}
            for s in verdict.spread
        ],
        "series": lines,
        "statements": [_statement(r, dimension) for r in sorted(rows, key=figures.time_order)],
    }


async def _one_figure(catalog: Catalog, figure_id: str) -> dict[str, Any]:
    found = await catalog.figure(figure_id)
    if found is None:
        raise not_found("figure", figure_id)
    return _figure(found)


def _svg(figure: dict[str, Any]) -> Response:
    return Response(figure_chart.render(figure), media_type=SVG_MEDIA_TYPE)


@router.get("/figures", response_model=FigurePage)
async def list_figures(catalog: CatalogDep, csv: Annotated[bool, Depends(wants_csv)]) -> Any:
    """Every curated figure with its verdict: `consistent`, `single_source`,
    `changed_over_time`, `conflicting` or `undetermined` (docs/figures.md)."""
    out = [_figure(found) for found in await catalog.figures()]
    if csv:
        rows = [{**f, "statements": [s["claim_id"] for s in f["statements"]]} for f in out]
        columns = ["id", "name", "dimension", "behaviour", "verdict", "reason", "statements"]
        return csv_response(rows, columns, "figures")
    return whole_list(out)


# Declared before /figures/{figure_id}, which would otherwise take "daily-trade.svg" as an id.
@router.get(
    "/figures/{figure_id}.svg",
    response_class=Response,
    responses=SVG_RESPONSES,
    summary="Get Figure Chart",
)
async def get_figure_svg(catalog: CatalogDep, figure_id: FigureId) -> Response:
    """The figure's series as an SVG chart: one panel per unit, each point labelled by source."""
    return _svg(await _one_figure(catalog, figure_id))


@router.get(
    "/figures/{figure_id}",
    response_model=FigureOut,
    responses=NOT_FOUND,
)
async def get_figure(
    request: Request,
    catalog: CatalogDep,
    figure_id: FigureId,
    format: Annotated[
        Literal["json", "svg"] | None,
        # Not documented: typed clients of this JSON operation get JSON; the chart is
        # documented once, as /figures/{figure_id}.svg (getFigureSvg).
        Query(
            include_in_schema=False,
            description="`svg`: the series as a chart (same as the `.svg` path or "
            "`Accept: image/svg+xml`)",
        ),
    ] = None,
) -> Any:
    """One figure: every statement of it as a series in as-of order (value, unit, as-of time and
    the rule that gave it, source, quote), every compared pair and the verdict with its reason."""
    figure = await _one_figure(catalog, figure_id)
    # the one negotiation decision (format, else Accept) made before the route ran
    return _svg(figure) if representation(request.scope) == "svg" else figure


# What these paths offer, for that negotiation; the chart path first (it also matches the other).
offer_pattern(router.prefix + "/figures/{figure_id}.svg", ("svg",))
offer_pattern(router.prefix + "/figures/{figure_id}", ("json", "svg"))


add_csv_twin(router, "/figures", list_figures, "Figures")
