"""GET /v1/claims and /v1/claims/{id}: the facts, filtered, paged and citable."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, StringConstraints

from app import queries
from app.api.deps import Conn, IsoDate, not_found, page_limit, strict_query
from app.api.present import claim_json
from app.api.schemas import ERRORS, ClaimOut, ClaimPage
from app.filters import ClaimFilters
from app.ingest.schema import SLUG_PATTERN
from app.pagination import MAX_CURSOR_LENGTH, Cursor, InvalidCursor
from app.search import MAX_QUERY_LENGTH, EmptySearch, words

router = APIRouter(prefix="/v1", tags=["claims"], dependencies=[Depends(strict_query)])

SlugValue = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=120)]
NameValue = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f]+$")
]
Sort = Literal["relevance", "id", "-id", "published", "-published", "period", "-period"]
SearchText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_QUERY_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def _unknown(conn: Conn, kind: str, values: list[str]) -> None:
    if not values:
        return
    known = queries.known_ids(conn, kind)
    missing = [v for v in values if v not in known]
    if missing:
        raise RequestValidationError(
            [
                {
                    "type": "unknown_value",
                    "loc": ("query", kind),
                    "msg": f"unknown {kind} {missing[0]!r}; known: {', '.join(sorted(known))}",
                    "input": missing[0],
                }
            ]
        )


def _invalid(name: str, message: str, value: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}]
    )


def _search_words(q: str | None) -> list[str] | None:
    if q is None:
        return None
    try:
        return words(q)
    except EmptySearch as exc:
        raise _invalid("q", str(exc), q) from exc


def _entity_ids(conn: Conn, names: list[str]) -> tuple[str, ...]:
    resolved = queries.resolve_entities(conn, names)
    for name, entity_id in resolved.items():
        if entity_id is None:
            raise RequestValidationError(
                [
                    {
                        "type": "unknown_value",
                        "loc": ("query", "entity"),
                        "msg": f"no entity is known as {name!r}; see /v1/entities",
                        "input": name,
                    }
                ]
            )
    return tuple(sorted({e for e in resolved.values() if e}))


@router.get("/claims", response_model=ClaimPage, responses=ERRORS)
def list_claims(
    request: Request,
    response: Response,
    conn: Conn,
    limit: Annotated[int, Depends(page_limit)],
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
    sort: Annotated[
        Sort | None,
        Query(
            description="Order; '-' for descending; unknown dates sort last. "
            "Default: relevance with q, else id"
        ),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor from the previous page"),
    ] = None,
) -> dict[str, Any]:
    """Claims matching every filter given (repeated values of one filter match any of them)."""
    _unknown(conn, "topic", topic)
    _unknown(conn, "source", source)
    sort = sort or ("relevance" if q else "id")
    search_words = _search_words(q)
    if sort == "relevance" and not q:
        raise _invalid("sort", "sort=relevance needs a full-text query q", sort)
    try:
        after = Cursor.decode(cursor, sort) if cursor else None
    except InvalidCursor as exc:
        raise _invalid("cursor", str(exc), cursor) from exc
    filters = ClaimFilters(
        q=q,
        topics=tuple(topic),
        sources=tuple(source),
        entities=_entity_ids(conn, entity),
        countries=tuple(country),
        published_from=published_from,
        published_to=published_to,
        period_from=period_from,
        period_to=period_to,
        units=tuple(unit),
        min_value=min_value,
        max_value=max_value,
    )
    items, total, next_cursor = queries.list_claims(conn, filters, sort, limit, after)
    token = next_cursor.encode() if next_cursor else None
    next_url = str(request.url.include_query_params(cursor=token)) if token else None
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return {
        "items": [claim_json(r, search_words) for r in items],
        "total": total,
        "limit": limit,
        "next_cursor": token,
        "next": next_url,
    }


@router.get("/claims/{claim_id}", response_model=ClaimOut, responses=ERRORS)
def get_claim(
    conn: Conn, claim_id: Annotated[str, Path(max_length=120, description="Claim id")]
) -> dict[str, Any]:
    """One claim, with its quote, offsets, source and citation."""
    records = queries.claims_by_id(conn, [claim_id])
    if not records:
        raise not_found("claim", claim_id)
    return claim_json(records[0])
