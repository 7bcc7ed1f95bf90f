"""Under overload uvicorn answers 503 at once (LIMIT_CONCURRENCY), and recovers afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, ingest


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'overload.db'}"
    ingest(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "LIMIT_CONCURRENCY": "4", "LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_overload_is_a_quick_503_then_recovery(small_server: str) -> None:
    port = int(small_server.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
    try:
        for sock in idle:
            sock.sendall(b"GET /v1/claims HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        time.sleep(0.3)
        started = time.monotonic()
        response = httpx.get(f"{small_server}/v1/topics", timeout=5)
        assert response.status_code == 503
        assert time.monotonic() - started < 1
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"{small_server}/v1/topics", timeout=5).status_code == 200
