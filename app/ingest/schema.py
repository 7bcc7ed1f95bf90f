"""The curated seed-file formats as pydantic models; `bilateral schema` publishes them."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.terms import (
    KIND_DESCRIPTION,
    RELATION_DESCRIPTION,
    SLUG_PATTERN,
    ClaimKind,
    EntityKind,
    Establishes,
    Precision,
    Qualifier,
    Relation,
)

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=120)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _scalar_to_text(value: Any) -> Any:
    """YAML turns unquoted 2019 into an int and 2021-02-26 into a date; take them as written."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def partial_date_bounds(text: str) -> tuple[date, date, Precision]:
    """'2018' -> (2018-01-01, 2018-12-31, 'year'); ValueError for anything else or 2021-02-30."""
    match = _PARTIAL_DATE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    y = int(year)
    if month is None:
        return date(y, 1, 1), date(y, 12, 31), "year"
    m = int(month)
    if day is None:
        first = date(y, m, 1)
        after = date(y + (m == 12), m % 12 + 1, 1)
        return first, date.fromordinal(after.toordinal() - 1), "month"
    d = date(y, m, int(day))
    return d, d, "day"


@lru_cache(maxsize=4096)  # a corpus repeats a few hundred periods over and over
def period_bounds(text: str) -> tuple[date | None, date | None]:
    """'2018' covers that year; '1957/' is open-ended; '2020/2021' and '/2019' are ranges."""
    if "/" not in text:
        first, last, _ = partial_date_bounds(text)
        return first, last
    left, _, right = text.partition("/")
    if "/" in right or (not left and not right):
        raise ValueError(f"{text!r} is not a period: use START, START/, START/END or /END")
    start: date | None = partial_date_bounds(left)[0] if left else None
    end: date | None = partial_date_bounds(right)[1] if right else None
    if start and end and end < start:
        raise ValueError(f"period {text!r} ends before it starts")
    return start, end


def _check_period(text: str) -> str:
    period_bounds(text)
    return text


def published_bounds(text: str) -> tuple[date, date, Precision]:
    """A publication date as an interval: 'YYYY[-MM[-DD]]' or a closed range 'START/END' of
    such dates ('2019-07-01/2019-08-22': published on one unknown day between the two)."""
    if "/" not in text:
        return partial_date_bounds(text)
    left, _, right = text.partition("/")
    if not left or not right or "/" in right:
        raise ValueError(f"{text!r} is not a date range: use START/END, both bounds given")
    earliest, latest = partial_date_bounds(left)[0], partial_date_bounds(right)[1]
    if latest < earliest:
        raise ValueError(f"date range {text!r} is reversed: it ends before it starts")
    if latest == earliest:
        raise ValueError(f"date range {text!r} is one day: write {earliest.isoformat()}")
    return earliest, latest, "range"


def _check_published(text: str) -> str:
    published_bounds(text)
    return text


def _check_url(text: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", text):
        raise ValueError(f"{text!r} is not an http(s) URL")
    return text


def _check_checked(text: str) -> str:
    """A real calendar day, written YYYY-MM-DD, and not after today: when someone looked."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD")
    day = date.fromisoformat(text)
    if day > date.today():
        raise ValueError(f"{text} is after today: a check cannot have happened yet")
    return text


def _none_listed() -> Any:
    """Default to a new empty list, published as `"default": []`. A literal `[]` default is
    deep-copied by pydantic for each entry that omits the field, which is slower."""
    return Field(default_factory=list, json_schema_extra={"default": []})


PublishedDate = Annotated[str, BeforeValidator(_scalar_to_text), AfterValidator(_check_published)]
Period = Annotated[str, BeforeValidator(_scalar_to_text), AfterValidator(_check_period)]
Url = Annotated[str, AfterValidator(_check_url)]
CheckedDate = Annotated[str, BeforeValidator(_scalar_to_text), AfterValidator(_check_checked)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EvidenceEntry(_Strict):
    """One finding about a source's provenance, and what shows it (seeds/README.md)."""

    establishes: Establishes = Field(description="What the entry establishes about the source")
    value: Text = Field(
        description="The value established: a URL, a title, a publisher, or a date "
        "(YYYY, YYYY-MM, YYYY-MM-DD, or an interval START/END)"
    )
    relation: Relation = Field(description=RELATION_DESCRIPTION)
    address: Url | None = Field(default=None, description="Where it was seen")
    quote: Text | None = Field(default=None, description="Text on that page that shows it")
    checked: CheckedDate = Field(description="When it was checked, YYYY-MM-DD")
    note: Text | None = None

    @model_validator(mode="after")
    def _shown(self) -> EvidenceEntry:
        if self.address is None and self.quote is None:
            raise ValueError("evidence needs the address or the quoted text that shows it")
        if self.establishes == "url":
            _check_url(self.value)
            if self.relation != "translation" and self.quote is None:
                raise ValueError(
                    "a url entry needs a quote: text of that page that the document also has"
                )
        elif self.establishes == "published":
            period_bounds(self.value)
        return self


class SourceEntry(_Strict):
    id: Slug
    file: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+\.txt$")] = Field(
        description="File name in seeds/documents/"
    )
    name: Text = Field(description="Short descriptive name a citation can use")
    title: Text | None = Field(description="The document's own title, if it has one")
    publisher: Text | None
    country: Literal["US", "CA"] | None = Field(description="Whose perspective the document takes")
    url: Url | None = Field(
        description="The original's address: the value of an `original` url evidence entry"
    )
    published: PublishedDate | None = Field(
        description="YYYY, YYYY-MM, YYYY-MM-DD, or a range START/END (published on some day "
        "between the two, e.g. 2019-07-01/2019-08-22)"
    )
    published_precision: Precision
    published_reason: Text | None = Field(
        default=None,
        description="How the date was established (required for a range): the evidence in "
        "the document that bounds it",
    )
    provenance_note: Text = Field(description="How title, publisher and date were established")
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="sha256 of the document's bytes; `bilateral pin` writes it"
    )
    size: Annotated[int, Field(ge=0)] = Field(
        description="The document's size in bytes; `bilateral pin` writes it"
    )
    curated: bool = Field(
        default=True,
        description="false while the source has no claims yet (then a claims file is optional)",
    )
    evidence: list[EvidenceEntry] = _none_listed()

    @model_validator(mode="after")
    def _url_has_evidence(self) -> SourceEntry:
        """A url is the original's: never a copy's, never one nobody checked."""
        if self.url is not None and not any(
            e.establishes == "url" and e.relation == "original" and e.value == self.url
            for e in self.evidence
        ):
            raise ValueError(
                f"url {self.url!r} has no evidence: add an evidence entry with establishes: url, "
                "relation: original and this value (a copy's address is evidence, not the url)"
            )
        return self

    @model_validator(mode="after")
    def _precision_matches(self) -> SourceEntry:
        if self.published is None:
            if self.published_precision != "unknown":
                raise ValueError("published is null, so published_precision must be 'unknown'")
            return self
        precision = published_bounds(self.published)[2]
        if precision != self.published_precision:
            raise ValueError(
                f"published {self.published!r} has {precision} precision, "
                f"not {self.published_precision!r}"
            )
        if precision == "range" and self.published_reason is None:
            raise ValueError("a published range needs published_reason: what bounds it")
        return self


class SourcesFile(_Strict):
    sources: list[SourceEntry] = Field(min_length=1)


class TopicEntry(_Strict):
    id: Slug
    name: Text
    description: Text
    aliases: list[Slug] = Field(
        default_factory=list,
        json_schema_extra={"default": []},
        description="Other spellings a client may use for this topic (defence -> defense)",
    )


class TopicsFile(_Strict):
    topics: list[TopicEntry] = Field(min_length=1)


class EntityEntry(_Strict):
    id: Slug
    name: Text
    kind: EntityKind
    aliases: list[Text] = _none_listed()


class EntitiesFile(_Strict):
    entities: list[EntityEntry] = _none_listed()


class FigureEntry(_Strict):
    id: Slug
    name: Text
    dimension: Literal["length", "count", "money", "duration"]
    behaviour: Literal["stable", "changes"] = Field(
        default="changes",
        description="Over time: `stable` (any two statements should agree, whenever made) or "
        "`changes` (different values at different times are a history, not a conflict)",
    )
    window: Literal["day", "month", "year"] | None = Field(
        default=None,
        description="Only with `changes`: statements as of the same calendar window (e.g. "
        "year) are taken as simultaneous, statements in different windows as different times",
    )

    @model_validator(mode="after")
    def _window_needs_change(self) -> FigureEntry:
        if self.window is not None and self.behaviour != "changes":
            raise ValueError("window applies only to a figure whose behaviour is 'changes'")
        return self


class FiguresFile(_Strict):
    figures: list[FigureEntry] = _none_listed()


class QuantityEntry(_Strict):
    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    per: Literal["day", "year"] | None = None
    qualifier: Qualifier = "exact"
    as_stated: Text = Field(description="The number exactly as the quote states it")
    figure: Slug | None = None


class ClaimEntry(_Strict):
    id: Slug
    statement: Text
    quote: Text
    kind: ClaimKind = Field(description=KIND_DESCRIPTION)
    topics: list[Slug] = Field(min_length=1)
    entities: list[Slug] = _none_listed()
    period: Period | None = None
    quantities: list[QuantityEntry] = _none_listed()
    occurrence: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Which occurrence of the quote, when it appears more than once"
    )
    start: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Optional: checked against where the quote really starts"
    )
    part_of: Slug | None = Field(
        default=None,
        description="Id of the claim (same source) this one restates a part of; clients can "
        "hide such claims with ?part_of=none",
    )
    note: Text | None = None


class ExcludedEntry(_Strict):
    text: Text
    reason: Literal["furniture", "heading", "title", "attribution", "fragment"] = Field(
        description="fragment: the incomplete sentence where an excerpt is cut off"
    )


class ClaimsFile(_Strict):
    source: Slug
    claims: list[ClaimEntry] = _none_listed()
    excluded: list[ExcludedEntry] = _none_listed()
