"""The one schema: SQLModel tables shared by the ingestion job, the API and Alembic.

Rows are replaced wholesale by each ingest, so ids are curated slugs (stable across re-ingests),
never autoincrement integers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, Table
from sqlmodel import Field, SQLModel

MAX_TOPICS = 62  # each topic is one bit of claim.topic_mask, a signed 64-bit integer


class Source(SQLModel, table=True):
    """A source document, stored byte for byte so every quote can be re-checked against it."""

    # What source filters, claim counts and the `published` sort read (id, country, dates), in
    # one covering index: in SQLite's row these columns sit after the document's text (the date
    # columns came later), so reading them from the table walks the text's overflow pages, about
    # a hundred times slower on a large corpus.
    __table_args__ = (
        Index("ix_source_filters", "id", "country", "published_earliest", "published_latest"),
    )

    id: str = Field(primary_key=True)
    file: str
    name: str
    title: str | None = None
    publisher: str | None = None
    country: str | None = Field(default=None, index=True, description="US or CA perspective")
    url: str | None = None
    # A publication date is an interval: the source was published on one day between
    # published_earliest and published_latest (both null: unknown). `published` is the date as
    # curated ("2019", "2019-07-01/2019-08-22", "2021-02-26"), never an invented day.
    published: str | None = None
    published_earliest: date | None = None
    published_latest: date | None = None
    published_precision: str = Field(default="unknown", description="day|month|year|range|unknown")
    published_reason: str | None = Field(default=None, description="How the date was established")
    provenance_note: str
    text: str
    sha256: str


class SourceEvidence(SQLModel, table=True):
    """What looking a source up established (its url, title, publisher or date), where that
    shows, and when it was checked: provenance as data, served under each source."""

    __tablename__ = "source_evidence"

    source_id: str = Field(foreign_key="source.id", primary_key=True)
    position: int = Field(primary_key=True, description="Order within the source's entries")
    establishes: str = Field(description="url, title, publisher or published")
    value: str
    relation: str = Field(description="original, copy, translation or archive")
    address: str | None = None
    quote: str | None = None
    checked: date
    note: str | None = None


class Topic(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    description: str
    mask: int = Field(
        default=0, sa_type=BigInteger, description="This topic's bit in claim.topic_mask"
    )


class TopicAlias(SQLModel, table=True):
    """Another spelling of a topic id (defence for defense), declared in seeds/topics.yaml."""

    __tablename__ = "topic_alias"

    alias: str = Field(primary_key=True)
    topic_id: str = Field(foreign_key="topic.id", index=True)


class Entity(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    kind: str = Field(index=True)


class EntityAlias(SQLModel, table=True):
    """Every name an entity is known by (its name and id included): case-folded for lookup,
    and as curated for display."""

    __tablename__ = "entity_alias"

    alias: str = Field(primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", index=True)
    written: str = Field(description="The name as the seeds write it (NORAD, not norad)")


class Figure(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    dimension: str
    behaviour: str = Field(default="changes", description="stable | changes: over time")
    time_window: str | None = Field(
        default=None, description="day | month | year: statements in one window are simultaneous"
    )


class Claim(SQLModel, table=True):
    # The listing index holds every column a filter on the claim row tests, so a page in id
    # order is found by walking this index alone (the row is read only for the page's claims)
    # and a count by scanning it. There is deliberately no index on source_id or the period
    # columns alone: with one, SQLite's planner may fetch every match through it and sort them,
    # which costs as much as the corpus is large.
    __table_args__ = (
        Index(
            "ix_claim_listing",
            *("id", "topic_mask", "source_id", "period_start", "period_end", "kind", "part_of"),
        ),
    )

    id: str = Field(primary_key=True)
    source_id: str = Field(foreign_key="source.id")
    position: int = Field(description="Order of the claim within its source's claims file")
    statement: str
    quote: str
    quote_start: int
    quote_end: int
    period_start: date | None = None
    period_end: date | None = None
    period_text: str | None = None
    kind: str = Field(description="fact, commitment, position or rhetoric")
    part_of: str | None = Field(
        default=None, description="The claim (same source) this one restates a part of"
    )
    note: str | None = None
    digest: str = Field(description="sha256 of the claim's curated content, to report changes")
    doc: str = Field(description="The claim's public JSON, rendered at ingest (app.claim_document)")
    topic_mask: int = Field(
        default=0, sa_type=BigInteger, description="OR of its topics' masks (a one-test filter)"
    )


class ClaimTopic(SQLModel, table=True):
    __tablename__ = "claim_topic"

    claim_id: str = Field(foreign_key="claim.id", primary_key=True)
    topic_id: str = Field(foreign_key="topic.id", primary_key=True, index=True)


class ClaimEntity(SQLModel, table=True):
    __tablename__ = "claim_entity"

    claim_id: str = Field(foreign_key="claim.id", primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", primary_key=True, index=True)


class Quantity(SQLModel, table=True):
    claim_id: str = Field(foreign_key="claim.id", primary_key=True)
    position: int = Field(primary_key=True)
    value: float
    unit: str = Field(index=True)
    per: str | None = None
    qualifier: str = "exact"
    as_stated: str
    figure_id: str | None = Field(default=None, foreign_key="figure.id", index=True)
    currency_uncertain: bool = Field(
        default=False, description="A bare '$' in a source of unknown country: USD is a guess"
    )


class ClaimCount(SQLModel, table=True):
    """Claims per source and topic (topic `*`: all of the source's claims), written at ingest so
    a total filtered by source, country, date and one topic is a sum over sources, not a scan."""

    __tablename__ = "claim_count"

    source_id: str = Field(foreign_key="source.id", primary_key=True)
    topic_id: str = Field(primary_key=True)
    claims: int


class Dataset(SQLModel, table=True):
    """One row describing the loaded dataset: its content digest and when it was ingested."""

    id: int = Field(default=1, primary_key=True)
    version: str
    ingested_at: datetime
    sources: int
    claims: int


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model: queries and bulk loads use it, not ORM objects."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


SOURCE = table_of(Source)
SOURCE_EVIDENCE = table_of(SourceEvidence)
TOPIC = table_of(Topic)
TOPIC_ALIAS = table_of(TopicAlias)
ENTITY = table_of(Entity)
ENTITY_ALIAS = table_of(EntityAlias)
FIGURE = table_of(Figure)
CLAIM = table_of(Claim)
CLAIM_TOPIC = table_of(ClaimTopic)
CLAIM_ENTITY = table_of(ClaimEntity)
QUANTITY = table_of(Quantity)
CLAIM_COUNT = table_of(ClaimCount)
DATASET = table_of(Dataset)
