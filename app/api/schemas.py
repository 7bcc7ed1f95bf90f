"""Response models: they document the API in OpenAPI and shape every JSON answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.ingest.schema import RELATION_DESCRIPTION, ClaimKind, Establishes, Relation


class SourceSummary(BaseModel):
    """Enough to cite a claim's source without a second request."""

    id: str = Field(examples=["usdos-2021-neighbors-friends-and-allies"])
    name: str
    title: str | None = Field(description="The document's own title; null when it has none")
    publisher: str | None = Field(description="null when the document does not establish it")
    country: Literal["US", "CA"] | None = Field(description="Whose perspective; null if unknown")
    url: str | None = Field(
        description="The original's address, as the source's evidence shows; null when no "
        "original was found (a copy's address is only evidence)"
    )
    published: date | None = Field(
        description="Publication date; an imprecise one is given as its first day"
    )
    published_precision: Literal["day", "month", "year", "unknown"]


class Evidence(BaseModel):
    """One finding about a source's provenance: what it establishes and what shows it."""

    establishes: Establishes
    value: str = Field(description="The URL, title, publisher or date (YYYY[-MM[-DD]], START/END)")
    relation: Relation = Field(description=RELATION_DESCRIPTION)
    address: str | None = Field(description="Where it was seen")
    quote: str | None = Field(description="Text on that page that shows it")
    checked: date = Field(description="When it was checked")
    note: str | None


class Source(SourceSummary):
    provenance_note: str = Field(description="How title, publisher and date were established")
    sha256: str = Field(description="sha256 of the stored text (UTF-8)")
    claims: int = Field(description="Number of claims drawn from this source")
    evidence: list[Evidence] = Field(
        description="What looking the source up established; `url` is an original's address"
    )


class SourceWithText(Source):
    text: str = Field(description="The full stored text; claim offsets index into it")


class Period(BaseModel):
    text: str = Field(description="As curated: 2018, 2021-02-23, 1957/ (open-ended), 2020/2021")
    start: date | None
    end: date | None


class EntityRef(BaseModel):
    id: str
    name: str
    kind: str


class QuantityOut(BaseModel):
    value: float
    unit: str = Field(examples=["USD"])
    per: Literal["day", "year"] | None
    qualifier: str = Field(description="exact, about, nearly, more_than, at_least, ...")
    as_stated: str = Field(description="The number exactly as the quote states it")
    figure: str | None = Field(description="The figure this number measures, if curated")


class ClaimOut(BaseModel):
    id: str = Field(examples=["s21-ports-of-entry"])
    statement: str = Field(description="The fact in plain words")
    quote: str = Field(description="Verbatim text of the source the claim rests on")
    start: int = Field(description="Offset (in characters) of the quote in the source text")
    end: int = Field(description="Offset just past the quote: source.text[start:end] == quote")
    kind: ClaimKind = Field(
        description="What the sentence is: a checkable fact, a commitment (announced plan or "
        "intention), a position (stated view or policy) or rhetoric (a slogan)"
    )
    part_of: str | None = Field(
        description="Id of the claim this one restates a part of (same source and quote "
        "context); null for a top-level claim. `?part_of=none` lists only top-level claims"
    )
    topics: list[str]
    entities: list[EntityRef]
    period: Period | None = Field(description="The time the claim is about, when it states one")
    quantities: list[QuantityOut]
    note: str | None
    source: SourceSummary
    citation: str = Field(description="A citation string a journalist can paste")
    highlights: dict[str, str] | None = Field(
        default=None,
        description="With q: statement and quote with the matched words in <mark>…</mark>",
    )


class FacetCount(BaseModel):
    value: str | int | None
    count: int


class ClaimPage(BaseModel):
    items: list[ClaimOut]
    total: int = Field(description="Claims matching the filters, across all pages")
    limit: int
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")
    next: str | None = Field(
        description="URL of the next page (also in the Link header); relative, e.g. "
        "/v1/claims?cursor=…, unless the server is configured with a public base URL"
    )
    facets: dict[str, list[FacetCount]] | None = Field(
        default=None, description="With ?facet=…: counts per value over all matching claims"
    )


class TopicOut(BaseModel):
    id: str = Field(examples=["arctic"])
    name: str
    description: str
    claims: int


class Problem(BaseModel):
    """RFC 9457 problem details: every error has this shape."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors: where (loc) and what (msg)"
    )


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    dataset_version: str
    ingested_at: datetime
    claims: int
    replica: bool = Field(description="This API reads from a streaming replica")
    writer_reachable: bool | None = Field(
        description="The replica streams from the primary (null: cannot tell)"
    )
    replay_lag_seconds: float | None = Field(
        description="How far replay trails what arrived from the primary (0: caught up)"
    )


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    422: _problem("Unknown parameter, malformed value or unknown topic/source/entity"),
    503: _problem("Database unavailable, or the query took too long"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _problem("No such id")}


class EntityOut(BaseModel):
    id: str = Field(examples=["norad"])
    name: str
    kind: str
    aliases: list[str] = Field(description="Lower-cased names this entity is also known by")
    claims: int


class EntityDetail(EntityOut):
    claim_items: list[ClaimOut] = Field(description="Every claim about this entity")


class FigureStatement(BaseModel):
    claim_id: str
    value: float
    unit: str
    per: str | None
    qualifier: str
    as_stated: str
    period: Period | None
    quote: str
    start: int
    end: int
    source: SourceSummary
    citation: str


class Conflict(BaseModel):
    claims: list[str]
    reason: str


class Spread(BaseModel):
    unit: str = Field(description="Canonical unit (miles are given in km; currencies unchanged)")
    per: str | None
    min: float
    max: float
    count: int


class FigureOut(BaseModel):
    id: str = Field(examples=["land-ports-of-entry"])
    name: str
    dimension: str
    verdict: Literal["consistent", "conflicting"]
    conflicts: list[Conflict]
    spread: list[Spread]
    statements: list[FigureStatement] = Field(description="Every statement of it, in time order")
