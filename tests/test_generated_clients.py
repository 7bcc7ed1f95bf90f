"""Clients generated from /openapi.json work, typed, with no casts; the document lints clean.

From a live server's document: openapi-typescript + openapi-fetch (type-checked by tsc, then
run with node) and openapi-python-client (type-checked by mypy --strict, then run) each page
through the Arctic claims published since 2021-01-01, fetch one claim, the sources and the
daily-trade figure (tests/clients/*/main.*). Spectral (spectral:oas) must report nothing at all
and Redocly (recommended) no error. The test installs its tools itself (npm ci from the locked
tests/clients/typescript/package-lock.json; the Python generator through uv from PyPI).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT

CLIENTS = ROOT / "tests" / "clients"
TYPESCRIPT = CLIENTS / "typescript"
PYTHON_GENERATOR = "openapi-python-client==0.29.1"
MYPY = "mypy==2.4.1"
TIMEOUT = 600


def _missing(tool: str) -> None:
    message = f"{tool} is not installed"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def run(command: list[str], cwd: Path, **kwargs: Any) -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """tests/clients/typescript/node_modules, installed from the lock file when out of date."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("node/npm")
    marker = TYPESCRIPT / "node_modules" / ".package-lock.json"
    lock = TYPESCRIPT / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        run(["npm", "ci", "--no-audit", "--no-fund"], TYPESCRIPT)
    return TYPESCRIPT / "node_modules" / ".bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(seeded_db: str) -> Iterator[str]:
    """The API under uvicorn on a free port, serving the seeded database."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": seeded_db, "LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def openapi_file(live_server: str, tmp_path: Path) -> Path:
    path = tmp_path / "openapi.json"
    path.write_text(httpx.get(f"{live_server}/openapi.json", timeout=30).text)
    return path


def test_linters_report_nothing(node_tools: Path, openapi_file: Path) -> None:
    report_file = openapi_file.with_name("spectral.json")
    run(
        [str(node_tools / "spectral"), "lint", "--ruleset", str(CLIENTS / ".spectral.yaml"),
         "--format", "json", "--output", str(report_file), "--fail-severity", "hint",
         str(openapi_file)],
        CLIENTS,
    )  # fmt: skip
    assert json.loads(report_file.read_text()) == []
    redocly = subprocess.run(
        [str(node_tools / "redocly"), "lint", "--config", str(CLIENTS / "redocly.yaml"),
         "--format", "json", str(openapi_file)],
        cwd=CLIENTS, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    report = json.loads(redocly.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [] and redocly.returncode == 0, redocly.stdout
    # Warnings left, each for a reason: no license is stated (none is known), and the
    # documented OPTIONS operation has no 4xx because it never fails.
    assert {p["ruleId"] for p in report["problems"]} <= {"info-license", "operation-4xx-response"}


def expected(base: str) -> dict[str, Any]:
    """What each client program must print, read straight from the API."""
    query = {"topic": "arctic", "published_from": "2021-01-01", "limit": 200}
    claims = httpx.get(f"{base}/v1/claims", params=query).json()
    figure = httpx.get(f"{base}/v1/figures/daily-trade").json()
    first = httpx.get(f"{base}/v1/claims/{claims['items'][0]['id']}").json()
    return {
        "pages": math.ceil(claims["total"] / 2),
        "total": claims["total"],
        "claims": [c["id"] for c in claims["items"]],
        "published": [c["source"]["published"] for c in claims["items"]],
        "claim": {k: first[k] for k in ("id", "quote", "citation")},
        "sources": [s["id"] for s in httpx.get(f"{base}/v1/sources").json()["items"]],
        "figure": {
            "id": "daily-trade",
            "verdict": figure["verdict"],
            "stated": [s["as_stated"] for s in figure["statements"]],
        },
        "missing": "/problems/not-found",
    }


def test_typescript_client(node_tools: Path, openapi_file: Path, live_server: str) -> None:
    generated = TYPESCRIPT / "generated"
    shutil.rmtree(generated, ignore_errors=True)
    run(
        [str(node_tools / "openapi-typescript"), str(openapi_file), "-o",
         str(generated / "schema.d.ts")],
        TYPESCRIPT,
    )  # fmt: skip
    run([str(node_tools / "tsc"), "-p", "tsconfig.json"], TYPESCRIPT)  # strict type check
    output = run(["node", str(generated / "dist" / "main.js"), live_server], TYPESCRIPT)
    answer = json.loads(output)
    assert answer == expected(live_server)
    assert answer["pages"] > 1 and all(p >= "2021-01-01" for p in answer["published"])


def test_python_client(openapi_file: Path, live_server: str, tmp_path: Path) -> None:
    uv = _uv()
    tools = [*uv, "run", "--no-project", "--with", PYTHON_GENERATOR, "--with", MYPY]
    package = tmp_path / "client" / "bilateral_facts_client"
    run(
        [*uv, "tool", "run", "--from", PYTHON_GENERATOR, "openapi-python-client", "generate",
         "--path", str(openapi_file), "--meta", "none", "--output-path", str(package)],
        tmp_path,
    )  # fmt: skip
    program = package.parent / "main.py"
    shutil.copy(CLIENTS / "python" / "main.py", program)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    mypy = [*tools, "python", "-m", "mypy", "--strict", "--follow-imports=silent", "main.py"]
    run(mypy, package.parent, env=env)
    output = run([*tools, "python", "main.py", live_server], package.parent, env=env)
    assert json.loads(output) == expected(live_server)
