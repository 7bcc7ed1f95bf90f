"""The HTTP contract every client relies on (issues 12 and 18): one negotiation decision for
body, cache and ETag; cached answers carry only the current request's id; links never come from
the Host header; malformed validators are ignored; CORS lets a browser app read what it needs;
CSV has its own documented paths and bounded pages."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.core.config import Settings

ARCTIC = "/v1/claims?topic=arctic"


@pytest.fixture
def make_client(seeded_db: str) -> Iterator[Any]:
    """An API on the seeded database with extra settings; closed after the test."""
    apps = []

    def make(**settings: Any) -> TestClient:
        app = create_app(Settings(database_url=seeded_db, **settings))
        apps.append(app)
        client = TestClient(app)
        client.__enter__()
        return client

    yield make
    for app in apps:
        app.state.catalog.dispose()


def _kind(response: Any) -> str:
    content_type = response.headers["content-type"]
    if content_type.startswith("text/csv"):
        return "csv"
    if content_type.startswith("application/json"):
        return "json"
    return content_type


# --- issue 12, item 1: one negotiation decision -------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("application/json", "json"),
        ("text/csv", "csv"),
        ("text/csv, application/json;q=0.1", "csv"),
        ("text/csv;q=0.9, application/json;q=0.1", "csv"),
        ("application/json;q=0.5, text/csv;q=0.6", "csv"),
        ("application/json, text/csv", "json"),
        ("text/csv, application/json", "json"),  # equal q: the server's order, JSON first
        ("*/*", "json"),
        ("text/*", "csv"),
        ("text/*;q=0.5, application/*;q=0.4", "csv"),
        ("*/*;q=0.1, text/csv", "csv"),
        ("text/csv;q=0, */*", "json"),
        ("TEXT/CSV", "csv"),
        ("text/csv; charset=utf-8", "csv"),
        ("application/json;q=abc, text/csv", "csv"),
        ("nonsense", "json"),
    ],
)
def test_accept_decides_one_representation(
    client: TestClient, accept: str | None, expected: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = client.get(ARCTIC, headers=headers)
    assert response.status_code == 200, response.text[:200]
    assert _kind(response) == expected
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    "accept", ["image/png", "application/json;q=0, text/csv;q=0", "*/*;q=0", "text/html"]
)
def test_nothing_acceptable_is_406_problem(client: TestClient, accept: str) -> None:
    response = client.get(ARCTIC, headers={"Accept": accept})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 406
    assert "accept" in response.headers["vary"].lower()


def test_detail_paths_offer_json_only(client: TestClient) -> None:
    detail = client.get("/v1/claims/does-not-matter", headers={"Accept": "text/csv"})
    assert detail.status_code == 406


@pytest.mark.parametrize("first", ["text/csv, application/json;q=0.1", "application/json"])
def test_cache_never_serves_another_representation(client: TestClient, first: str) -> None:
    """Issue 12's reproduction, in both orders, with ETags per representation."""
    answers = {}
    for accept in (first, "text/csv", "application/json", "text/csv;q=0.9, application/json;q=0.1"):
        response = client.get("/v1/claims?topic=trade&limit=3", headers={"Accept": accept})
        expected = "json" if accept == "application/json" else "csv"
        assert _kind(response) == expected, accept
        answers.setdefault(expected, set()).add(response.headers["etag"])
    assert len(answers["csv"]) == 1 and len(answers["json"]) == 1
    assert answers["csv"] != answers["json"]


def test_format_parameter_wins_over_accept(client: TestClient) -> None:
    csv_answer = client.get(ARCTIC + "&format=csv", headers={"Accept": "application/json"})
    assert _kind(csv_answer) == "csv"
    json_answer = client.get(ARCTIC + "&format=json", headers={"Accept": "text/csv"})
    assert _kind(json_answer) == "json"
    assert client.get(ARCTIC + "&format=xml").status_code == 422
    # an ETag of one representation does not validate the other
    again = client.get(
        ARCTIC + "&format=json", headers={"If-None-Match": csv_answer.headers["etag"]}
    )
    assert again.status_code == 200


@pytest.mark.parametrize("name", ["claims", "timeline", "sources", "topics", "entities", "figures"])
def test_every_list_has_a_csv_path(client: TestClient, name: str) -> None:
    response = client.get(f"/v1/{name}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and "id" in rows[0]
    assert client.get(f"/v1/{name}.csv", headers={"Accept": "application/json"}).status_code == 406
    assert client.get(f"/v1/{name}.csv?format=json").status_code == 406
    assert client.get(f"/v1/{name}.csv?nope=1").status_code == 422


def test_openapi_documents_csv_only_on_csv_paths(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for name in ("claims", "timeline", "sources", "topics", "entities", "figures"):
        json_op = paths[f"/v1/{name}"]["get"]
        assert list(json_op["responses"]["200"]["content"]) == ["application/json"]
        assert "format" not in {p["name"] for p in json_op.get("parameters", [])}
        csv_op = paths[f"/v1/{name}.csv"]["get"]
        assert list(csv_op["responses"]["200"]["content"]) == ["text/csv"]
        assert "format" not in {p["name"] for p in csv_op.get("parameters", [])}
        assert csv_op["operationId"] != json_op["operationId"]
    for path, operations in paths.items():
        if not path.endswith(".csv"):
            for response in operations["get"]["responses"].values():
                assert "text/csv" not in response.get("content", {}), path


# --- issue 12, item 2: request ids are never replayed -------------------------------------


@pytest.mark.parametrize("path", ["/v1/topics", ARCTIC, "/v1/claims.csv?topic=arctic"])
def test_each_response_carries_only_its_own_request_id(client: TestClient, path: str) -> None:
    for request_id in ("first-client", "second-client", "third-client"):
        response = client.get(path, headers={"X-Request-ID": request_id})
        assert response.status_code == 200
        assert response.headers.get_list("x-request-id") == [request_id]
    made = client.get(path)
    assert len(made.headers.get_list("x-request-id")) == 1
    assert made.headers["x-request-id"] not in ("first-client", "second-client", "third-client")
    etag = made.headers["etag"]
    not_modified = client.get(path, headers={"If-None-Match": etag, "X-Request-ID": "fourth"})
    assert not_modified.status_code == 304
    assert not_modified.headers.get_list("x-request-id") == ["fourth"]


# --- issue 18, item 2: links never come from Host ------------------------------------------


def _everything(response: Any) -> str:
    return response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())


def test_host_header_cannot_poison_links_or_cache(client: TestClient) -> None:
    url = "/v1/claims?topic=trade&limit=2"
    poisoned = client.get(url, headers={"Host": "attacker.example"})
    assert poisoned.status_code == 200
    assert "attacker" not in _everything(poisoned)
    assert poisoned.json()["next"].startswith("/v1/claims?")
    assert poisoned.headers["link"].startswith("</v1/claims?")
    normal = client.get(url)
    assert "attacker" not in _everything(normal)
    assert normal.json()["next"] == poisoned.json()["next"]
    csv_page = client.get("/v1/claims.csv?limit=2", headers={"Host": "attacker.example"})
    assert "attacker" not in _everything(csv_page)


@pytest.mark.parametrize("base", [None, "https://facts.example.org"])
def test_redirects_never_point_at_the_request_host(make_client: Any, base: str | None) -> None:
    client = make_client(public_base_url=base)
    for path in ("/v1/topics/", "/v1/claims.csv/?topic=arctic", "/docs/"):
        response = client.get(path, headers={"Host": "attacker.example"}, follow_redirects=False)
        assert response.status_code == 307
        location = response.headers["location"]
        assert "attacker" not in location
        assert location.startswith(f"{base or ''}/{path.strip('/').split('/')[0]}")
        assert client.get(location.removeprefix(base or "")).status_code == 200


def test_a_64_kb_host_is_refused_and_not_echoed(client: TestClient) -> None:
    response = client.get("/v1/claims?limit=2", headers={"Host": "h" * 65536})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.content) < 2000
    assert "hhhhhhhh" not in _everything(response)


def test_too_many_headers_are_431(client: TestClient) -> None:
    headers = [(f"x-filler-{i}", "1") for i in range(150)]
    response = client.get("/v1/topics", headers=headers)
    assert response.status_code == 431
    assert response.json()["status"] == 431


def test_links_use_the_public_base_url(make_client: Any) -> None:
    client = make_client(public_base_url="https://facts.example.org/api/")
    body = client.get("/v1/claims?limit=2", headers={"Host": "attacker.example"}).json()
    assert body["next"].startswith("https://facts.example.org/api/v1/claims?limit=2&cursor=")
    assert client.get(body["next"].removeprefix("https://facts.example.org/api")).status_code == 200


@pytest.mark.parametrize("base", ["ftp://x", "facts.example.org", "https://x/?a=1", "https://"])
def test_public_base_url_must_be_an_absolute_url(base: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        Settings(public_base_url=base)


def test_allowed_hosts(make_client: Any) -> None:
    client = make_client(allowed_hosts="facts.example.org, *.example.net")
    refused = client.get("/v1/topics", headers={"Host": "attacker.example"})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert "attacker" not in refused.text
    for host in ("facts.example.org", "facts.example.org:8443", "api.example.net"):
        assert client.get("/v1/topics", headers={"Host": host}).status_code == 200, host
    assert client.get("/v1/topics", headers={"Host": "example.net.evil"}).status_code == 400


# --- issue 18, item 4: validators -----------------------------------------------------------


@pytest.mark.parametrize(
    "since",
    [
        "Mon, 01 Jan 99999999999 00:00:00 GMT",
        "Mon, 01 Jan 0000 00:00:00 GMT",
        "Mon, 99 Foo 2020 99:99:99 GMT",
        "yesterday",
        "",
        "Mon, 01 Jan 2020 00:00:00",  # no zone
        "\x7f" * 100,
    ],
)
def test_malformed_if_modified_since_is_ignored(client: TestClient, since: str) -> None:
    response = client.get("/v1/topics", headers={"If-Modified-Since": since})
    assert response.status_code == 200
    assert response.json()


@pytest.mark.parametrize(
    ("path", "status"),
    [("/v1/claims/no-such-claim", 404), ("/v1/claims?topic=no-such-topic", 422)],
)
def test_preconditions_never_turn_errors_into_304(
    client: TestClient, path: str, status: int
) -> None:
    last_modified = client.get("/v1/topics").headers["last-modified"]
    for headers in ({"If-None-Match": "*"}, {"If-Modified-Since": last_modified}):
        for _ in range(2):
            assert client.get(path, headers=headers).status_code == status, headers


def test_star_and_since_give_304_when_a_representation_exists(client: TestClient) -> None:
    fresh = "/v1/claims?topic=health&limit=3"
    first = client.get(fresh, headers={"If-None-Match": "*"})  # not cached yet: route runs
    assert first.status_code == 304
    assert first.content == b""
    assert first.headers["etag"]
    full = client.get(fresh)
    assert full.status_code == 200 and full.json()["items"]  # the 304 did not poison the cache
    assert client.get(fresh, headers={"If-None-Match": "*"}).status_code == 304  # cached now
    since = client.get(fresh, headers={"If-Modified-Since": full.headers["last-modified"]})
    assert since.status_code == 304


# --- issue 12, item 3: CORS -----------------------------------------------------------------


def test_cors_exposes_and_allows_the_http_headers(client: TestClient) -> None:
    origin = {"Origin": "https://app.example"}
    response = client.get("/v1/claims?limit=2", headers=origin)
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"link", "etag", "last-modified", "x-request-id", "retry-after"} <= exposed
    preflight = client.options(
        "/v1/claims?limit=2",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match, if-modified-since, x-request-id",
        },
    )
    assert preflight.status_code == 200
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("if-none-match", "if-modified-since", "x-request-id"):
        assert header in allowed
    conditional = client.get(
        "/v1/claims?limit=2", headers={**origin, "If-None-Match": response.headers["etag"]}
    )
    assert conditional.status_code == 304
    assert conditional.headers["access-control-allow-origin"] == "*"


# --- issue 18, item 10: bounded CSV ---------------------------------------------------------


def _follow_csv(client: TestClient, url: str) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text[:300]
        ids += [row["id"] for row in csv.DictReader(io.StringIO(response.text))]
        pages += 1
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else ""
        assert pages < 100
    return ids, pages


@pytest.mark.parametrize("start", ["/v1/claims.csv?sort=-published", "/v1/claims?format=csv"])
def test_csv_pages_are_capped_and_linked(make_client: Any, start: str) -> None:
    client = make_client(csv_max_rows=40)
    total = client.get("/v1/claims?limit=1").json()["total"]
    ids, pages = _follow_csv(client, start)
    assert len(ids) == len(set(ids)) == total
    assert pages == -(-total // 40)
    assert len(_follow_csv(client, start + "&limit=100")[0]) == total  # limit never above cap


def test_a_slow_csv_page_ends_early_with_a_link(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import csv_export

    monkeypatch.setattr(csv_export, "CSV_BATCH", 25)
    client = make_client(csv_page_seconds=0.001)
    first = client.get("/v1/claims.csv")
    assert len(list(csv.DictReader(io.StringIO(first.text)))) == 25  # one batch, then time
    assert first.headers["link"].startswith("</v1/claims.csv?cursor=")
    ids, _ = _follow_csv(client, "/v1/claims.csv")
    assert len(ids) == len(set(ids)) == client.get("/v1/claims?limit=1").json()["total"]


def test_readyz_stays_fast_while_exports_run(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import queries

    client = make_client(csv_concurrency=2, csv_page_seconds=1.5, response_cache_entries=0)
    original = queries.list_claims
    running = [0]
    most = [0]
    lock = threading.Lock()

    def slow_list_claims(*args: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.6)  # a slow database
            return original(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(queries, "list_claims", slow_list_claims)
    results: list[Any] = []

    def export(i: int) -> None:
        results.append(client.get(f"/v1/claims.csv?topic=trade&sort={['id', '-id'][i % 2]}"))

    threads = [threading.Thread(target=export, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    for _ in range(5):
        started = time.monotonic()
        assert client.get("/readyz").status_code == 200
        assert time.monotonic() - started < 1.0  # each export batch takes 0.6 s
        time.sleep(0.1)
    for thread in threads:
        thread.join(timeout=20)
    assert most[0] <= 2  # never more exports reading at once than CSV_CONCURRENCY
    statuses = sorted(r.status_code for r in results)
    assert len(statuses) == 8 and set(statuses) <= {200, 503} and 200 in statuses
    for response in results:
        if response.status_code == 503:
            assert response.headers["retry-after"]
            assert response.headers["content-type"] == "application/problem+json"
