"""The claim filter parameters, shared by /v1/claims, /v1/timeline and their CSV exports.

The parameters, their resolution and their SQL are declared once, in app.filters.FILTERS; this
module only turns them into FastAPI's query model and a FilterError into a 422 problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Query, Request
from pydantic import BaseModel, create_model

from app.api.problems import invalid
from app.filters import ClaimFilters, FilterError, query_fields, resolve
from app.params import NO_CONTROL_CHARACTERS as NO_CONTROL_CHARACTERS  # for app.api.routes
from app.search import words
from app.vocabulary import Vocabulary

if TYPE_CHECKING:  # a model built at run time is no type to mypy
    ClaimFilterParams = BaseModel
else:
    ClaimFilterParams = create_model(
        "ClaimFilterParams",
        __doc__="The filters as one query model: FastAPI validates them in a single pydantic "
        "call instead of resolving a dependency per parameter.",
        **query_fields(),
    )


@dataclass(frozen=True)
class ClaimQuery:
    filters: ClaimFilters
    search_words: list[str] | None


async def claim_query(
    request: Request, params: Annotated[ClaimFilterParams, Query()]
) -> ClaimQuery:
    """Validate the filters (unknown topics, sources and entities are 422s, not empty lists)."""
    vocabulary: Vocabulary = await request.app.state.catalog.vocabulary()
    try:
        filters = resolve(dict(params), vocabulary)
    except FilterError as exc:
        raise invalid(exc.param, exc.message, exc.value, exc.problem) from exc
    return ClaimQuery(filters, words(filters.q) if filters.q else None)
