"""Replace the stored dataset with a validated one in a single transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, insert, select, text

from app.ingest.dataset import Dataset
from app import models

# Parents before children; deletes run in the reverse order.
_TABLES: list[tuple[Table, str]] = [
    (models.Source.__table__, "sources"),  # type: ignore[list-item]
    (models.Topic.__table__, "topics"),  # type: ignore[list-item]
    (models.Entity.__table__, "entities"),  # type: ignore[list-item]
    (models.EntityAlias.__table__, "entity_aliases"),  # type: ignore[list-item]
    (models.Figure.__table__, "figures"),  # type: ignore[list-item]
    (models.Claim.__table__, "claims"),  # type: ignore[list-item]
    (models.ClaimTopic.__table__, "claim_topics"),  # type: ignore[list-item]
    (models.ClaimEntity.__table__, "claim_entities"),  # type: ignore[list-item]
    (models.Quantity.__table__, "quantities"),  # type: ignore[list-item]
]
_DATASET: Table = models.Dataset.__table__  # type: ignore[assignment]
_CLAIM: Table = models.Claim.__table__  # type: ignore[assignment]
BATCH = 5000


@dataclass(frozen=True)
class IngestSummary:
    version: str
    unchanged: bool
    sources: int
    claims: int
    topics: int
    added: int
    changed: int
    removed: int


def write_dataset(engine: Engine, ds: Dataset) -> IngestSummary:
    """All or nothing: readers see the previous dataset until the commit, never a mix."""
    version = ds.version
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE dataset IN EXCLUSIVE MODE"))
        previous = conn.execute(select(_DATASET.c.version)).scalar()
        old = dict(conn.execute(select(_CLAIM.c.id, _CLAIM.c.digest)).tuples().all())
        new = {c["id"]: c["digest"] for c in ds.claims}
        summary = IngestSummary(
            version=version,
            unchanged=previous == version,
            sources=len(ds.sources),
            claims=len(ds.claims),
            topics=len(ds.topics),
            added=len(new.keys() - old.keys()),
            changed=sum(1 for k in new.keys() & old.keys() if new[k] != old[k]),
            removed=len(old.keys() - new.keys()),
        )
        if summary.unchanged:
            return summary
        conn.execute(delete(_DATASET))
        for table, _ in reversed(_TABLES):
            conn.execute(delete(table))
        for table, attribute in _TABLES:
            rows: list[dict[str, Any]] = getattr(ds, attribute)
            for i in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[i : i + BATCH])
        conn.execute(
            insert(_DATASET),
            {
                "id": 1,
                "version": version,
                "ingested_at": datetime.now(UTC),
                "sources": len(ds.sources),
                "claims": len(ds.claims),
            },
        )
    return summary
