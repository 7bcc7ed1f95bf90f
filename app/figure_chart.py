"""A figure's series as a small SVG chart, written by hand (no plotting dependency).

One panel per canonical unit: time across (each statement's as-of interval drawn as a horizontal
bar, statements of unknown time in a "date unknown" column at the right), value up (a qualifier's
range drawn as a vertical bar). Points are numbered; the legend under each panel names the
statement and its source. Output depends only on the data, so a committed copy can be checked.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from app.figures import say

WIDTH = 760
PLOT_LEFT, PLOT_RIGHT = 90, 620  # the time axis; "date unknown" column to the right of it
UNKNOWN_X = 690
PLOT_HEIGHT = 170
LEGEND_LINE = 16
LABEL_LIMIT = 110


def _as_date(value: Any) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))


def _time_range(points: list[dict[str, Any]]) -> tuple[int, int]:
    """Ordinal days spanned by the known as-of intervals, padded to whole years."""
    days = [
        d.toordinal()
        for p in points
        for d in (_as_date(p["as_of"]["start"]), _as_date(p["as_of"]["end"]))
        if d is not None and p["as_of"]["rule"] != "unknown"
    ]
    if not days:
        today = date(2020, 1, 1).toordinal()
        return today, today + 365
    first, last = date.fromordinal(min(days)), date.fromordinal(max(days))
    return date(first.year, 1, 1).toordinal(), date(last.year + 1, 1, 1).toordinal()


def _panel(
    line: dict[str, Any], names: dict[str, str], span: tuple[int, int], top: int, number: int
) -> list[str]:
    points = line["points"]
    t0, t1 = span
    low: float = min(p["low"] for p in points)
    high: float = max(p["high"] for p in points)
    pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
    v0, v1 = low - pad, high + pad

    def x(day: date | None, default: float) -> float:
        if day is None:
            return default
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (day.toordinal() - t0) / (t1 - t0)

    def y(value: float) -> float:
        return top + 24 + PLOT_HEIGHT * (1 - (value - v0) / (v1 - v0))

    per = f" per {line['per']}" if line["per"] else ""
    unit = "$ (currency uncertain)" if line["currency_uncertain"] else line["unit"]
    bottom = top + 24 + PLOT_HEIGHT
    out = [
        f'<text x="10" y="{top + 14}" font-weight="bold">{escape(unit)}{escape(per)}</text>',
        f'<line x1="{PLOT_LEFT}" y1="{bottom}" x2="{PLOT_RIGHT}" y2="{bottom}" stroke="#888"/>',
        f'<line x1="{PLOT_LEFT}" y1="{top + 24}" x2="{PLOT_LEFT}" y2="{bottom}" stroke="#888"/>',
        f'<text x="{UNKNOWN_X}" y="{bottom + 14}" text-anchor="middle" fill="#555">'
        "date unknown</text>",
    ]
    for value in (low, high) if low != high else (low,):
        out.append(
            f'<text x="{PLOT_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(say(value))}</text>"
        )
    for year in range(date.fromordinal(t0).year, date.fromordinal(t1).year + 1):
        at = x(date(year, 1, 1), PLOT_LEFT)
        out.append(
            f'<line x1="{at:.1f}" y1="{bottom}" x2="{at:.1f}" y2="{bottom + 4}" stroke="#888"/>'
            f'<text x="{at:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#555">{year}</text>'
        )
    legend_top = bottom + 40
    for i, p in enumerate(points):
        n = number + i
        known = p["as_of"]["rule"] != "unknown"
        start, end = _as_date(p["as_of"]["start"]), _as_date(p["as_of"]["end"])
        x0 = x(start, PLOT_LEFT) if known else UNKNOWN_X
        x1 = x(end, PLOT_RIGHT) if known else UNKNOWN_X
        cx, cy = (x0 + x1) / 2, y(p["value"])
        when = f"as of {p['as_of']['text']}" if known else "date unknown"
        source = names.get(p["source_id"], p["source_id"])
        label = f"{n}. {p['as_stated']}, {when} — {source}"
        if len(label) > LABEL_LIMIT:
            label = label[: LABEL_LIMIT - 1] + "…"
        out += [
            f'<line x1="{x0:.1f}" y1="{cy:.1f}" x2="{x1:.1f}" y2="{cy:.1f}" stroke="#1f77b4" '
            'stroke-width="3" stroke-opacity="0.5"/>',
            f'<line x1="{cx:.1f}" y1="{y(p["low"]):.1f}" x2="{cx:.1f}" y2="{y(p["high"]):.1f}" '
            'stroke="#1f77b4"/>',
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#1f77b4">'
            f"<title>{escape(label)}</title></circle>",
            f'<text x="{cx + 6:.1f}" y="{cy - 6:.1f}">{n}</text>',
            f'<text x="10" y="{legend_top + i * LEGEND_LINE}">{escape(label)}</text>',
        ]
    return out


def render(figure: dict[str, Any]) -> str:
    """The SVG document for a figure answer (GET /v1/figures/{id} as JSON-ready data)."""
    names = {s["source"]["id"]: s["source"]["name"] for s in figure["statements"]}
    span = _time_range([p for line in figure["series"] for p in line["points"]])
    body: list[str] = []
    top, number = 40, 1
    for line in figure["series"]:  # one time axis for all panels, so they line up
        body += _panel(line, names, span, top, number)
        number += len(line["points"])
        top += 24 + PLOT_HEIGHT + 40 + LEGEND_LINE * len(line["points"]) + 20
    if not figure["series"]:
        body.append(f'<text x="10" y="{top + 14}">No statements.</text>')
        top += 30
    title = f"{figure['name']}: {figure['verdict'].replace('_', ' ')}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{top}" '
        f'viewBox="0 0 {WIDTH} {top}" font-family="sans-serif" font-size="11">\n'
        f"<title>{escape(title)}</title>\n"
        f'<rect width="{WIDTH}" height="{top}" fill="white"/>\n'
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )
