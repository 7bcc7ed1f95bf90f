"""Cursors (issue 18, item 3): signed, checked completely before any query, and refused with a
422 problem when forged, altered, out of range or from an earlier dataset version; a database
error caused by input is never a 503 "unavailable"."""

from __future__ import annotations

import asyncio
import base64
import json
import pickle
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError

from app.api.main import create_app
from app.core.config import Settings
from app.pagination import Cursor, CursorSigner, InvalidCursor
from bench.server import running_api
from tests.conftest import ingest


def _unsigned(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _signed(client: TestClient, value: list[Any]) -> str:
    """A token the server's own key signed, carrying any payload (as if the key had leaked)."""
    app: Any = client.app
    signer: CursorSigner = app.state.cursors
    stamp = asyncio.run(app.state.catalog.dataset_stamp())
    version = stamp[0]
    payload = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    payload = payload.rstrip("=")
    mac = base64.urlsafe_b64encode(signer._mac(payload, version)).decode().rstrip("=")
    return f"{payload}.{mac}"


def _assert_refused(response: Any) -> None:
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


HOSTILE_PAYLOADS: list[tuple[str, list[Any]]] = [
    ("id", ["id", None, "\ud800"]),
    ("id", ["id", None, "a\x00b"]),
    ("id", ["id", None, ""]),
    ("id", ["id", None, "x" * 121]),
    ("id", ["id", None, 5]),
    ("id", ["id", "not-null", "a"]),
    ("relevance", ["relevance", "", "a"]),
    ("relevance", ["relevance", "0.5", "a"]),
    ("relevance", ["relevance", "\x00", "a"]),
    ("relevance", ["relevance", 1e300 * 10, "a"]),  # json.dumps writes Infinity
    ("relevance", ["relevance", None, "a"]),
    ("relevance", ["relevance", True, "a"]),
    ("relevance", ["relevance", 10**400, "a"]),
    ("relevance", ["relevance", [1], "a"]),
    ("published", ["published", "9999-99-99", "a"]),
    ("published", ["published", "2020-02-30", "a"]),
    ("published", ["published", 20200101, "a"]),
    ("published", ["published", "2020-01-01", "a"]),  # one date: the key is an interval
    ("published", ["published", "2020-01-01/2020-02-30", "a"]),
    ("published", ["published", "2020-01-01/2020-01-02/2020-01-03", "a"]),
    ("period", ["period", "2020-01-01/2020-01-02", "a"]),
    ("period", ["period", "0000-01-01", "a"]),
    ("period", ["period", "２０２０-01-01", "a"]),
    ("id", ["-id", None, "a"]),  # issued for another sort
    ("id", ["nonsense", None, "a"]),
    ("id", ["id", None, "a", "extra"]),
]


@pytest.mark.parametrize(
    "cursor",
    [
        "WyJpZCIsbnVsbCwiXHVkODAwIl0",  # the lone surrogate, unsigned
        _unsigned(["relevance", 1e300 * 10, "a"]),
        _unsigned(["id", None, "s21-ports-of-entry"]),  # well-formed, but not signed
        "A" * 512,
        "A" * 513,
        ".",
        "x.y",
        "WyJpZCIs.%%%",
        "é" * 10,
    ],
)
def test_unsigned_or_malformed_cursors_are_422(client: TestClient, cursor: str) -> None:
    for sort in ("id", "relevance"):
        params = {"cursor": cursor, "sort": sort, "q": "trade"}
        _assert_refused(client.get("/v1/claims", params=params))
    _assert_refused(client.get("/v1/claims.csv", params={"cursor": cursor}))


@pytest.mark.parametrize(("sort", "payload"), HOSTILE_PAYLOADS)
def test_signed_but_out_of_range_cursors_are_422(
    client: TestClient, sort: str, payload: list[Any]
) -> None:
    """Even with the key, nothing unchecked reaches a query: types, ranges, encodable text."""
    params = {"cursor": _signed(client, payload), "sort": sort}
    if sort == "relevance":
        params["q"] = "trade"
    _assert_refused(client.get("/v1/claims", params=params))


def test_altered_cursors_are_422(client: TestClient) -> None:
    token = client.get("/v1/claims", params={"limit": 2}).json()["next_cursor"]
    assert client.get("/v1/claims", params={"limit": 2, "cursor": token}).status_code == 200
    payload, mac = token.split(".")
    altered = [
        f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{mac}",
        f"{payload}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        payload,
        f"{payload}.",
        f".{mac}",
    ]
    for cursor in altered:
        _assert_refused(client.get("/v1/claims", params={"limit": 2, "cursor": cursor}))


def test_every_sort_pages_with_signed_cursors(client: TestClient) -> None:
    total = client.get("/v1/claims?limit=1").json()["total"]
    for sort in ("id", "-id", "published", "-published", "period", "-period"):
        seen: list[str] = []
        url: str | None = f"/v1/claims?sort={sort}&limit=100"
        while url:
            body = client.get(url).json()
            seen += [c["id"] for c in body["items"]]
            url = body["next"]
        assert len(seen) == len(set(seen)) == total, sort
    relevance = client.get("/v1/claims?q=Canada&limit=3").json()
    assert client.get(relevance["next"]).status_code == 200


@pytest.fixture
def two_workers(seeded_db: str) -> Iterator[Any]:
    """Build APIs on one database with a given CURSOR_SECRET (None: per process)."""
    apps: list[Any] = []

    def make(secret: str | None) -> TestClient:
        app = create_app(Settings(database_url=seeded_db, cursor_secret=secret))
        apps.append(app)
        return TestClient(app)

    yield make
    for app in apps:
        app.state.catalog.dispose()


def test_a_cursor_works_on_every_worker_sharing_the_secret(two_workers: Any) -> None:
    one, two = two_workers("shared-secret"), two_workers("shared-secret")
    token = one.get("/v1/claims?limit=2").json()["next_cursor"]
    assert two.get("/v1/claims", params={"limit": 2, "cursor": token}).status_code == 200
    _assert_refused(two_workers("other-secret").get("/v1/claims", params={"cursor": token}))
    _assert_refused(two_workers(None).get("/v1/claims", params={"cursor": token}))


def test_a_cursor_is_not_called_forged_when_the_version_cannot_be_read(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = client.get("/v1/claims?limit=2").json()["next_cursor"]
    app: Any = client.app

    async def unknown() -> None:  # as while the database is down
        return None

    monkeypatch.setattr(app.state.catalog, "dataset_stamp", unknown)
    response = client.get("/v1/claims", params={"limit": 2, "cursor": token})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


def test_an_empty_cursor_secret_is_no_secret() -> None:
    assert Settings(cursor_secret="").cursor_secret is None
    assert Settings(cursor_secret="k").cursor_secret is not None


def test_a_cursor_from_an_earlier_dataset_version_is_refused() -> None:
    signer = CursorSigner(b"secret")
    token = signer.encode(Cursor("id", None, "a-claim"), "version-1")
    assert signer.decode(token, "id", "version-1") == Cursor("id", None, "a-claim")
    with pytest.raises(InvalidCursor, match="start again from the first page"):
        signer.decode(token, "id", "version-2")


def test_serve_shares_one_cursor_secret_between_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import uvicorn

    from app import cli

    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    # No database or free port is needed to see what uvicorn would be given.
    monkeypatch.setattr(cli, "preflight", lambda settings: None)
    monkeypatch.setattr(cli, "check_port_free", lambda host, port: None)
    cli.serve(host="127.0.0.1", port=1, workers=2)
    secret = os.environ.pop("CURSOR_SECRET")
    assert len(secret) >= 32  # set before the workers start, so they inherit it
    assert seen["workers"] == 2
    assert seen["h11_max_incomplete_event_size"] == Settings().max_header_bytes
    assert seen["http"].func.__name__ == "HeaderDeadlineH11Protocol"
    assert seen["http"].keywords == {"header_timeout": Settings().header_read_timeout}
    pickle.dumps(seen["http"])  # workers receive it pickled


class _SqlState(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DataError("SELECT", {}, Exception("invalid input syntax")), 422),
        (ProgrammingError("SELECT", {}, Exception("syntax error")), 500),
        (OperationalError("SELECT", {}, Exception("connection refused")), 503),
        (ProgrammingError("SELECT", {}, _SqlState("42P01")), 503),  # not migrated yet
    ],
)
def test_only_unavailability_is_reported_as_503(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    from app import queries

    def fail(*_: Any) -> Any:
        raise error

    monkeypatch.setattr(queries, "list_claims", fail)
    response = client.get("/v1/claims?topic=trade&limit=7")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    if status != 503:
        assert "unavailable" not in response.text


def test_paging_across_the_workers_of_bilateral_serve(tmp_path: Path) -> None:
    """Two workers, a new connection per page: with a secret per process instead of the one
    `bilateral serve` shares, about every other page would be refused."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    ingest(url)
    env = {"DATABASE_URL": url, "WORKERS": "2", "LOG_LEVEL": "warning", "CURSOR_SECRET": ""}
    with running_api(env, quiet=True) as server:
        next_url: str | None = "/v1/claims?limit=15"
        pages = 0
        while next_url:
            with urllib.request.urlopen(server.base + next_url, timeout=10) as response:
                assert response.status == 200
                next_url = json.load(response)["next"]
            pages += 1
    assert pages > 10
