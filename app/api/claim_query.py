"""The claim filter parameters, shared by /v1/claims, /v1/timeline and their CSV exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints

from app.api.deps import MAX_REPEATS, IsoDate
from app.api.vocabulary import Vocabulary
from app.filters import ClaimFilters
from app.ingest.schema import SLUG_PATTERN, ClaimKind
from app.search import MAX_QUERY_LENGTH, EmptySearch, words

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"
SlugValue = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=120)]
NameValue = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=NO_CONTROL_CHARACTERS)
]
SearchText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_QUERY_LENGTH, pattern=NO_CONTROL_CHARACTERS),
]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def invalid(name: str, message: str, value: Any) -> RequestValidationError:
    """A 422 for one query parameter, in the same shape as FastAPI's own."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}]
    )


@dataclass(frozen=True)
class ClaimQuery:
    filters: ClaimFilters
    search_words: list[str] | None


def _check_known(kind: str, values: list[str], known: frozenset[str]) -> None:
    missing = [v for v in values if v not in known]
    if missing:
        raise invalid(
            kind, f"unknown {kind} {missing[0]!r}; known: {', '.join(sorted(known))}", missing[0]
        )


def _entity_ids(names: list[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    found = set()
    for name in names:
        entity_id = vocabulary.entity_id(name)
        if entity_id is None:
            raise invalid("entity", f"no entity is known as {name!r}; see /v1/entities", name)
        found.add(entity_id)
    return tuple(sorted(found))


class ClaimFilterParams(BaseModel):
    """The filters as one query model: FastAPI validates them in a single pydantic call
    instead of resolving a dependency per parameter."""

    q: SearchText | None = Field(
        None, description="Full-text search over statement and quote (all words must match)"
    )
    topic: list[SlugValue] = Field(
        [], max_length=MAX_REPEATS, description="Topic id (repeat for any-of), see /v1/topics"
    )
    source: list[SlugValue] = Field(
        [], max_length=MAX_REPEATS, description="Source id (repeat for any-of), see /v1/sources"
    )
    entity: list[NameValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Entity id, name or alias (NORAD, USMCA…); any-of",
    )
    country: list[Literal["US", "CA", "unknown"]] = Field(
        [], max_length=MAX_REPEATS, description="Perspective of the source (repeatable)"
    )
    published_from: IsoDate | None = Field(
        None, description="Source published on or after (YYYY-MM-DD)"
    )
    published_to: IsoDate | None = Field(
        None, description="Source published on or before (YYYY-MM-DD)"
    )
    period_from: IsoDate | None = Field(
        None, description="Claim's period overlaps from this date on"
    )
    period_to: IsoDate | None = Field(None, description="Claim's period overlaps up to this date")
    unit: list[NameValue] = Field(
        [],
        max_length=MAX_REPEATS,
        description="Claims stating a quantity in this unit (USD, miles…)",
    )
    kind: list[ClaimKind] = Field(
        [],
        max_length=MAX_REPEATS,
        description="What the claim is: fact, commitment, position or rhetoric (any-of)",
    )
    part_of: list[SlugValue] = Field(
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
    _check_known("topic", params.topic, vocabulary.topics)
    _check_known("source", params.source, vocabulary.sources)
    search_words = None
    if params.q is not None:
        try:
            search_words = words(params.q)
        except EmptySearch as exc:
            raise invalid("q", str(exc), params.q) from exc
    filters = ClaimFilters(
        q=params.q,
        topics=tuple(params.topic),
        sources=tuple(params.source),
        entities=_entity_ids(params.entity, vocabulary),
        countries=tuple(params.country),
        published_from=params.published_from,
        published_to=params.published_to,
        period_from=params.period_from,
        period_to=params.period_to,
        units=tuple(params.unit),
        kinds=tuple(params.kind),
        part_of=tuple(params.part_of),
        min_value=params.min_value,
        max_value=params.max_value,
    )
    return ClaimQuery(filters, search_words)
