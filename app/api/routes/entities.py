"""GET /v1/entities and /v1/entities/{id}: who and what the claims are about."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from app.api.claim_query import NO_CONTROL_CHARACTERS
from app.api.csv_export import add_csv_twin, csv_response, wants_csv
from app.api.deps import CatalogDep, api_router, not_found
from app.api.schemas import NOT_FOUND, EntityDetail, EntityPage, whole_list
from app.terms import EntityKind

router = api_router(prefix="/v1", tags=["entities"])


@router.get("/entities", response_model=EntityPage)
async def list_entities(
    catalog: CatalogDep,
    csv: Annotated[bool, Depends(wants_csv)],
    kind: Annotated[EntityKind | None, Query(description="Only entities of this kind")] = None,
) -> Any:
    """Organizations, agreements, people, programs… with their aliases and claim counts."""
    rows = await catalog.entities(kind)
    if csv:
        return csv_response(rows, ["id", "name", "kind", "aliases", "claims"], "entities")
    return whole_list(rows)


@router.get("/entities/{entity}", response_model=EntityDetail, responses=NOT_FOUND)
async def get_entity(
    catalog: CatalogDep,
    entity: Annotated[
        str,
        Path(
            max_length=120,
            pattern=NO_CONTROL_CHARACTERS,
            description="Entity id, name or alias, e.g. NORAD",
        ),
    ],
) -> dict[str, Any]:
    """One entity (found by id, name or any alias) and every claim about it."""
    entity_id = (await catalog.vocabulary()).entity_id(entity)
    found = None if entity_id is None else await catalog.entity(entity_id)
    if found is None:  # an unknown name, or an entity an ingest removed since
        raise not_found("entity", entity)
    documents = found.pop("claim_documents")
    return {**found, "claim_items": [json.loads(d) for d in documents]}


add_csv_twin(router, "/entities", list_entities, "Entities")
