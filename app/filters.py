"""Claim filters as plain data, and the SQL conditions they mean (used by app.queries only).

Every value a filter carries reaches SQL as a named bind parameter (`parameters`), so the SQL
of a filter set depends only on which filters are set (`shape`): app.queries builds a statement
once per shape and runs it with each request's values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
)

from app.models import CLAIM, CLAIM_ENTITY, CLAIM_TOPIC, QUANTITY, SOURCE, TOPIC

claim_table = CLAIM
source_table = SOURCE
claim = CLAIM.c
source = SOURCE.c
claim_topic = CLAIM_TOPIC.c
claim_entity = CLAIM_ENTITY.c
quantity = QUANTITY.c
topic = TOPIC.c


DateMatch = Literal["within", "overlap"]


@dataclass(frozen=True)
class ClaimFilters:
    """Every filter of GET /v1/claims; repeated values of one filter mean any-of."""

    q: str | None = None
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    units: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    part_of: tuple[str, ...] = ()  # claim ids, or TOP_LEVEL for claims that are part of none
    min_value: float | None = None
    max_value: float | None = None
    dated: bool = False  # only claims that state a period (the timeline)
    # How a date interval (publication date, claim period) meets the *_from/*_to bounds:
    # "within" (default) its whole interval satisfies them, "overlap" some part of it does.
    date_match: DateMatch = "within"


TOP_LEVEL = "none"


def _is_set(value: object) -> bool:
    return value is not None and value != () and value is not False


def shape(f: ClaimFilters) -> tuple[object, ...]:
    """Which filters are set (which kinds of country, how dates match): all that decides the
    SQL text."""
    set_fields = tuple(_is_set(getattr(f, field.name)) for field in fields(f))
    return (
        *set_fields,
        "unknown" in f.countries,
        bool(_known_countries(f)),
        TOP_LEVEL in f.part_of,
        bool(_parents(f)),
        f.date_match,
    )


def parameters(f: ClaimFilters) -> dict[str, Any]:
    """The bind parameter values of the conditions below, by name."""
    return {
        "topics": list(f.topics),
        "sources": list(f.sources),
        "entities": list(f.entities),
        "countries": _known_countries(f),
        "published_from": f.published_from,
        "published_to": f.published_to,
        "period_from": f.period_from,
        "period_to": f.period_to,
        "units": list(f.units),
        "kinds": list(f.kinds),
        "parents": _parents(f),
        "min_value": f.min_value,
        "max_value": f.max_value,
    }


def _known_countries(f: ClaimFilters) -> list[str]:
    return [c for c in f.countries if c != "unknown"]


def _parents(f: ClaimFilters) -> list[str]:
    return [p for p in f.part_of if p != TOP_LEVEL]


def _bound(name: str, f: ClaimFilters) -> BindParameter[Any]:
    value = parameters(f)[name]
    return bindparam(name, value, expanding=isinstance(value, list))


def _in_or_null(
    column: ColumnElement[Any], name: str, f: ClaimFilters, or_null: bool
) -> ColumnElement[bool]:
    """`column IN (values of parameter name)`, or NULL when `or_null` (country `unknown`,
    part_of `none`)."""
    either = [column.in_(_bound(name, f))] if parameters(f)[name] else []
    if or_null:
        either.append(column.is_(None))
    return or_(*either)


def counts_per_source_suffice(f: ClaimFilters) -> bool:
    """True when the filters only say which sources and at most one topic: then the total is a
    sum over the per-source counts the ingestion job stored (claim_count), not a scan."""
    return len(f.topics) <= 1 and f == ClaimFilters(
        topics=f.topics,
        sources=f.sources,
        countries=f.countries,
        published_from=f.published_from,
        published_to=f.published_to,
        date_match=f.date_match,
    )


def source_conditions(f: ClaimFilters) -> list[ColumnElement[bool]]:
    """The conditions on the source alone (its id, country and publication date)."""
    out: list[ColumnElement[bool]] = []
    if f.sources:
        out.append(source.id.in_(_bound("sources", f)))
    if f.countries:
        out.append(_in_or_null(source.country, "countries", f, "unknown" in f.countries))
    # A source was published on one day of [earliest, latest] (both null: unknown, which no
    # bounded filter matches). within: certainly in range; overlap: possibly in range.
    within = f.date_match == "within"
    if f.published_from:
        column = source.published_earliest if within else source.published_latest
        out.append(column >= _bound("published_from", f))
    if f.published_to:
        column = source.published_latest if within else source.published_earliest
        out.append(column <= _bound("published_to", f))
    return out


def conditions(f: ClaimFilters) -> list[ColumnElement[bool]]:
    """SQL conditions on the claim table alone, ANDed by the caller; q is a join, not here.

    The topic test is one bitwise AND of `claim.topic_mask`, and source filters become
    `source_id IN (matching sources)` (there are few sources): both test columns of the listing
    index, so a page in id order is a walk of that index and a count is a scan of it.
    """
    out: list[ColumnElement[bool]] = []
    if f.topics:
        wanted = select(cast(func.sum(topic.mask), BigInteger)).where(
            topic.id.in_(_bound("topics", f))
        )
        out.append(claim.topic_mask.op("&")(wanted.scalar_subquery()) != 0)
    by_source = source_conditions(f)
    if by_source:
        out.append(claim.source_id.in_(select(source.id).where(*by_source)))
    if f.entities:
        out.append(
            claim.id.in_(
                select(claim_entity.claim_id).where(
                    claim_entity.entity_id.in_(_bound("entities", f))
                )
            )
        )
    out.extend(_period_conditions(f))
    if f.kinds:
        out.append(claim.kind.in_(_bound("kinds", f)))
    if f.part_of:
        out.append(_in_or_null(claim.part_of, "parents", f, TOP_LEVEL in f.part_of))
    if f.dated:
        out.append(or_(claim.period_start.is_not(None), claim.period_end.is_not(None)))
    if f.units or f.min_value is not None or f.max_value is not None:
        q = select(quantity.claim_id)
        if f.units:
            q = q.where(quantity.unit.in_(_bound("units", f)))
        if f.min_value is not None:
            q = q.where(quantity.value >= _bound("min_value", f))
        if f.max_value is not None:
            q = q.where(quantity.value <= _bound("max_value", f))
        out.append(claim.id.in_(q))
    return out


def _period_conditions(f: ClaimFilters) -> list[ColumnElement[bool]]:
    """A claim's period [start, end] (an open end reaches forever; no period: never matches).
    within: the whole period lies between the bounds; overlap: some of it does."""
    out: list[ColumnElement[bool]] = []
    within = f.date_match == "within"
    if f.period_from:
        bound = _bound("period_from", f)
        if within:
            out.append(claim.period_start >= bound)
        else:
            out.append(
                or_(
                    claim.period_end >= bound,
                    and_(claim.period_end.is_(None), claim.period_start.is_not(None)),
                )
            )
    if f.period_to:
        bound = _bound("period_to", f)
        if within:
            out.append(claim.period_end <= bound)
        else:
            out.append(
                or_(
                    claim.period_start <= bound,
                    and_(claim.period_start.is_(None), claim.period_end.is_not(None)),
                )
            )
    return out
