"""Under overload uvicorn answers 503 at once (LIMIT_CONCURRENCY), and recovers afterwards."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.server import running_api
from tests.conftest import ingest


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'overload.db'}"
    ingest(url)
    env = {"DATABASE_URL": url, "LIMIT_CONCURRENCY": "4", "LOG_LEVEL": "warning"}
    with running_api(env) as server:
        yield server.base


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
