"""Claim filters, each declared once in FILTERS; the rest of the filter machinery derives from it.

A declaration (`Filter`) gives a filter's query parameter (name, type, pydantic Field: the
API's query model is built from these), how a raw value is resolved against the Vocabulary (a
`FilterError` carries the 422's parameter, message and problem kind), which row its condition
tests (the source: then the per-source counts stored at ingest can answer it; one quantity; or
the claim), its bind values, and its SQL condition.

Shape mistakes are impossible by construction. A condition is built from a `Shape` alone: which
filters are set, plus the few facts about their values that change the SQL text (country
includes `unknown` or a known country, part_of includes `none` or an id, date_match). It never
sees a value: values reach SQL only as named bind parameters (`parameters`). So app.queries may
build a statement once per `shape(filters)` and run it with each request's values.

Two entries are not plain conditions: `q` (full text) is a query parameter whose SQL is a join
that app.queries makes with app.search (no condition here; its binds are search.parameters),
and `dated` (the timeline: claims that state a period) is no query parameter; a route sets it
with `ClaimFilters.with_dated()`.

Adding a filter is one entry in FILTERS, plus its samples in tests/test_filters.py (a test fails
until every filter has some).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import Field
from pydantic.fields import FieldInfo
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Date,
    Float,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
)

from app import search
from app.models import CLAIM, CLAIM_ENTITY, ENTITY, QUANTITY, SOURCE, TOPIC
from app.params import (
    MAX_REPEATS,
    CommaList,
    FiniteFloat,
    IsoDate,
    NameValue,
    SearchText,
    SlugValue,
)
from app.terms import ClaimKind, EntityKind

if TYPE_CHECKING:  # app.vocabulary imports app.queries, which imports this module
    from app.vocabulary import Vocabulary

DateMatch = Literal["within", "overlap"]
# Which row a filter's condition tests. Source and quantity conditions are grouped into one
# subquery each (all quantity conditions hold for the SAME quantity: unit=USD&min_value=1e9).
Level = Literal["claim", "source", "quantity"]
TOP_LEVEL = "none"  # part_of=none: claims that are part of no other claim
UNKNOWN_COUNTRY = "unknown"  # country=unknown: sources whose country is not established

V = TypeVar("V")


class FilterError(ValueError):
    """A filter value the API must refuse with a 422 (app.api turns it into a problem)."""

    def __init__(
        self, param: str, message: str, value: object, problem: str = "invalid-parameter"
    ) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.value = value
        self.problem = problem


@dataclass(frozen=True)
class Shape:
    """What decides a filter set's SQL text: the names of the set filters and, per filter, the
    facts of its value that change the SQL (never the values themselves)."""

    names: frozenset[str]
    facts: frozenset[tuple[str, str]] = frozenset()

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def has(self, name: str, fact: str) -> bool:
        return (name, fact) in self.facts

    @property
    def overlap(self) -> bool:
        """date_match=overlap: a date interval meets a bound when any part of it does."""
        return self.has("date_match", "overlap")


@dataclass(frozen=True)
class Filter(Generic[V]):
    """One filter, declared once. Its `condition` gets only the Shape: values are binds."""

    name: str  # the query parameter, the ClaimFilters key, and the bind parameter's prefix
    level: Level  # the row its condition tests; "source": per-source counts can answer it
    unset: V  # the value meaning "no filter" (the parameter's default)
    condition: Callable[[Shape], ColumnElement[bool]] | None  # None: no condition of its own
    # The query parameter's type and pydantic Field (None: not a query parameter).
    annotation: Any = None
    query: FieldInfo | None = None
    # The canonical value of a raw (pydantic-validated, set) parameter value; FilterError if
    # it names nothing known. Default: the value as given.
    resolve: Callable[[Any, Vocabulary], V] | None = None
    # Bind values by name. Default: {name: value} (a tuple as a list, for an expanding IN).
    binds: Callable[[V], Mapping[str, Any]] | None = None
    # What of a value changes the SQL text, for the Shape (country: holds `unknown`, holds a
    # listed country). Default: nothing, only whether the filter is set.
    facts: Callable[[V], frozenset[str]] = field(default=lambda _: frozenset())
    # A claim-level filter the per-source counts (claim_count) still answer for this value.
    counted: Callable[[V], bool] = field(default=lambda _: False)

    def resolved(self, raw: Any, vocabulary: Vocabulary) -> V:
        return raw if self.resolve is None else self.resolve(raw, vocabulary)

    def bind_values(self, value: V) -> Mapping[str, Any]:
        if self.binds is not None:
            return self.binds(value)
        return {self.name: list(value) if isinstance(value, tuple) else value}


# --- resolving raw values ------------------------------------------------------------------


def _canonical(
    param: str, values: list[str], known: Mapping[str, str], problem: str
) -> tuple[str, ...]:
    """Each value as stored (case-insensitive, aliases resolved); an unknown one is a 422 that
    lists the known values."""
    found: dict[str, None] = {}
    for value in values:
        canonical = known.get(value.casefold())
        if canonical is None:
            names = ", ".join(sorted(set(known.values())))
            raise FilterError(param, f"unknown {param} {value!r}; known: {names}", value, problem)
        found[canonical] = None
    return tuple(found)


def _known(
    param: str, table: Callable[[Vocabulary], Mapping[str, str]]
) -> Callable[[list[str], Vocabulary], tuple[str, ...]]:
    """A resolver to one of the Vocabulary's tables (unknown-<param> on an unknown value)."""
    return lambda values, vocabulary: _canonical(
        param, values, table(vocabulary), f"unknown-{param}"
    )


def _countries(values: list[str], _: Vocabulary) -> tuple[str, ...]:
    from app.vocabulary import COUNTRY_NAMES  # at call time: see the TYPE_CHECKING import

    return _canonical("country", values, COUNTRY_NAMES, "invalid-parameter")


def _entity_ids(names: list[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    found = set()
    for name in names:
        entity_id = vocabulary.entity_id(name)
        if entity_id is None:
            message = f"no entity is known as {name!r}; see /v1/entities"
            raise FilterError("entity", message, name, "unknown-entity")
        found.add(entity_id)
    return tuple(sorted(found))


def _distinct(values: list[str], _: Vocabulary) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _search_text(q: str, _: Vocabulary) -> str:
    """The text as given, once it is known to hold a word (the join needs one)."""
    try:
        search.words(q)
    except search.EmptySearch as exc:
        raise FilterError("q", str(exc), q) from exc
    return q


# --- SQL: built from the shape only ------------------------------------------------------


def _values(name: str) -> BindParameter[Any]:
    """The bind parameter of a list filter: `IN (...)` expanded to its values at run time."""
    return bindparam(name, expanding=True)


def _date(name: str) -> BindParameter[date]:
    return bindparam(name, type_=Date())


def _number(name: str) -> BindParameter[float]:
    return bindparam(name, type_=Float())


def _any_of(column: ColumnElement[Any], name: str) -> Callable[[Shape], ColumnElement[bool]]:
    return lambda _: column.in_(_values(name))


def _claims_with_topic(_: Shape) -> ColumnElement[bool]:
    """One bitwise AND of claim.topic_mask (a column of the listing index)."""
    wanted = select(cast(func.sum(TOPIC.c.mask), BigInteger)).where(
        TOPIC.c.id.in_(_values("topic"))
    )
    return CLAIM.c.topic_mask.op("&")(wanted.scalar_subquery()) != 0


def _claims_mentioning(entity_ids: Any) -> ColumnElement[bool]:
    return CLAIM.c.id.in_(
        select(CLAIM_ENTITY.c.claim_id).where(CLAIM_ENTITY.c.entity_id.in_(entity_ids))
    )


# A source was published on one day of [earliest, latest] (both null: unknown, which no
# bounded filter matches). within: certainly in range; overlap: possibly in range.
def _published_from(s: Shape) -> ColumnElement[bool]:
    column = SOURCE.c.published_latest if s.overlap else SOURCE.c.published_earliest
    return column >= _date("published_from")


def _published_to(s: Shape) -> ColumnElement[bool]:
    column = SOURCE.c.published_earliest if s.overlap else SOURCE.c.published_latest
    return column <= _date("published_to")


# A claim's period [start, end] (an open end reaches forever; no period: never matches).
# within: the whole period lies between the bounds; overlap: some of it does.
def _period_from(s: Shape) -> ColumnElement[bool]:
    bound = _date("period_from")
    if not s.overlap:
        return CLAIM.c.period_start >= bound
    open_end = and_(CLAIM.c.period_end.is_(None), CLAIM.c.period_start.is_not(None))
    return or_(CLAIM.c.period_end >= bound, open_end)


def _period_to(s: Shape) -> ColumnElement[bool]:
    bound = _date("period_to")
    if not s.overlap:
        return CLAIM.c.period_end <= bound
    open_start = and_(CLAIM.c.period_start.is_(None), CLAIM.c.period_end.is_not(None))
    return or_(CLAIM.c.period_start <= bound, open_start)


def _dated(_: Shape) -> ColumnElement[bool]:
    return or_(CLAIM.c.period_start.is_not(None), CLAIM.c.period_end.is_not(None))


@dataclass(frozen=True)
class _OrNull:
    """A list filter in which one word means IS NULL (country=unknown, part_of=none): the shape
    says whether the list holds that word and whether it holds others ("listed"), which are the
    bind values."""

    name: str
    column: ColumnElement[Any]
    null_word: str

    def listed(self, values: tuple[str, ...]) -> list[str]:
        return [v for v in values if v != self.null_word]

    def facts(self, values: tuple[str, ...]) -> frozenset[str]:
        has_null, has_listed = self.null_word in values, bool(self.listed(values))
        return frozenset([self.null_word] * has_null + ["listed"] * has_listed)

    def binds(self, values: tuple[str, ...]) -> Mapping[str, Any]:
        return {self.name: self.listed(values)}

    def condition(self, s: Shape) -> ColumnElement[bool]:
        either = []
        if s.has(self.name, "listed"):
            either.append(self.column.in_(_values(self.name)))
        if s.has(self.name, self.null_word):
            either.append(self.column.is_(None))
        return or_(*either)


_COUNTRY = _OrNull("country", SOURCE.c.country, UNKNOWN_COUNTRY)
_PART_OF = _OrNull("part_of", CLAIM.c.part_of, TOP_LEVEL)


def _param(default: Any, description: str) -> FieldInfo:
    """A query parameter's pydantic Field; a list may be repeated at most MAX_REPEATS times."""
    limit = MAX_REPEATS if isinstance(default, list) else None
    info: FieldInfo = Field(default=default, max_length=limit, description=description)
    return info


# --- the registry: one entry per filter, in the order the API documents its parameters ----

FILTERS: tuple[Filter[Any], ...] = (
    Filter[str | None](
        name="q",
        level="claim",
        unset=None,
        condition=None,  # a join app.queries makes (app.search.matches), not a condition
        annotation=SearchText | None,
        query=_param(None, "Full-text search over statement and quote (all words must match)"),
        resolve=_search_text,
        binds=lambda q: search.parameters(q) if q else {},
    ),
    Filter[tuple[str, ...]](
        name="topic",
        level="claim",
        unset=(),
        condition=_claims_with_topic,
        annotation=CommaList[SlugValue],
        query=_param(
            [],
            "Topic id or alias, any case (repeat or comma-separate for any-of); see /v1/topics",
        ),
        resolve=_known("topic", lambda vocabulary: vocabulary.topics),
        counted=lambda topics: len(topics) <= 1,  # claim_count holds per-topic counts
    ),
    Filter[tuple[str, ...]](
        name="source",
        level="source",
        unset=(),
        condition=_any_of(SOURCE.c.id, "source"),
        annotation=CommaList[SlugValue],
        query=_param(
            [],
            "Source id (repeat or comma-separate for any-of), see /v1/sources",
        ),
        resolve=_known("source", lambda vocabulary: vocabulary.sources),
    ),
    Filter[tuple[str, ...]](
        name="entity",
        level="claim",
        unset=(),
        condition=lambda _: _claims_mentioning(_values("entity")),
        annotation=list[NameValue],
        query=_param(
            [],
            "Entity id, name or alias, any case (NORAD, USMCA…); repeat for any-of "
            "(names may contain commas, so no comma lists here)",
        ),
        resolve=_entity_ids,
    ),
    Filter[tuple[str, ...]](
        name="entity_kind",
        level="claim",
        unset=(),
        condition=lambda _: _claims_mentioning(
            select(ENTITY.c.id).where(ENTITY.c.kind.in_(_values("entity_kind")))
        ),
        annotation=CommaList[EntityKind],
        query=_param(
            [],
            "Claims that mention an entity of this kind: organization, agreement, "
            "document, program, forum, event, person, place, country or other (repeat or "
            "comma-separate for any-of); see /v1/entities?kind=",
        ),
        resolve=_distinct,
    ),
    Filter[tuple[str, ...]](
        name="country",
        level="source",
        unset=(),
        condition=_COUNTRY.condition,
        annotation=CommaList[SlugValue],
        query=_param(
            [],
            "Perspective of the source: US, CA or unknown, any case (repeat or "
            "comma-separate for any-of)",
        ),
        resolve=_countries,
        facts=_COUNTRY.facts,
        binds=_COUNTRY.binds,
    ),
    Filter[date | None](
        name="published_from",
        level="source",
        unset=None,
        condition=_published_from,
        annotation=IsoDate | None,
        query=_param(None, "Source published on or after (YYYY-MM-DD); see date_match"),
    ),
    Filter[date | None](
        name="published_to",
        level="source",
        unset=None,
        condition=_published_to,
        annotation=IsoDate | None,
        query=_param(None, "Source published on or before (YYYY-MM-DD); see date_match"),
    ),
    Filter[date | None](
        name="period_from",
        level="claim",
        unset=None,
        condition=_period_from,
        annotation=IsoDate | None,
        query=_param(None, "Claim's period on or after this date; see date_match"),
    ),
    Filter[date | None](
        name="period_to",
        level="claim",
        unset=None,
        condition=_period_to,
        annotation=IsoDate | None,
        query=_param(None, "Claim's period on or before this date; see date_match"),
    ),
    Filter[DateMatch](
        name="date_match",
        level="source",  # alone it selects nothing, so the per-source counts still answer
        unset="within",
        condition=None,  # it shapes the published_* and period_* conditions
        annotation=DateMatch,
        query=_param(
            "within",
            "How a date interval meets the *_from/*_to bounds: `within` (default) "
            "only when the whole interval does (a source dated 2019 matches "
            "published_to=2019-12-31, not published_to=2019-06-30), `overlap` when any part "
            "does (it matches both). An unknown date never matches a bound",
        ),
        facts=lambda how: frozenset({how}),
        binds=lambda _: {},
    ),
    Filter[tuple[str, ...]](
        name="unit",
        level="quantity",
        unset=(),
        condition=_any_of(QUANTITY.c.unit, "unit"),
        annotation=CommaList[NameValue],
        query=_param(
            [],
            "Claims stating a quantity in this unit, any case (USD, miles…); repeat "
            "or comma-separate for any-of",
        ),
        resolve=_known("unit", lambda vocabulary: vocabulary.units),
    ),
    Filter[tuple[str, ...]](
        name="kind",
        level="claim",
        unset=(),
        condition=_any_of(CLAIM.c.kind, "kind"),
        annotation=CommaList[ClaimKind],
        query=_param(
            [],
            "What the claim is: fact, commitment, position or rhetoric (any-of)",
        ),
        resolve=_distinct,
    ),
    Filter[tuple[str, ...]](
        name="part_of",
        level="claim",
        unset=(),
        condition=_PART_OF.condition,
        annotation=CommaList[SlugValue],
        query=_param(
            [],
            "Claims that restate a part of this claim (id; any-of); `none`: only "
            "top-level claims, i.e. without the restatements",
        ),
        resolve=_distinct,
        facts=_PART_OF.facts,
        binds=_PART_OF.binds,
    ),
    Filter[float | None](
        name="min_value",
        level="quantity",
        unset=None,
        condition=lambda _: QUANTITY.c.value >= _number("min_value"),
        annotation=FiniteFloat | None,
        query=_param(None, "Claims stating a quantity ≥ this value"),
    ),
    Filter[float | None](
        name="max_value",
        level="quantity",
        unset=None,
        condition=lambda _: QUANTITY.c.value <= _number("max_value"),
        annotation=FiniteFloat | None,
        query=_param(None, "Claims stating a quantity ≤ this value"),
    ),
    Filter[bool](name="dated", level="claim", unset=False, condition=_dated),
)
BY_NAME: Mapping[str, Filter[Any]] = {f.name: f for f in FILTERS}
_ORDER: Mapping[str, int] = {f.name: i for i, f in enumerate(FILTERS)}
_PARAMETERS = tuple(f for f in FILTERS if f.query is not None)  # the query parameters

# How the conditions of one level become one condition on the claim row.
_GROUPS: Mapping[Level, Callable[[list[ColumnElement[bool]]], ColumnElement[bool]]] = {
    # few sources: `source_id IN (matching sources)` tests a column of the listing index
    "source": lambda where: CLAIM.c.source_id.in_(select(SOURCE.c.id).where(*where)),
    "quantity": lambda where: CLAIM.c.id.in_(select(QUANTITY.c.claim_id).where(*where)),
}


def query_fields() -> dict[str, tuple[Any, FieldInfo]]:
    """The API's filter query parameters (type and Field), in documented order."""
    return {f.name: (f.annotation, f.query) for f in _PARAMETERS if f.query is not None}


# --- the value object ----------------------------------------------------------------------


class ClaimFilters:
    """A set of claim filters by name (FILTERS), as canonical values: immutable and hashable
    (a cache key). Repeated values of one filter mean any-of. ClaimFilters() filters nothing;
    an unset filter (its default value) is not stored, so it never changes equality."""

    __slots__ = ("_hash", "_parameters", "_shape", "_values")
    _values: Mapping[str, Any]
    _hash: int
    _shape: Shape | None  # shape(self) and parameters(self), computed once
    _parameters: dict[str, Any] | None

    def __init__(self, **values: Any) -> None:
        unknown = sorted(values.keys() - BY_NAME.keys())
        if unknown:
            raise TypeError(f"no such claim filter: {', '.join(unknown)}")
        kept: dict[str, Any] = {}
        for name in sorted(values, key=_ORDER.__getitem__):
            value = values[name]
            value = tuple(value) if isinstance(value, list) else value
            if value != BY_NAME[name].unset:
                kept[name] = value
        object.__setattr__(self, "_values", kept)
        object.__setattr__(self, "_hash", hash(tuple(kept.items())))
        object.__setattr__(self, "_shape", None)
        object.__setattr__(self, "_parameters", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ClaimFilters is immutable")

    def value(self, name: str) -> Any:
        """The filter's value (its unset value when not set)."""
        return self._values.get(name, BY_NAME[name].unset)

    def items(self) -> Iterator[tuple[Filter[Any], Any]]:
        """The set filters and their values, in registry order."""
        return ((BY_NAME[name], value) for name, value in self._values.items())

    @property
    def q(self) -> str | None:
        q: str | None = self.value("q")
        return q

    @property
    def dated(self) -> bool:
        return bool(self.value("dated"))

    @property
    def topics(self) -> tuple[str, ...]:
        """For app.queries' count over claim_count (the one topic), until it binds it."""
        topics: tuple[str, ...] = self.value("topic")
        return topics

    def with_dated(self) -> ClaimFilters:
        """The same filters, restricted to claims that state a period (the timeline)."""
        return ClaimFilters(**{**self._values, "dated": True})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClaimFilters) and self._values == other._values

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self._values.items())
        return f"ClaimFilters({inner})"


def resolve(raw: Mapping[str, Any], vocabulary: Vocabulary) -> ClaimFilters:
    """ClaimFilters from validated query parameter values (by parameter name): each set value
    resolved to its canonical form, in documented order (the first bad one is the 422)."""
    values: dict[str, Any] = {}
    for spec in _PARAMETERS:
        given = raw.get(spec.name)
        if given is None or given == [] or given == spec.unset:
            continue
        values[spec.name] = spec.resolved(given, vocabulary)
    return ClaimFilters(**values)


# --- what app.queries asks -----------------------------------------------------------------


def shape(f: ClaimFilters) -> Shape:
    """All that decides the SQL text of f's conditions (app.queries' statement cache key)."""
    if f._shape is None:
        found = Shape(
            frozenset(spec.name for spec, _ in f.items()),
            frozenset((spec.name, fact) for spec, value in f.items() for fact in spec.facts(value)),
        )
        object.__setattr__(f, "_shape", found)
        return found
    return f._shape


def parameters(f: ClaimFilters) -> dict[str, Any]:
    """The bind parameter values of f's conditions, by name (a fresh dict: callers add theirs)."""
    if f._parameters is None:
        found = {n: v for spec, value in f.items() for n, v in spec.bind_values(value).items()}
        object.__setattr__(f, "_parameters", found)
    return dict(f._parameters or {})


def counts_per_source_suffice(f: ClaimFilters) -> bool:
    """True when the filters only say which sources and at most one topic: then the total is a
    sum over the per-source counts the ingestion job stored (claim_count), not a scan."""
    return all(spec.level == "source" or spec.counted(value) for spec, value in f.items())


def _level_conditions(s: Shape, level: Level) -> list[ColumnElement[bool]]:
    return [
        spec.condition(s)
        for spec in FILTERS
        if spec.level == level and spec.name in s and spec.condition is not None
    ]


def shape_conditions(s: Shape) -> list[ColumnElement[bool]]:
    """The conditions on the claim row that a shape means, ANDed by the caller; source and
    quantity conditions become one subquery each, where the first of them is declared."""
    out: list[ColumnElement[bool]] = []
    grouped: set[Level] = set()
    for spec in FILTERS:
        if spec.name not in s or spec.condition is None:
            continue
        if spec.level == "claim":
            out.append(spec.condition(s))
        elif spec.level not in grouped:
            grouped.add(spec.level)
            out.append(_GROUPS[spec.level](_level_conditions(s, spec.level)))
    return out


def conditions(f: ClaimFilters) -> list[ColumnElement[bool]]:
    """SQL conditions on the claim table alone, ANDed by the caller; q is a join, not here."""
    return shape_conditions(shape(f))


def source_conditions(f: ClaimFilters) -> list[ColumnElement[bool]]:
    """The conditions on the source alone (its id, country and publication date)."""
    return _level_conditions(shape(f), "source")
