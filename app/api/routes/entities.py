"""GET /v1/entities and /v1/entities/{id}: who and what the claims are about."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy import Connection

from app import queries
from app.api.claim_query import NO_CONTROL_CHARACTERS
from app.api.csv_export import add_csv_twin, csv_response, wants_csv
from app.api.deps import Conn, api_router, not_found
from app.api.reader import Reader
from app.api.schemas import NOT_FOUND, EntityDetail, EntityPage, whole_list
from app.terms import EntityKind
from app.vocabulary import Vocabulary

router = api_router(prefix="/v1", tags=["entities"])


@router.get("/entities", response_model=EntityPage)
def list_entities(
    conn: Conn,
    csv: Annotated[bool, Depends(wants_csv)],
    kind: Annotated[EntityKind | None, Query(description="Only entities of this kind")] = None,
) -> Any:
    """Organizations, agreements, people, programs… with their aliases and claim counts."""
    rows = queries.list_entities(conn, kind)
    if csv:
        return csv_response(rows, ["id", "name", "kind", "aliases", "claims"], "entities")
    return whole_list(rows)


@router.get("/entities/{entity}", response_model=EntityDetail, responses=NOT_FOUND)
async def get_entity(
    request: Request,
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
    vocabulary: Vocabulary = await request.app.state.vocabulary.get()
    entity_id = vocabulary.entity_id(entity)
    if entity_id is None:
        raise not_found("entity", entity)

    def read(conn: Connection) -> dict[str, Any]:
        row = next(r for r in queries.list_entities(conn) if r["id"] == entity_id)
        documents = queries.claim_documents(conn, queries.claim_ids_for_entity(conn, entity_id))
        return {**row, "claim_items": [json.loads(d) for d in documents]}

    reader: Reader = request.app.state.reader
    return await reader(read, quick=False)


add_csv_twin(router, "/entities", list_entities, "Entities")
