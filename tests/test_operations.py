"""What an operator relies on: request ids, access logs in one format, metrics, probes, dev.py."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import logging.config
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.api.access_log import (
    MAX_LOGGED_PATH,
    ConsoleFormatter,
    JsonFormatter,
    make_formatter,
    uvicorn_log_config,
)
from bench.server import free_port
from tests.conftest import ROOT, response_cache


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "req-123"}).headers["x-request-id"]
        == "req-123"
    )
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) >= 16
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 500}).headers["x-request-id"]
    assert hostile != "x" * 500


# What prometheus-fastapi-instrumentator 8.1 (default metrics, excluded_handlers=["/metrics"])
# exported from a running app, recorded before app.api.metrics replaced it: dashboards rely on it.
INSTRUMENTATOR_FAMILIES = {
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "python_info": "gauge",
    "python_gc_objects_collected_total": "counter",
    "python_gc_objects_uncollectable_total": "counter",
    "python_gc_collections_total": "counter",
    "http_requests_total": "counter",
    "http_requests_created": "gauge",
    "http_request_size_bytes": "summary",
    "http_request_size_bytes_created": "gauge",
    "http_response_size_bytes": "summary",
    "http_response_size_bytes_created": "gauge",
    "http_request_duration_highr_seconds": "histogram",
    "http_request_duration_highr_seconds_created": "gauge",
    "http_request_duration_seconds": "histogram",
    "http_request_duration_seconds_created": "gauge",
}
HIGHR_BOUNDS = [
    "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "1.5", "2.0", "2.5",
    "3.0", "3.5", "4.0", "4.5", "5.0", "7.5", "10.0", "30.0", "60.0", "+Inf",
]  # fmt: skip


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called `name` in an exposition, by their sorted labels."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_metrics_count_every_answer_under_its_route_template(client: TestClient) -> None:
    first, second = (c["id"] for c in client.get("/v1/claims?limit=2").json()["items"])
    etag = client.get(f"/v1/claims/{first}").headers["etag"]
    client.get(f"/v1/claims/{second}")
    client.get(f"/v1/claims/{first}")  # a cache hit: answered before the router
    client.get(f"/v1/claims/{first}", headers={"If-None-Match": etag})  # a 304, also before it
    assert client.get("/v1/claims/no-such-claim").status_code == 404
    assert client.get("/v1/claims?limit=0").status_code == 422
    assert client.get("/nowhere").status_code == 404
    assert response_cache(client.app).hits == 1
    client.get("/metrics")  # excluded: only the next scrape could see it anyway
    text = client.get("/metrics").text

    families = {
        line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE")
    }
    assert families == INSTRUMENTATOR_FAMILIES
    claim = "/v1/claims/{claim_id}"
    assert samples(text, "http_requests_total") == {
        (("handler", "/v1/claims"), ("method", "GET"), ("status", "2xx")): 1.0,
        (("handler", "/v1/claims"), ("method", "GET"), ("status", "4xx")): 1.0,
        (("handler", claim), ("method", "GET"), ("status", "2xx")): 3.0,
        (("handler", claim), ("method", "GET"), ("status", "3xx")): 1.0,
        (("handler", claim), ("method", "GET"), ("status", "4xx")): 1.0,
        (("handler", "none"), ("method", "GET"), ("status", "4xx")): 1.0,
    }
    assert samples(text, "http_request_duration_seconds_count") == {
        (("handler", "/v1/claims"), ("method", "GET")): 2.0,
        (("handler", claim), ("method", "GET")): 5.0,
        (("handler", "none"), ("method", "GET")): 1.0,
    }
    for summary in ("http_request_size_bytes_count", "http_response_size_bytes_count"):
        assert samples(text, summary)[(("handler", claim),)] == 5.0
    # Content-Length of what the client received: the cache hit's is its stored body's.
    assert samples(text, "http_response_size_bytes_sum")[(("handler", claim),)] > 0
    assert samples(text, "http_request_duration_highr_seconds_count") == {(): 8.0}
    highr = samples(text, "http_request_duration_highr_seconds_bucket")
    assert [dict(labels)["le"] for labels in highr] == HIGHR_BOUNDS
    lowr = samples(text, "http_request_duration_seconds_bucket")
    assert sorted({dict(labels)["le"] for labels in lowr}) == ["+Inf", "0.1", "0.5", "1.0"]


def test_metrics_name_answers_the_router_gives_no_api_route(client: TestClient) -> None:
    """A plain Starlette route or mount, a 406 from the cache layer (the router never ran) and
    a trailing-slash redirect: bounded labels, never the raw path."""
    assert client.get("/openapi.json").status_code == 200  # its examples are requests too
    before = samples(client.get("/metrics").text, "http_requests_total")
    assert client.get("/static-offline-docs/no-such.js").status_code == 404
    assert client.get("/v1/claims", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/v1/claims/", follow_redirects=False).status_code == 307
    counts = samples(client.get("/metrics").text, "http_requests_total")

    def added(handler: str, status: str) -> float:
        labels = (("handler", handler), ("method", "GET"), ("status", status))
        return counts.get(labels, 0.0) - before.get(labels, 0.0)

    assert before[(("handler", "/openapi.json"), ("method", "GET"), ("status", "2xx"))] == 1.0
    assert added("/static-offline-docs", "4xx") == 1.0
    assert added("/v1/claims", "4xx") == 1.0
    assert added("none", "3xx") == 1.0
    assert sum(counts.values()) - sum(before.values()) == 3.0
    assert not any(dict(labels)["handler"] == "/v1/claims/" for labels in counts)


def logged_lines(client: TestClient, path: str, **headers: str) -> list[str]:
    """What the access log writes for one request, through the handler the app installed."""
    handler = logging.getLogger("bilateral").handlers[0]
    lines: list[str] = []
    original_emit = handler.emit
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    try:
        client.get(path, headers=headers)
    finally:
        handler.emit = original_emit  # type: ignore[method-assign]
    return lines


def test_access_log_is_one_json_line_with_the_request_id(client: TestClient) -> None:
    lines = logged_lines(client, "/v1/topics?x=1", **{"X-Request-ID": "log-test-1"})
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "log-test-1"
    assert entry["path"] == "/v1/topics"
    assert entry["status"] == 422
    assert entry["duration_ms"] >= 0


def test_access_log_caps_path_and_query(client: TestClient) -> None:
    long_path = "/v1/claims/" + "x" * 5_000  # the request line stays under MAX_HEADER_BYTES
    entry = json.loads(logged_lines(client, f"{long_path}?q={'y' * 5_000}")[-1])
    assert entry["path"] == long_path[:MAX_LOGGED_PATH]
    assert len(entry["query"]) == MAX_LOGGED_PATH
    assert entry["status"] in (404, 422)


def record(name: str, message: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, message, None, None)
    made.fields = fields
    return made


def test_one_format_per_destination(monkeypatch: pytest.MonkeyPatch) -> None:
    access = record(
        "bilateral.access", "request", method="GET", path="/v1/topics", query="", status=200,
        duration_ms=1.5, request_id="r1",
    )  # fmt: skip
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    console = make_formatter("auto")
    line = console.format(access)
    assert line.endswith("info    GET /v1/topics 200 1.5 ms") and "{" not in line
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert json.loads(make_formatter("auto").format(access))["request_id"] == "r1"
    assert isinstance(make_formatter("json"), JsonFormatter)
    assert isinstance(make_formatter("console"), ConsoleFormatter)


def test_uvicorn_lines_go_through_the_same_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    saved = {name: logging.getLogger(name).handlers[:] for name in ("uvicorn", "bilateral")}
    try:
        logging.config.dictConfig(uvicorn_log_config("info", "json"))
        logging.getLogger("uvicorn.error").info("Uvicorn running on %s", "http://x")
        logging.getLogger("bilateral.serve").info("serving on http://x")
    finally:
        for name, handlers in saved.items():
            logging.getLogger(name).handlers[:] = handlers
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["logger"], e["message"]) for e in entries] == [
        ("uvicorn.error", "Uvicorn running on http://x"),
        ("bilateral.serve", "serving on http://x"),
    ]


def load_dev_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_run_installs_only_serving_dependencies_and_passes_the_port_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev = load_dev_script()
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(dev, "sh", lambda *args: calls.append(args))
    dev.run(["uv"], ["--port", "8011"])
    sync, ingest, serve = calls
    assert sync == ("uv", "sync", "--frozen", "--no-dev", "--inexact", "--quiet")
    assert "--no-sync" in ingest and ingest[-1] == "ingest"
    assert serve.count("--port") == 1 and serve[serve.index("--port") + 1] == "8011"
    assert serve[serve.index("--host") + 1] == "127.0.0.1"


def test_the_serving_dependencies_hold_no_test_tools() -> None:
    """What `uv sync --no-dev` installs: the project's dependency closure in uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    wanted, seen = [("bilateral-facts", ())], set()
    while wanted:
        name, extras = wanted.pop()
        if (name, tuple(extras)) in seen:
            continue
        seen.add((name, tuple(extras)))
        package = packages[name]
        deps = list(package.get("dependencies", []))
        for extra in extras:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        wanted += [(d["name"], tuple(d.get("extra", ()))) for d in deps]
    names = {name for name, _ in seen}
    assert {"fastapi", "uvicorn", "sqlalchemy", "uvloop"} <= names
    assert not names & {"pytest", "mypy", "ruff", "selenium", "schemathesis", "datasette"}


def test_dev_run_prints_a_few_lines_then_the_addresses(tmp_path: Path) -> None:
    """The README's run command, for real (its uv sync is a no-op here): quiet until it serves."""
    outside_venv = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not d.startswith(sys.prefix)
    )
    system_python = shutil.which("python3", path=outside_venv)
    if not system_python:
        pytest.skip("no python3 outside the virtualenv")
    has_uv = shutil.which("uv", path=outside_venv) or (
        subprocess.run([system_python, "-m", "uv", "--version"], capture_output=True).returncode
        == 0
    )
    if not has_uv:
        pytest.skip("uv is not installed (dev.py would install it from PyPI)")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}", "LOG_FORMAT": "auto"}
    process = subprocess.Popen(
        [str(system_python), "scripts/dev.py", "run", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "try: " in line or len(lines) > 40:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    served = next(i for i, line in enumerate(lines) if "serving on" in line)
    assert served <= 15, lines
    assert f"http://127.0.0.1:{port}/docs" in lines[served + 1]
    assert f"http://127.0.0.1:{port}/v1/claims?topic=arctic" in lines[served + 2]
    assert not [line for line in lines if "--port" in line]  # no echoed, doubled arguments
