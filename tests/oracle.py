"""An independent reading of the seed files, used as the expected answer for API tests.

It does not import the application: it re-reads the YAML and works out by hand which claims a
filter should return, so a bug in the SQL cannot hide behind the same bug in the expectation.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def _first_day(text: str) -> date:
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _last_day(text: str) -> date:
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return date(*parts)
    month = parts[1] if len(parts) == 2 else 12
    return date(parts[0], month, calendar.monthrange(parts[0], month)[1])


def _interval(text: str) -> tuple[date, date]:
    """'2019' -> Jan 1..Dec 31; '2019-07-01/2019-08-22' -> those two days."""
    left, _, right = text.partition("/")
    return _first_day(left), _last_day(right or left)


def _meets(
    start: date | None, end: date | None, f: dict[str, Any], prefix: str, open_ends: bool
) -> bool:
    """Does [start, end] meet f's {prefix}_from/_to bounds under f's date_match? None is an
    unbounded end when open_ends (a claim period '1957/'), else an unknown date."""
    low, high = f.get(f"{prefix}_from"), f.get(f"{prefix}_to")
    if low is None and high is None:
        return True
    if start is None and end is None:
        return False
    if not open_ends and (start is None or end is None):
        return False
    lo, hi = start or date.min, end or date.max
    if f.get("date_match") == "overlap":
        return (low is None or hi >= low) and (high is None or lo <= high)
    return (low is None or (start is not None and lo >= low)) and (
        high is None or (end is not None and hi <= high)
    )


@dataclass(frozen=True)
class OClaim:
    id: str
    source: str
    topics: frozenset[str]
    entities: frozenset[str]
    period_start: date | None
    period_end: date | None
    quantities: tuple[tuple[float, str], ...]
    quote: str
    kind: str
    part_of: str | None
    figures: tuple[str, ...]  # the figure each of its quantities states, when it names one


class Oracle:
    def __init__(self, seeds: Path = SEEDS) -> None:
        self.sources = {s["id"]: s for s in _yaml(seeds / "sources.yaml")["sources"]}
        self.texts = {
            sid: (seeds / "documents" / s["file"]).read_text(encoding="utf-8")
            for sid, s in self.sources.items()
        }
        # a publication date is an interval: (earliest, latest), or None when unknown
        self.published = {
            sid: _interval(str(s["published"])) if s["published"] is not None else None
            for sid, s in self.sources.items()
        }
        self.topics = {t["id"]: t for t in _yaml(seeds / "topics.yaml")["topics"]}
        self.entities: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, str] = {}
        for path in sorted((seeds / "entities").glob("*.yaml")):
            for e in _yaml(path).get("entities") or []:
                self.entities[e["id"]] = e
                for name in [e["id"], e["name"], *e.get("aliases", [])]:
                    self.aliases[name.casefold()] = e["id"]
        self.claims: list[OClaim] = []
        for path in sorted((seeds / "claims").glob("*.yaml")):
            data = _yaml(path)
            for c in data.get("claims") or []:
                start = end = None
                period = c.get("period")
                if period is not None:
                    period = str(period)
                    left, slash, right = period.partition("/")
                    if not slash:
                        start, end = _first_day(left), _last_day(left)
                    else:
                        start = _first_day(left) if left else None
                        end = _last_day(right) if right else None
                self.claims.append(
                    OClaim(
                        id=c["id"],
                        source=data["source"],
                        topics=frozenset(c["topics"]),
                        entities=frozenset(c.get("entities") or []),
                        period_start=start,
                        period_end=end,
                        quantities=tuple(
                            (float(q["value"]), q["unit"]) for q in c.get("quantities") or []
                        ),
                        quote=c["quote"],
                        kind=c["kind"],
                        part_of=c.get("part_of"),
                        figures=tuple(
                            q["figure"] for q in c.get("quantities") or [] if q.get("figure")
                        ),
                    )
                )

    def claim(self, claim_id: str) -> OClaim:
        return next(c for c in self.claims if c.id == claim_id)

    def ids(self, **f: Any) -> set[str]:
        """Claim ids matching filters named like the API's query parameters."""
        out = set()
        for c in self.claims:
            pub = self.published[c.source]
            country = self.sources[c.source]["country"] or "unknown"
            if f.get("topic") and not c.topics & set(f["topic"]):
                continue
            if f.get("source") and c.source not in f["source"]:
                continue
            if f.get("country") and country not in f["country"]:
                continue
            if f.get("entity") and not c.entities & {
                self.aliases[n.casefold()] for n in f["entity"]
            }:
                continue
            if f.get("entity_kind") and not {self.entities[e]["kind"] for e in c.entities} & set(
                f["entity_kind"]
            ):
                continue
            earliest, latest = pub or (None, None)
            if not _meets(earliest, latest, f, "published", open_ends=False):
                continue
            if not _meets(c.period_start, c.period_end, f, "period", open_ends=True):
                continue
            if f.get("kind") and c.kind not in f["kind"]:
                continue
            if f.get("part_of") and (c.part_of or "none") not in f["part_of"]:
                continue
            wants_quantity = "unit" in f or "min_value" in f or "max_value" in f
            if wants_quantity and not any(
                (not f.get("unit") or unit in f["unit"])
                and (f.get("min_value") is None or value >= f["min_value"])
                and (f.get("max_value") is None or value <= f["max_value"])
                for value, unit in c.quantities
            ):
                continue
            out.add(c.id)
        return out
