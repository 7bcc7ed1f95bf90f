"""JSON Schema documents for the seed files, published in seeds/schema/ for editors and CI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.ingest.schema import ClaimsFile, EntitiesFile, FiguresFile, SourcesFile, TopicsFile

_FILES: dict[str, type[BaseModel]] = {
    "sources.schema.json": SourcesFile,
    "topics.schema.json": TopicsFile,
    "entities.schema.json": EntitiesFile,
    "figures.schema.json": FiguresFile,
    "claims.schema.json": ClaimsFile,
}


def schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for name, model in _FILES.items():
        document = model.model_json_schema(mode="validation")
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        document["$id"] = name
        out[name] = document
    return out
