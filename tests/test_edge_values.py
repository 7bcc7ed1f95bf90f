"""Edge values where fuzzing is weak: boundaries, huge numbers, control characters, injection.

Every answer is 200 or a 4xx problem, never a 5xx, and the data is unchanged afterwards (read
from the database itself: a repeated API request would be answered from the response cache).
"""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import writer_engine
from tests.conftest import fingerprint, ingest, response_cache, serving

STRING_PARAMS = [
    "q", "topic", "source", "entity", "unit", "cursor", "country", "sort", "kind", "part_of",
    "facet",
]  # fmt: skip
HOSTILE = [
    "\x00", "a\x00b", "\x1b[31m", "\r\nSet-Cookie: x=1", "' OR 1=1 --", "'; DROP TABLE claim; --",
    '" AND 1=1', "NEAR(a b)", "*", "a:b", "%00", "../../etc/passwd", "😀" * 30, "\u202e",
    "x" * 5000,
]  # fmt: skip


@pytest.mark.no_response_cache_hits  # every hostile value reaches the route
@pytest.mark.parametrize("param", STRING_PARAMS)
def test_hostile_strings_in_every_parameter(client: TestClient, seeded_db: str, param: str) -> None:
    before = fingerprint(seeded_db)
    for value in HOSTILE:
        response = client.get("/v1/claims", params={param: value})
        assert response.status_code in (200, 422), (param, value, response.text[:200])
        if response.status_code == 422:
            assert response.headers["content-type"] == "application/problem+json"
            assert len(response.content) < 4000
    assert fingerprint(seeded_db) == before


def _write(url: str, statement: str) -> None:
    """Change one row behind the API's back (the served dataset keeps its version)."""
    engine = writer_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text(statement)).rowcount == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE claim SET doc = doc || ' ' WHERE id = (SELECT min(id) FROM claim)",
        "DELETE FROM topic_alias WHERE alias = (SELECT min(alias) FROM topic_alias)",
        "DELETE FROM {index} WHERE {id} = (SELECT min({id}) FROM {index})",
    ],
)
def test_the_unchanged_data_check_sees_any_write(backend: str, empty_db: str, change: str) -> None:
    index, index_id = ("claim_fts", "id") if backend == "sqlite" else ("claim_search", "claim_id")
    ingest(empty_db)
    before = fingerprint(empty_db)
    assert fingerprint(empty_db) == before
    _write(empty_db, change.format(index=index, id=index_id))
    assert fingerprint(empty_db) != before


def test_a_repeated_request_hides_a_write_that_the_check_sees(empty_db: str) -> None:
    """Why the check reads the database: the old one repeated an API request, which the
    response cache answers as before whatever the database now holds."""
    ingest(empty_db)
    first_id = "(SELECT min(id) FROM claim)"
    changed = f"UPDATE claim SET doc = replace(doc, id, id || '-changed') WHERE id = {first_id}"
    with serving(empty_db) as client:
        before = fingerprint(empty_db)
        first = client.get("/v1/claims?limit=1")
        _write(empty_db, changed)
        assert client.get("/v1/claims?limit=1").content == first.content
        assert response_cache(client.app).hits == 1
        assert fingerprint(empty_db) != before
    with serving(empty_db, response_cache_entries=0) as uncached:
        assert "-changed" in uncached.get("/v1/claims?limit=1").json()["items"][0]["id"]


@pytest.mark.parametrize(
    "path", ["/v1/claims/{}", "/v1/sources/{}", "/v1/entities/{}", "/v1/figures/{}"]
)
def test_hostile_path_ids(client: TestClient, path: str) -> None:
    for value in ["%00", "' OR 1=1 --", "x" * 121, "..%2F..%2Fetc", "%F0%9F%98%80", "%E2%80%AE"]:
        response = client.get(path.format(value))
        assert response.status_code in (404, 422), (path, value, response.status_code)


@pytest.mark.parametrize(
    "query, status",
    [
        ("published_from=0001-01-01", 200),
        ("published_to=9999-12-31", 200),
        ("period_from=0001-01-01&period_to=9999-12-31", 200),
        ("published_from=10000-01-01", 422),
        ("published_from=0000-01-01", 422),
        ("published_from=2021-13-01", 422),
        ("published_from=-2021-01-01", 422),
        ("published_from=2021-01-01T00:00:00", 422),
        ("published_from=1e3", 422),
        ("published_from=true", 422),
        ("limit=1", 200),
        ("limit=200", 200),
        ("limit=0", 422),
        ("limit=201", 422),
        ("limit=-1", 422),
        (f"limit={2**63}", 422),
        ("limit=1.5", 422),
        (f"min_value={2**63}", 200),
        ("min_value=-1e308&max_value=1e308", 200),
        ("min_value=1e309", 422),
        ("max_value=-inf", 422),
    ],
)
def test_boundaries(client: TestClient, query: str, status: int) -> None:
    response = client.get(f"/v1/claims?{query}")
    assert response.status_code == status, response.text[:300]


def _token(value: object) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _token(["id", None, "z" * 100]),
        _token(["period", 2**63, "x"]),
        _token(["period", "9999-99-99", "x"]),
        _token(["published", "0001-01-01", "\x00"]),
        _token(["id", None, 2**63]),
        _token(["id"]),
        _token({"sort": "id"}),
        _token(["id", None, "x", "extra"]),
        _token(["id", True, "x"]),
        "A" * 512,
        "WyJpZCIs",
    ],
)
def test_forged_or_truncated_cursors(client: TestClient, cursor: str) -> None:
    sort = "id"
    for candidate in ("period", "published"):
        if candidate in base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode(
            "utf-8", "replace"
        ):
            sort = candidate
    response = client.get("/v1/claims", params={"cursor": cursor, "sort": sort})
    assert response.status_code in (200, 422), response.text[:300]
    if response.status_code == 200:
        assert isinstance(response.json()["items"], list)
