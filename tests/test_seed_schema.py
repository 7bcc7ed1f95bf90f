"""The published JSON Schemas in seeds/schema/ are the ones the code validates with."""

from __future__ import annotations

import json

from app.ingest.schema_export import schemas
from tests.conftest import SEEDS


def test_published_json_schemas_are_current() -> None:
    for name, document in schemas().items():
        published = json.loads((SEEDS / "schema" / name).read_text(encoding="utf-8"))
        assert published == document, f"run `bilateral schema` to refresh seeds/schema/{name}"
