"""The OpenAPI document agrees with the server: every documented bound, enum and example is
tried against the running API (SQLite and Postgres), and every answer of an example request
validates against the schema documented for it."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.api.openapi import example_request
from app.core.config import Settings

OPERATION_IDS = {
    "listClaims", "getClaim", "getTimeline", "listSources", "getSource", "listTopics",
    "listEntities", "getEntity", "listFigures", "getFigure", "getFigureSvg", "getHealth",
    "getReadiness",
    "getMetrics", "getRoot", "getIndex", "listProblemTypes", "getProblemType",
    "getAllowedMethods", "listClaimsCsv", "getTimelineCsv", "listSourcesCsv", "listTopicsCsv",
    "listEntitiesCsv", "listFiguresCsv",
}  # fmt: skip
# Where an id of each schema resolves.
ID_PATHS = {
    "ClaimOut": "/v1/claims/{}",
    "SourceSummary": "/v1/sources/{}",
    "TopicOut": "/v1/claims?topic={}",
    "EntityOut": "/v1/entities/{}",
    "FigureOut": "/v1/figures/{}",
}


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, item in doc["paths"].items() for m, op in item.items()]


def example_url(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            path = path.replace(f"{{{parameter['name']}}}", quote(parameter["example"]))
    return path


def query_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p.get("in") == "query"]


def test_document_metadata(doc: dict[str, Any]) -> None:
    assert doc["info"]["version"] == version("bilateral-facts")
    assert doc["info"]["contact"]
    assert doc["security"] == []
    assert doc["servers"]
    assert {op["operationId"] for _, _, op in operations(doc)} == OPERATION_IDS


def test_errors_are_only_problem_json(doc: dict[str, Any]) -> None:
    for path, _, operation in operations(doc):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert set(response["content"]) == {"application/problem+json"}, (path, status)
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert set(metrics) == {"text/plain"}


def test_optional_query_parameters_are_not_nullable(doc: dict[str, Any]) -> None:
    for path, _, operation in operations(doc):
        for parameter in query_parameters(operation):
            assert "anyOf" not in parameter["schema"], (path, parameter["name"])
            assert "example" in parameter, (path, parameter["name"])


def test_limit_maximum_is_the_configured_one(client: TestClient, doc: dict[str, Any]) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    limits = [
        p["schema"]
        for _, _, op in operations(doc)
        for p in query_parameters(op)
        if p["name"] == "limit" and not op["operationId"].endswith("Csv")  # CSV: its own rows
    ]
    assert limits and all(s["maximum"] == settings.max_page_size == 200 for s in limits)


def test_every_documented_bound_and_enum_holds(client: TestClient, doc: dict[str, Any]) -> None:
    tried = 0
    for path, method, operation in operations(doc):
        if method != "get":
            continue
        url = example_url(path, operation)
        examples = {p["name"]: p["example"] for p in query_parameters(operation)}
        # Swagger UI's "Try it out" sends every example at once: that request must be valid
        assert client.get(url, params=examples).status_code == 200, url
        for parameter in query_parameters(operation):
            name, schema = parameter["name"], parameter["schema"]
            items = schema.get("items", {})

            def status(
                value: Any, name: str = name, url: str = url, examples: dict[str, Any] = examples
            ) -> int:
                # sort=relevance is documented as needing q, a cursor as needing its sort
                extra = {"q": "NORAD"} if value == "relevance" else {}
                if name == "cursor" and "sort" in examples:
                    extra["sort"] = examples["sort"]
                return client.get(url, params={name: value, **extra}).status_code

            for bound, inside, outside in (("maximum", 0, 1), ("minimum", 0, -1)):
                if bound in schema:
                    assert status(schema[bound] + inside) == 200, (url, name, bound)
                    assert status(schema[bound] + outside) == 422, (url, name, bound)
                    tried += 1
            for value in schema.get("enum", []) + items.get("enum", []):
                assert status(value) == 200, (url, name, value)
                tried += 1
            if "enum" in schema or "enum" in items:
                assert status("zz-not-a-value") == 422, (url, name)
            if "maxItems" in schema and "enum" in items:
                repeats = [items["enum"][0]] * schema["maxItems"]
                assert status(repeats) == 200, (url, name)
                assert status([*repeats, items["enum"][0]]) == 422, (url, name)
            for key in ("maxLength",):
                limit = (schema.get(key) or items.get(key)) if key else None
                if limit:
                    assert status("a" * (limit + 1)) == 422, (url, name, key)
            assert status(parameter["example"]) == 200, (url, name, parameter["example"])
    assert tried > 50


def test_path_parameter_bounds_and_examples(client: TestClient, doc: dict[str, Any]) -> None:
    for path, _, operation in operations(doc):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "path":
                continue
            assert client.get(example_url(path, operation)).status_code == 200, path
            longest = parameter["schema"]["maxLength"]
            too_long = path.replace(f"{{{parameter['name']}}}", "a" * (longest + 1))
            assert client.get(too_long).status_code == 422, path
            fits = path.replace(f"{{{parameter['name']}}}", "a" * longest)
            assert client.get(fits).status_code == 404, path


def validate(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(value)


def test_every_example_is_the_real_answer_and_fits_its_schema(
    client: TestClient, doc: dict[str, Any]
) -> None:
    for _, method, operation in operations(doc):
        if method != "get":
            continue
        url = example_request(operation["operationId"])
        assert url is not None, operation["operationId"]
        answer = client.get(url)
        assert answer.status_code == 200, url
        documented = operation["responses"]["200"]
        content = documented["content"]
        paged = "application/json" in content and answer.json().get("next")
        for header in documented["headers"]:
            if header != "Link" or paged:  # Link only when there is a next page
                assert header.lower() in answer.headers, (url, header)
        if "application/json" not in content:
            (text,) = content.values()  # text/plain (metrics) or text/csv (a list's CSV twin)
            assert answer.text.startswith(text["example"].splitlines()[0])
            continue
        body = content["application/json"]
        validate(doc, body["schema"], answer.json())
        if operation["operationId"] not in {"getReadiness", "getHealth"}:
            assert body["example"] == answer.json(), url
        for response in operation["responses"].values():
            problem = response.get("content", {}).get("application/problem+json")
            if problem:
                validate(doc, problem["schema"], problem["example"])
                assert client.get(problem["example"]["type"]).status_code == 200


def test_every_schema_example_id_resolves(client: TestClient, doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for name, path in ID_PATHS.items():
        examples = schemas[name]["properties"]["id"]["examples"]
        assert examples, name
        for example in examples:
            assert client.get(path.format(example)).status_code == 200, (name, example)


def test_every_claim_id_in_an_example_resolves(client: TestClient, doc: dict[str, Any]) -> None:
    seen: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "statement" in value and "quote" in value and isinstance(value.get("id"), str):
                seen.add(value["id"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc["paths"])
    assert len(seen) >= 3
    for claim_id in seen:
        assert client.get(f"/v1/claims/{claim_id}").status_code == 200, claim_id


def test_limit_bounds_follow_the_settings(seeded_db: str) -> None:
    app = create_app(Settings(database_url=seeded_db, max_page_size=30, default_page_size=10))
    with TestClient(app) as client:
        limit = next(
            p["schema"]
            for p in client.get("/openapi.json").json()["paths"]["/v1/claims"]["get"]["parameters"]
            if p.get("name") == "limit"
        )
        assert (limit["maximum"], limit["default"]) == (30, 10)
        assert client.get("/v1/claims?limit=30").status_code == 200
        assert client.get("/v1/claims?limit=31").json()["type"] == "/problems/limit-exceeded"
        assert len(client.get("/v1/claims").json()["items"]) == 10
    app.state.catalog.dispose()
