"""Response models: they document the API in OpenAPI and shape every JSON answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.terms import (
    RELATION_DESCRIPTION,
    ClaimKind,
    EntityKind,
    Establishes,
    Qualifier,
    Relation,
)

Per = Literal["day", "year"]


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
    published: str | None = Field(
        description="Publication date as known: 2022-10-27 (day), 2019-07 (month), 2019 (year), "
        "2019-07-01/2019-08-22 (published on some day of that range); null when unknown",
        examples=["2021-02-26", "2019-07-01/2019-08-22"],
    )
    published_earliest: date | None = Field(
        description="First day it may have been published on (null when unknown)"
    )
    published_latest: date | None = Field(
        description="Last day it may have been published on (null when unknown)"
    )
    published_precision: Literal["day", "month", "year", "range", "unknown"]


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
    published_reason: str | None = Field(
        description="How the publication date was established, when curated apart from the "
        "provenance note (always for a range)"
    )
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
    kind: EntityKind


class QuantityOut(BaseModel):
    value: float
    unit: str = Field(examples=["USD"])
    per: Per | None
    qualifier: Qualifier = Field(description="How the number is stated: exact, about, nearly…")
    as_stated: str = Field(description="The number exactly as the quote states it")
    figure: str | None = Field(description="The figure this number measures, if curated")
    currency_uncertain: bool = Field(
        description="true: a bare '$' in a source of unknown country, so the currency (USD as "
        "curated) is uncertain"
    )


class ClaimOut(BaseModel):
    id: str = Field(examples=["s21-ports-of-entry-120"])
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


class ListEnvelope(BaseModel):
    """What every list answers besides its `items`: one shape for every collection."""

    total: int = Field(description="Items matching the request, across all pages")
    limit: int = Field(
        description="Page size; a list that is not paged answers every item (limit = total)"
    )
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page"
    )
    next: str | None = Field(
        description="URL of the next page (also in the Link header); null on the last page. "
        "Relative, e.g. /v1/claims?cursor=…, unless the server is configured with a public "
        "base URL"
    )


def whole_list(items: list[Any]) -> dict[str, Any]:
    """The envelope of a list that fits in one page (sources, topics, entities, figures)."""
    return {
        "items": items,
        "total": len(items),
        "limit": len(items),
        "next_cursor": None,
        "next": None,
    }


class ClaimPage(ListEnvelope):
    items: list[ClaimOut]
    total_is_estimate: bool | None = Field(
        default=None,
        description="Present (true) only when `total` is an estimate: a full-text search (q) "
        "matching more than 1,000 claims is counted from a sample of the index. Absent: "
        "`total` is exact",
    )
    facets: dict[str, list[FacetCount]] | None = Field(
        default=None, description="With ?facet=…: counts per value over all matching claims"
    )


class TopicOut(BaseModel):
    id: str = Field(examples=["arctic"])
    name: str
    description: str
    aliases: list[str] = Field(description="Other spellings ?topic= accepts (defence)")
    claims: int


class TopicPage(ListEnvelope):
    items: list[TopicOut]


class SourcePage(ListEnvelope):
    items: list[Source]


Scalar = str | int | float | bool | None


class ProblemError(BaseModel):
    """One thing wrong with the request (a 422 may list several)."""

    type: str = Field(description="The problem type of this error (see /problems)")
    loc: list[str | int] = Field(description='Where: e.g. ["query", "topic"]')
    msg: str = Field(description="What is wrong, for people")
    input: Scalar | list[Scalar] = Field(description="The offending value, cut short")


class Problem(BaseModel):
    """RFC 9457 problem details: every error has this shape. Branch on `type`, not `detail`."""

    type: str = Field(description="The kind of error: a URI reference whose page describes it")
    title: str = Field(description="The kind's title (the same for every error of a kind)")
    status: int
    detail: str | None = Field(description="What went wrong this time, for people")
    instance: str | None = Field(description="The path of the request (cut short)")
    errors: list[ProblemError] | None = Field(
        default=None, description="With 422: every invalid parameter (at most 10)"
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
    kind: EntityKind
    aliases: list[str] = Field(
        description="Every name it is known by (name, aliases, id), as written; lookup by any "
        "of them ignores case",
        examples=[["NORAD", "North American Aerospace Defense Command", "norad"]],
    )
    claims: int


class EntityPage(ListEnvelope):
    items: list[EntityOut]


class EntityDetail(EntityOut):
    claim_items: list[ClaimOut] = Field(description="Every claim about this entity")


Number = int | float
Verdict = Literal["consistent", "single_source", "changed_over_time", "conflicting", "undetermined"]


class AsOf(BaseModel):
    """When a statement's value held."""

    start: date | None = Field(description="null: open (or unknown with rule `unknown`)")
    end: date | None
    text: str | None = Field(
        description="As known: the claim's period as curated, or the publication date as known",
        examples=["2019-07-01/2019-08-22"],
    )
    rule: Literal["period", "published", "unknown"] = Field(
        description="`period`: the claim states it; `published`: its source's publication "
        "date (a present-tense figure is current as of publication); `unknown`: neither"
    )


class FigureStatement(BaseModel):
    claim_id: str
    value: Number = Field(description="As curated, in `unit` (counts are whole numbers)")
    unit: str
    per: Per | None
    qualifier: Qualifier
    as_stated: str
    currency_uncertain: bool = Field(
        description="A bare '$' in a source of unknown country: compared as uncertain, not USD"
    )
    period: Period | None
    as_of: AsOf
    quote: str
    start: int
    end: int
    source: SourceSummary
    citation: str


class Conflict(BaseModel):
    claims: list[str]
    reason: str = Field(description="Both statements in plain numbers, with their as-of times")


class Comparison(Conflict):
    relation: Literal["agree", "changed_over_time", "conflicting", "undetermined"]


class Spread(BaseModel):
    unit: str = Field(
        description="Canonical unit (miles are given in km; currencies unchanged; `$`: a "
        "currency-uncertain dollar amount)"
    )
    per: Per | None
    min: Number
    max: Number
    count: int = Field(description="Observations (claims) in this unit")


class SeriesPoint(BaseModel):
    claim_id: str
    source_id: str
    value: Number = Field(description="In the series' canonical unit")
    low: Number = Field(description="Lowest value the qualifier allows (nearly, about…)")
    high: Number = Field(description="Highest value the qualifier allows")
    as_stated: str
    as_of: AsOf


class Series(BaseModel):
    unit: str
    per: str | None
    currency_uncertain: bool
    points: list[SeriesPoint] = Field(description="In as-of order, unknown times last")


class FigureOut(BaseModel):
    id: str = Field(examples=["land-ports-of-entry"])
    name: str
    dimension: str
    behaviour: Literal["stable", "changes"] = Field(description="How it behaves over time")
    window: Literal["day", "month", "year"] | None = Field(
        description="Statements as of one such window count as simultaneous"
    )
    verdict: Verdict
    reason: str = Field(description="Why, in plain numbers")
    conflicts: list[Conflict] = Field(description="Every pair of statements that conflicts")
    comparisons: list[Comparison] = Field(description="Every compared pair and its relation")
    spread: list[Spread]
    series: list[Series] = Field(description="Per canonical unit, the statements to plot")
    statements: list[FigureStatement] = Field(description="Every statement of it, in as-of order")


class FigurePage(ListEnvelope):
    items: list[FigureOut]


class ErrorKind(BaseModel):
    """A kind of error: what `type` means, so clients branch on it, never on `detail`."""

    type: str = Field(examples=["/problems/unknown-topic"])
    title: str = Field(examples=["Unknown topic"])
    status: int = Field(examples=[422])
    description: str


class ErrorKindPage(ListEnvelope):
    items: list[ErrorKind]


class ApiIndex(BaseModel):
    """The front door: where every collection and the documentation are."""

    name: str = Field(examples=["Bilateral Facts"])
    api_version: str = Field(description="Version of this API (semantic versioning)")
    dataset_version: str | None = Field(
        description="Version of the loaded dataset; null when none is loaded"
    )
    links: dict[str, str] = Field(description="Relative URLs: claims, sources, docs…")
