"""Replace the stored dataset with a validated one in a single transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, insert, select, text

from app import models, search
from app.ingest.dataset import Dataset

# Parents before children; deletes run in the reverse order.
_TABLES: list[tuple[Table, str]] = [
    (models.SOURCE, "sources"),
    (models.TOPIC, "topics"),
    (models.ENTITY, "entities"),
    (models.ENTITY_ALIAS, "entity_aliases"),
    (models.FIGURE, "figures"),
    (models.CLAIM, "claims"),
    (models.CLAIM_TOPIC, "claim_topics"),
    (models.CLAIM_ENTITY, "claim_entities"),
    (models.QUANTITY, "quantities"),
    (models.CLAIM_COUNT, "claim_counts"),
]
_DATASET = models.DATASET
_CLAIM = models.CLAIM
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
        old: dict[str, str] = {
            r.id: r.digest for r in conn.execute(select(_CLAIM.c.id, _CLAIM.c.digest))
        }
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
        search.rebuild_index(conn)
        conn.execute(text("ANALYZE"))  # statistics the planner needs to pick the listing index
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
