"""What an operator relies on: request ids, JSON access logs, metrics, probes."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "req-123"}).headers["x-request-id"]
        == "req-123"
    )
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) >= 16
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 500}).headers["x-request-id"]
    assert hostile != "x" * 500


def test_access_log_is_one_json_line_with_the_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("bilateral.access")
    handler = logger.handlers[0]
    lines: list[str] = []
    original_emit = handler.emit
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    try:
        client.get("/v1/topics?x=1", headers={"X-Request-ID": "log-test-1"})
    finally:
        handler.emit = original_emit  # type: ignore[method-assign]
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "log-test-1"
    assert entry["path"] == "/v1/topics"
    assert entry["status"] == 422
    assert entry["duration_ms"] >= 0


def test_metrics_count_requests(client: TestClient) -> None:
    client.get("/v1/topics")
    body = client.get("/metrics").text
    assert "http_requests_total" in body
    assert 'handler="/v1/topics"' in body


def test_readyz_fails_cleanly_without_a_dataset(tmp_path: object) -> None:
    from pathlib import Path

    from app.api.main import create_app
    from app.core.config import Settings
    from app.migrate import upgrade

    assert isinstance(tmp_path, Path)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    with TestClient(app) as empty:
        response = empty.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "ingest" in response.json()["detail"]
        assert empty.get("/healthz").status_code == 200
