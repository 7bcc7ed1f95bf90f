"""Strict query parameter types, below app.api so app.filters can declare its parameters.

app.api.deps re-exports MAX_REPEATS, IsoDate and CommaList for the routes.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, StringConstraints

from app.search import MAX_QUERY_LENGTH

MAX_REPEATS = 20
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD: pydantic's lax mode would read ?published_from=0 as 1970-01-01."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value} is not a valid calendar date") from exc


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _split_commas(value: Any) -> Any:
    """`topic=arctic,trade` means `topic=arctic&topic=trade` (spaces around items ignored)."""
    if isinstance(value, list):
        return [
            part.strip() for v in value for part in (v.split(",") if isinstance(v, str) else [v])
        ]
    return value


T = TypeVar("T")
CommaList = Annotated[list[T], BeforeValidator(_split_commas)]

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
