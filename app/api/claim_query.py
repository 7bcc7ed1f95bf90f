"""The claim filter parameters, shared by /v1/claims, /v1/timeline and their CSV exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field, StringConstraints

from app.api.deps import MAX_REPEATS, CommaList, IsoDate
from app.api.problems import invalid
from app.filters import ClaimFilters, DateMatch
from app.search import MAX_QUERY_LENGTH, EmptySearch, words
from app.terms import ClaimKind
from app.vocabulary import COUNTRY_NAMES, Vocabulary

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"
ANY_CASE_SLUG = r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$"
SlugValue = Annotated[str, StringConstraints(pattern=ANY_CASE_SLUG, max_length=120)]
NameValue = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=NO_CONTROL_CHARACTERS)
]
SearchText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_QUERY_LENGTH, pattern=NO_CONTROL_CHARACTERS),
]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


@dataclass(frozen=True)
class ClaimQuery:
    filters: ClaimFilters
    search_words: list[str] | None


def _canonical(
    kind: str, values: list[str], known: Mapping[str, str], problem: str | None = None
) -> tuple[str, ...]:
    """Each value as stored (case-insensitive, aliases resolved); an unknown one is a 422 that
    lists the known values."""
    found: dict[str, None] = {}
    for value in values:
        canonical = known.get(value.casefold())
        if canonical is None:
            names = ", ".join(sorted(set(known.values())))
            message = f"unknown {kind} {value!r}; known: {names}"
            raise invalid(kind, message, value, problem or f"unknown-{kind}")
        found[canonical] = None
    return tuple(found)


def _entity_ids(names: list[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    found = set()
    for name in names:
        entity_id = vocabulary.entity_id(name)
        if entity_id is None:
            raise invalid(
                "entity",
                f"no entity is known as {name!r}; see /v1/entities",
                name,
                "unknown-entity",
            )
        found.add(entity_id)
    return tuple(sorted(found))


class ClaimFilterParams(BaseModel):
    """The filters as one query model: FastAPI validates them in a single pydantic call
    instead of resolving a dependency per parameter."""

    q: SearchText | None = Field(
        None, description="Full-text search over statement and quote (all words must match)"
    )
    topic: CommaList[SlugValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Topic id or alias, any case (repeat or comma-separate for any-of); "
        "see /v1/topics",
    )
    source: CommaList[SlugValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Source id (repeat or comma-separate for any-of), see /v1/sources",
    )
    entity: list[NameValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Entity id, name or alias, any case (NORAD, USMCA…); repeat for any-of "
        "(names may contain commas, so no comma lists here)",
    )
    country: CommaList[SlugValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Perspective of the source: US, CA or unknown, any case (repeat or "
        "comma-separate for any-of)",
    )
    published_from: IsoDate | None = Field(
        None, description="Source published on or after (YYYY-MM-DD); see date_match"
    )
    published_to: IsoDate | None = Field(
        None, description="Source published on or before (YYYY-MM-DD); see date_match"
    )
    period_from: IsoDate | None = Field(
        None, description="Claim's period on or after this date; see date_match"
    )
    period_to: IsoDate | None = Field(
        None, description="Claim's period on or before this date; see date_match"
    )
    date_match: DateMatch = Field(
        "within",
        description="How a date interval meets the *_from/*_to bounds: `within` (default) only "
        "when the whole interval does (a source dated 2019 matches published_to=2019-12-31, not "
        "published_to=2019-06-30), `overlap` when any part does (it matches both). An unknown "
        "date never matches a bound",
    )
    unit: CommaList[NameValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Claims stating a quantity in this unit, any case (USD, miles…); repeat "
        "or comma-separate for any-of",
    )
    kind: CommaList[ClaimKind] = Field(
        [],
        max_length=MAX_REPEATS,
        description="What the claim is: fact, commitment, position or rhetoric (any-of)",
    )
    part_of: CommaList[SlugValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Claims that restate a part of this claim (id; any-of); `none`: only "
        "top-level claims, i.e. without the restatements",
    )
    min_value: FiniteFloat | None = Field(
        None, description="Claims stating a quantity ≥ this value"
    )
    max_value: FiniteFloat | None = Field(
        None, description="Claims stating a quantity ≤ this value"
    )


async def claim_query(
    request: Request, params: Annotated[ClaimFilterParams, Query()]
) -> ClaimQuery:
    """Validate the filters (unknown topics, sources and entities are 422s, not empty lists)."""
    vocabulary: Vocabulary = await request.app.state.vocabulary.get()
    search_words = None
    if params.q is not None:
        try:
            search_words = words(params.q)
        except EmptySearch as exc:
            raise invalid("q", str(exc), params.q) from exc
    filters = ClaimFilters(
        q=params.q,
        topics=_canonical("topic", params.topic, vocabulary.topics),
        sources=_canonical("source", params.source, vocabulary.sources),
        entities=_entity_ids(params.entity, vocabulary),
        countries=_canonical("country", params.country, COUNTRY_NAMES, "invalid-parameter"),
        published_from=params.published_from,
        published_to=params.published_to,
        period_from=params.period_from,
        period_to=params.period_to,
        date_match=params.date_match,
        units=_canonical("unit", params.unit, vocabulary.units),
        kinds=tuple(params.kind),
        part_of=tuple(params.part_of),
        min_value=params.min_value,
        max_value=params.max_value,
    )
    return ClaimQuery(filters, search_words)
