"""The OpenAPI document, made to agree with what the server does, for generated clients.

FastAPI's document is the starting point; this module then states what FastAPI cannot know:
the configured page-size bounds, the closed vocabularies of the loaded dataset (topic, source
and unit values), the response headers the middlewares add, problem bodies only as
`application/problem+json`, and examples taken from real answers of this server (each example
request is answered in-process when the document is built, once per dataset version).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api.caching import UNCACHED_PREFIXES
from app.api.problems import KINDS, PROBLEM_JSON, problem_body
from app.catalog import Catalog
from app.core.config import Settings
from app.vocabulary import COUNTRIES, Vocabulary

CONTACT = {"name": "Bilateral Facts maintainers"}
SERVERS = [{"url": "/", "description": "The server that serves this document"}]
PAGED = {"listClaims", "getTimeline"}  # and their CSV twins
HIDDEN_PARAMETERS = {"format"}
VALIDATORS = ("X-Request-ID", "ETag", "Last-Modified", "Cache-Control")

# One real request per operation: its answer is the documented example (and every example id
# in it resolves, which tests/test_openapi_contract.py checks).
EXAMPLE_REQUESTS: dict[str, str] = {
    "listClaims": "/v1/claims?topic=arctic&published_from=2021-01-01&sort=-published&limit=2",
    "getTimeline": "/v1/timeline?topic=trade&limit=2",
    "getClaim": "/v1/claims/s21-ports-of-entry-120",
    "listSources": "/v1/sources",
    "getSource": "/v1/sources/usdos-2022-blinken-travel-to-canada",
    "listTopics": "/v1/topics",
    "listEntities": "/v1/entities?kind=agreement",
    "getEntity": "/v1/entities/USMCA",
    "listFigures": "/v1/figures",
    "getFigure": "/v1/figures/daily-trade",
    "getFigureSvg": "/v1/figures/daily-trade.svg",
    "getHealth": "/healthz",
    "getReadiness": "/readyz",
    "getMetrics": "/metrics",
    "getRoot": "/",
    "getIndex": "/v1",
    "listProblemTypes": "/problems",
    "getProblemType": "/problems/unknown-topic",
}
CSV_SUFFIX = "Csv"  # a list's CSV twin: operationId listClaimsCsv, path /v1/claims.csv


def example_request(op_id: str) -> str | None:
    """The URL whose answer documents this operation (a CSV twin's is its list's, as .csv)."""
    if op_id in EXAMPLE_REQUESTS:
        return EXAMPLE_REQUESTS[op_id]
    base = (
        EXAMPLE_REQUESTS.get(op_id.removesuffix(CSV_SUFFIX)) if op_id.endswith(CSV_SUFFIX) else None
    )
    if base is None:
        return None
    path, _, query = base.partition("?")
    return f"{path}.csv?{query}" if query else f"{path}.csv"


ERROR_EXAMPLES = {"422": "/v1/claims?topic=nope", "404": "/v1/claims/no-such-claim"}

# An example for every parameter, each a real value of the seeds. Swagger UI's "Try it out"
# sends them all at once, so together they must make a valid request: the cursor example is the
# next_cursor of the operation's example answer, issued for the sort example (-published).
PARAMETER_EXAMPLES: dict[str, Any] = {
    "q": "1.9 billion",
    "topic": ["arctic"],
    "source": ["usdos-2021-neighbors-friends-and-allies"],
    "entity": ["NORAD"],
    "country": ["US"],
    "published_from": "2021-01-01",
    "published_to": "2021-12-31",
    "period_from": "2018-01-01",
    "period_to": "2018-12-31",
    "unit": ["USD"],
    "min_value": 1_000_000_000,
    "max_value": 3_000_000_000,
    "limit": 10,
    "sort": "-published",
    "facet": ["topic"],
    "kind": ["fact"],
    "part_of": ["art-largest-trading-relationship"],
    "claim_id": "s21-ports-of-entry-120",
    "source_id": "usdos-2021-neighbors-friends-and-allies",
    "figure_id": "daily-trade",
}
PATH_EXAMPLES = {
    "/v1/entities": {"kind": "agreement"},
    "/v1/entities/{entity}": {"entity": "NORAD"},
    "/problems/{kind}": {"kind": "unknown-topic"},
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id (the caller's, if it sent a short token; else a new "
        "one): quote it when reporting a problem",
        "schema": {"type": "string"},
        "example": "5f0c6a0e9b3a4e3c8f1d2b7a6c5e4d3f",
    },
    "ETag": {
        "description": "Validator of this representation; send it back as If-None-Match",
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "When the loaded dataset was ingested; send it as If-Modified-Since",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "How long the answer may be reused (until the next ingest at most)",
        "schema": {"type": "string"},
        "example": "public, max-age=300",
    },
    "Link": {
        "description": 'RFC 8288 link to the next page: `<url>; rel="next"` (absent on the last)',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
        "example": 1,
    },
    "Allow": {
        "description": "The methods this API allows on every path",
        "schema": {"type": "string"},
        "example": "GET, HEAD, OPTIONS",
    },
}


def api_version() -> str:
    """The package's version (pyproject.toml), which is the API's version too."""
    try:
        return version("bilateral-facts")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


def operation_id(route: APIRoute) -> str:
    """listClaims, getClaim…: the route function's name in camelCase."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


@dataclass
class _Built:
    key: object
    document: dict[str, Any]


T = TypeVar("T")


def _on_own_loop(run: Callable[[], Awaitable[T]]) -> T:
    """Await `run()` on an event loop of its own, in a thread (the caller, FastAPI's
    synchronous app.openapi(), may be inside one)."""

    async def main() -> T:
        return await run()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def install(app: FastAPI, settings: Settings, api_version: str, catalog: Catalog) -> None:
    """Replace app.openapi with the corrected document, rebuilt when the dataset changes."""
    built: list[_Built] = []

    def openapi() -> dict[str, Any]:
        stamp = _on_own_loop(catalog.dataset_stamp)
        key = stamp[0] if stamp else None
        if built and built[0].key == key and key is not None:
            return built[0].document
        fetch = _fetch if key is not None else None
        document = build(app, settings, api_version, fetch, _vocabulary(catalog))
        built[:] = [_Built(key, document)]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


Fetcher = Callable[[FastAPI, list[str]], dict[str, httpx.Response]]


def build(
    app: FastAPI,
    settings: Settings,
    api_version: str,
    fetch: Fetcher | None,
    vocabulary: Vocabulary | None = None,
) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=api_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        contact=CONTACT,
        servers=SERVERS,
    )
    doc["security"] = []
    op_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    answers = _answers(app, fetch, op_ids)
    components = doc.setdefault("components", {})
    components["headers"] = copy.deepcopy(HEADERS)
    _problem_schema(components["schemas"])
    for path, item in doc["paths"].items():
        for operation in item.values():
            _fix_parameters(path, operation, settings, vocabulary, answers)
            _fix_responses(path, operation, answers)
    _header_examples(components, answers)
    _options(doc)
    return doc


def _vocabulary(catalog: Catalog) -> Vocabulary | None:
    try:
        return _on_own_loop(catalog.vocabulary)
    except Exception:  # no database or no dataset: the document is still served, without enums
        return None


def _fetch(app: FastAPI, urls: list[str]) -> dict[str, httpx.Response]:
    """Answer each URL in-process, on an event loop of its own (the caller may be inside one)."""

    async def run() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"X-Request-ID": "openapi-example"}
        async with httpx.AsyncClient(transport=transport, base_url="http://openapi") as client:
            return {url: await client.get(url, headers=headers) for url in urls}

    return _on_own_loop(run)


def _answers(app: FastAPI, fetch: Fetcher | None, op_ids: list[str]) -> dict[str, httpx.Response]:
    if fetch is None:
        return {}
    urls = [url for url in map(example_request, op_ids) if url is not None]
    urls += ERROR_EXAMPLES.values()
    try:
        return fetch(app, urls)
    except Exception:  # examples are a courtesy: never fail the document for them
        return {}


def _problem_schema(schemas: dict[str, Any]) -> None:
    """Problem.type and errors[].type list every kind: clients branch on them."""
    types = [kind.type for kind in KINDS.values()]
    schemas["Problem"]["properties"]["type"]["enum"] = types
    schemas["ProblemError"]["properties"]["type"]["enum"] = types


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None = None` on an optional parameter is just an optional X."""
    options = schema.get("anyOf")
    if not options:
        return schema
    rest = [o for o in options if o.get("type") != "null"]
    if len(rest) != 1:
        return schema
    merged = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest[0], **merged}


def _enum_for(name: str, vocabulary: Vocabulary | None) -> list[str] | None:
    if name == "country":
        return list(COUNTRIES)
    if vocabulary is None:
        return None
    table = {"topic": vocabulary.topics, "source": vocabulary.sources, "unit": vocabulary.units}
    if name not in table:
        return None
    return sorted(set(table[name].values()))


def _fix_parameters(
    path: str,
    operation: dict[str, Any],
    settings: Settings,
    vocabulary: Vocabulary | None,
    answers: dict[str, httpx.Response],
) -> None:
    # `format` is the CSV switch of the JSON operations: undocumented, so typed clients never
    # meet CSV there (FastAPI does not honour include_in_schema=False inside a query model).
    kept = [p for p in operation.get("parameters", []) if p["name"] not in HIDDEN_PARAMETERS]
    operation["parameters"] = kept
    for parameter in kept:
        name = parameter["name"]
        schema = _without_null(parameter["schema"])
        schema.pop("title", None)
        if name == "limit" and operation["operationId"].endswith(CSV_SUFFIX):
            # a CSV page: any limit the field allows, cut to CSV_MAX_ROWS rows; without a
            # limit, CSV_MAX_ROWS rows (which may exceed the largest limit, so no `default`)
            schema.pop("default", None)
            schema["description"] = (
                f"Rows per CSV page (without it, and at most, {settings.csv_max_rows}: a "
                "larger limit is cut to that); the Link header leads to the next page"
            )
            parameter["description"] = schema["description"]
        elif name == "limit":
            schema["maximum"] = settings.max_page_size
            schema["default"] = min(settings.default_page_size, settings.max_page_size)
        target = schema["items"] if schema.get("type") == "array" else schema
        enum = _enum_for(name, vocabulary) if parameter["in"] == "query" else None
        if enum:
            target["enum"] = enum
            target.pop("pattern", None)
        parameter["schema"] = schema
        example = PATH_EXAMPLES.get(path.removesuffix(".csv"), {}).get(
            name, PARAMETER_EXAMPLES.get(name)
        )
        if name == "cursor":
            example = _cursor_example(answers, operation["operationId"])
        if example is None and target.get("enum"):  # a parameter added without an example
            first = target["enum"][0]
            example = [first] if target is not schema else first
        if example is not None:
            parameter["example"] = example


def _cursor_example(answers: dict[str, httpx.Response], op_id: str) -> str | None:
    """The next_cursor of the operation's own example answer (a cursor is tied to its sort)."""
    # a CSV twin pages with the cursors of its JSON list
    response = answers.get(example_request(op_id.removesuffix(CSV_SUFFIX)) or "")
    if response is None or response.status_code != 200:
        return None
    cursor = response.json().get("next_cursor")
    return cursor if isinstance(cursor, str) else None


def _cached(path: str) -> bool:
    return not path.startswith(UNCACHED_PREFIXES)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _fix_responses(
    path: str, operation: dict[str, Any], answers: dict[str, httpx.Response]
) -> None:
    responses: dict[str, Any] = operation["responses"]
    op_id = operation["operationId"]
    for status, response in responses.items():
        content = response.get("content", {})
        if not status.startswith("2"):
            content = {PROBLEM_JSON: content.get(PROBLEM_JSON) or _problem_content()}
        # one media type per kind: text/plain, not also text/plain; version=…
        content = {
            k: v for k, v in content.items() if ";" not in k or k.split(";")[0] not in content
        }
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _ref("X-Request-ID")
        if status == "503":
            headers["Retry-After"] = _ref("Retry-After")
        if status.startswith("2") and _cached(path):
            for name in ("ETag", "Last-Modified", "Cache-Control"):
                headers[name] = _ref(name)
        if status.startswith("2") and op_id.removesuffix(CSV_SUFFIX) in PAGED:
            headers["Link"] = _ref("Link")
        response["content"] = content
        _example(status, op_id, content, answers)
    if _cached(path):
        responses["304"] = {
            "description": "Not modified: the request's If-None-Match (an ETag) or "
            "If-Modified-Since (a Last-Modified) still holds",
            "headers": {
                name: _ref(name)
                for name in ("X-Request-ID", "ETag", "Last-Modified", "Cache-Control")
            },
        }
    if "200" in responses:
        responses["200"]["description"] = operation.get("summary", "OK")


def _bare(media_type: str) -> str:
    return media_type.split(";")[0].strip()


def _problem_content() -> dict[str, Any]:
    return {"schema": {"$ref": "#/components/schemas/Problem"}}


def _example(
    status: str, op_id: str, content: dict[str, Any], answers: dict[str, httpx.Response]
) -> None:
    for media_type, body in content.items():
        if media_type == PROBLEM_JSON:
            body["example"] = _problem_example(status, answers)
            continue
        answer = answers.get(example_request(op_id) or "")
        if answer is None or str(answer.status_code) != status:
            continue
        if media_type.startswith("text/") or media_type.endswith("+xml"):
            body["example"] = "\n".join(answer.text.splitlines()[:6]) + "\n"
        else:
            body["example"] = answer.json()


def _problem_example(status: str, answers: dict[str, httpx.Response]) -> Any:
    answer = answers.get(ERROR_EXAMPLES.get(status, ""))
    if answer is not None and str(answer.status_code) == status:
        return answer.json()
    kind = next((k for k in KINDS.values() if str(k.status) == status), KINDS["internal-error"])
    detail = {
        "query-timeout": "the query took too long and was stopped; narrow the filters",
    }.get(kind.slug, kind.description)
    return json.loads(problem_body(kind.slug, detail, "/v1/claims"))


def _header_examples(components: dict[str, Any], answers: dict[str, httpx.Response]) -> None:
    """ETag, Last-Modified and Link examples from a real answer's headers."""
    answer = answers.get(EXAMPLE_REQUESTS["listClaims"])
    if answer is None:
        return
    for name in ("ETag", "Last-Modified", "Link"):
        value = answer.headers.get(name)
        if value:
            components["headers"][name]["example"] = value


def _options(doc: dict[str, Any]) -> None:
    """OPTIONS answers every path with the allowed methods; documented once, on /v1."""
    doc["paths"].setdefault("/v1", {})["options"] = {
        "tags": ["index"],
        "summary": "Allowed methods",
        "description": "Every path answers OPTIONS with 204 and an Allow header: the API is "
        "read-only (GET, HEAD, OPTIONS). Any other method is a 405 problem.",
        "operationId": "getAllowedMethods",
        "responses": {
            "204": {
                "description": "No content; the Allow header lists the methods",
                "headers": {"Allow": _ref("Allow")},
            },
        },
    }
