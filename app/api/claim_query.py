"""The claim filter parameters, shared by /v1/claims, /v1/timeline and their CSV exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field, StringConstraints

from app.api.deps import IsoDate
from app.api.vocabulary import Vocabulary
from app.filters import ClaimFilters
from app.ingest.schema import SLUG_PATTERN
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


def _entity_ids(names: list[str], aliases: Mapping[str, str]) -> tuple[str, ...]:
    for name in names:
        if name.casefold() not in aliases:
            raise invalid("entity", f"no entity is known as {name!r}; see /v1/entities", name)
    return tuple(sorted({aliases[name.casefold()] for name in names}))


async def claim_query(
    request: Request,
    q: Annotated[
        SearchText | None,
        Query(description="Full-text search over statement and quote (all words must match)"),
    ] = None,
    topic: Annotated[
        list[SlugValue], Query(description="Topic id (repeat for any-of), see /v1/topics")
    ] = [],  # noqa: B006
    source: Annotated[
        list[SlugValue], Query(description="Source id (repeat for any-of), see /v1/sources")
    ] = [],  # noqa: B006
    entity: Annotated[
        list[NameValue], Query(description="Entity id, name or alias (NORAD, USMCA…); any-of")
    ] = [],  # noqa: B006
    country: Annotated[
        list[Literal["US", "CA", "unknown"]],
        Query(description="Perspective of the source (repeatable)"),
    ] = [],  # noqa: B006
    published_from: Annotated[
        IsoDate | None, Query(description="Source published on or after (YYYY-MM-DD)")
    ] = None,
    published_to: Annotated[
        IsoDate | None, Query(description="Source published on or before (YYYY-MM-DD)")
    ] = None,
    period_from: Annotated[
        IsoDate | None, Query(description="Claim's period overlaps from this date on")
    ] = None,
    period_to: Annotated[
        IsoDate | None, Query(description="Claim's period overlaps up to this date")
    ] = None,
    unit: Annotated[
        list[NameValue], Query(description="Claims stating a quantity in this unit (USD, miles…)")
    ] = [],  # noqa: B006
    min_value: Annotated[
        FiniteFloat | None, Query(description="Claims stating a quantity ≥ this value")
    ] = None,
    max_value: Annotated[
        FiniteFloat | None, Query(description="Claims stating a quantity ≤ this value")
    ] = None,
) -> ClaimQuery:
    """Validate the filters (unknown topics, sources and entities are 422s, not empty lists)."""
    vocabulary: Vocabulary = await request.app.state.vocabulary.get()
    _check_known("topic", topic, vocabulary.topics)
    _check_known("source", source, vocabulary.sources)
    search_words = None
    if q is not None:
        try:
            search_words = words(q)
        except EmptySearch as exc:
            raise invalid("q", str(exc), q) from exc
    filters = ClaimFilters(
        q=q,
        topics=tuple(topic),
        sources=tuple(source),
        entities=_entity_ids(entity, vocabulary.aliases),
        countries=tuple(country),
        published_from=published_from,
        published_to=published_to,
        period_from=period_from,
        period_to=period_to,
        units=tuple(unit),
        min_value=min_value,
        max_value=max_value,
    )
    return ClaimQuery(filters, search_words)
