"""Search, entities, facets, timeline, CSV and HTTP caching on the real seeds."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

import pytest
from fastapi.testclient import TestClient

from tests.conftest import count_calls, fingerprint
from tests.oracle import Oracle

ORACLE = Oracle()


def test_search_finds_words_in_statement_or_quote(client: TestClient) -> None:
    body = client.get("/v1/claims", params={"q": "NORAD", "limit": 200}).json()
    assert body["total"] > 0
    for claim in body["items"]:
        text = (claim["statement"] + " " + claim["quote"]).lower()
        assert "norad" in text
        assert "<mark>" in claim["highlights"]["statement"] + claim["highlights"]["quote"]
    expected = {c.id for c in ORACLE.claims if "norad" in c.quote.lower()}
    assert expected <= {c["id"] for c in body["items"]}


def test_search_combines_with_filters(client: TestClient) -> None:
    everything = client.get("/v1/claims", params={"q": "Canada", "limit": 200}).json()["total"]
    arctic = client.get("/v1/claims", params={"q": "Canada", "topic": "arctic", "limit": 200})
    body = arctic.json()
    assert 0 < body["total"] < everything
    assert all("arctic" in c["topics"] for c in body["items"])


@pytest.mark.no_response_cache_hits  # each page is read from the database once
def test_search_pages_by_relevance_without_gaps(client: TestClient) -> None:
    first = client.get("/v1/claims?q=United%20States&limit=5").json()
    seen: list[str] = []
    body = first
    while True:
        seen += [c["id"] for c in body["items"]]
        if not body["next"]:
            break
        body = client.get(body["next"]).json()
    assert len(seen) == len(set(seen)) == first["total"]


@pytest.mark.parametrize(
    "q",
    ['"', "AND", "NEAR(", "*", "a:b", "trade OR", "'; DROP TABLE claim; --", "x" * 200,
     "Canada’s", "défense", "\"unbalanced", "(", "^", "-", "OR OR"],
)  # fmt: skip
def test_hostile_search_text_never_fails(client: TestClient, seeded_db: str, q: str) -> None:
    before = fingerprint(seeded_db)  # the tables themselves, not the stored count /readyz shows
    response = client.get("/v1/claims", params={"q": q})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["errors"][0]["loc"] == ["query", "q"]
    assert fingerprint(seeded_db) == before
    assert before["claim"][0] == len(ORACLE.claims)


@pytest.mark.parametrize("q", ["x" * 201, "a\x00b", "tab\there", ""])
def test_invalid_search_text_is_422(client: TestClient, q: str) -> None:
    response = client.get("/v1/claims", params={"q": q})
    assert response.status_code == 422
    assert len(response.content) < 2000


def test_relevance_sort_needs_q(client: TestClient) -> None:
    assert client.get("/v1/claims?sort=relevance").status_code == 422


def test_entities_list_with_kinds_and_counts(client: TestClient) -> None:
    entities = {e["id"]: e for e in client.get("/v1/entities").json()["items"]}
    counts: Counter[str] = Counter(e for c in ORACLE.claims for e in c.entities)
    for entity_id, entity in entities.items():
        assert entity["claims"] == counts[entity_id]
    assert entities["norad"]["kind"] == "organization"
    people = client.get("/v1/entities?kind=person").json()["items"]
    assert people and all(p["kind"] == "person" for p in people)


@pytest.mark.parametrize(
    "name", ["norad", "NORAD", "North American Aerospace Defense Command",
             "north american aerospace defence command"],
)  # fmt: skip
def test_entity_aliases_resolve(client: TestClient, name: str) -> None:
    entity = client.get(f"/v1/entities/{name}").json()
    assert entity["id"] == "norad"
    expected = {c.id for c in ORACLE.claims if "norad" in c.entities}
    assert {c["id"] for c in entity["claim_items"]} == expected


def test_entity_aliases_are_shown_as_written(client: TestClient) -> None:
    entity = client.get("/v1/entities/norad").json()
    assert entity["aliases"] == [
        "NORAD",
        "North American Aerospace Command",
        "North American Aerospace Defence Command",
        "North American Aerospace Defense Command",
    ]
    listed = {e["id"]: e for e in client.get("/v1/entities").json()["items"]}
    assert listed["norad"]["aliases"] == entity["aliases"]
    assert "Arctic Council" in listed["arctic-council"]["aliases"]


def test_unknown_entity_is_404(client: TestClient) -> None:
    assert client.get("/v1/entities/atlantis").status_code == 404


def _year(published: tuple[date, date] | None) -> int | None:
    """A source's year facet: its year when its whole date interval lies in one year."""
    if published is None or published[0].year != published[1].year:
        return None
    return published[0].year


def test_facets_count_the_filtered_set(client: TestClient) -> None:
    body = client.get(
        "/v1/claims",
        params=[("topic", "trade"), ("facet", "topic"), ("facet", "source"), ("facet", "country"),
                ("facet", "year"), ("limit", "1")],
    ).json()  # fmt: skip
    trade = [c for c in ORACLE.claims if "trade" in c.topics]
    topic_counts = {f["value"]: f["count"] for f in body["facets"]["topic"]}
    assert topic_counts == dict(Counter(t for c in trade for t in c.topics))
    source_counts = {f["value"]: f["count"] for f in body["facets"]["source"]}
    assert source_counts == dict(Counter(c.source for c in trade))
    years = {f["value"]: f["count"] for f in body["facets"]["year"]}
    expected_years = Counter(_year(ORACLE.published[c.source]) for c in trade)
    assert years == dict(expected_years)
    assert sum(f["count"] for f in body["facets"]["country"]) == len(trade)


def test_timeline_is_dated_and_in_order(client: TestClient) -> None:
    items = []
    url = "/v1/timeline?limit=20"
    while url:
        body = client.get(url).json()
        items += body["items"]
        url = body["next"]
    expected = {c.id for c in ORACLE.claims if c.period_start or c.period_end}
    assert {c["id"] for c in items} == expected
    starts = [c["period"]["start"] or "0000" for c in items]
    assert starts == sorted(starts)
    arctic = client.get("/v1/timeline?topic=arctic&limit=200").json()["items"]
    assert all("arctic" in c["topics"] and c["period"] for c in arctic)


@pytest.mark.parametrize("how", ["param", "accept"])
def test_claims_csv_has_every_matching_row(client: TestClient, how: str) -> None:
    if how == "param":
        response = client.get("/v1/claims?topic=trade&format=csv")
    else:
        response = client.get("/v1/claims?topic=trade", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["id"] for r in rows} == ORACLE.ids(topic=["trade"])
    for row in rows:
        text = ORACLE.texts[row["source_id"]]
        assert text[int(row["start"]) : int(row["end"])] == row["quote"]
        assert row["citation"]


@pytest.mark.parametrize("path", ["/v1/sources", "/v1/topics", "/v1/entities", "/v1/figures"])
def test_every_list_exports_csv(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?format=csv")
    json_rows = client.get(path).json()["items"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["id"] for r in rows] == [r["id"] for r in json_rows]


def test_etag_and_conditional_requests(client: TestClient) -> None:
    first = client.get("/v1/claims?topic=arctic")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert client.get("/v1/claims?topic=arctic").headers["etag"] == etag
    assert client.get("/v1/claims?topic=trade").headers["etag"] != etag
    again = client.get("/v1/claims?topic=arctic", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(
        "/v1/claims?topic=arctic", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304
    stale = client.get("/v1/claims?topic=arctic", headers={"If-None-Match": 'W/"other"'})
    assert stale.status_code == 200


def test_security_headers_and_no_server_banner(client: TestClient) -> None:
    response = client.get("/v1/topics")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "server" not in response.headers


def test_large_responses_are_gzipped(client: TestClient) -> None:
    response = client.get("/v1/claims?limit=200", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_repeated_requests_are_answered_from_memory(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import queries

    calls = count_calls(monkeypatch, queries, "list_topics")
    first = client.get("/v1/topics?format=json")
    second = client.get("/v1/topics?format=json")
    assert first.content == second.content
    assert second.headers["etag"] == first.headers["etag"]
    assert len(calls) == 1
    client.get("/v1/topics?format=json", headers={"Accept-Encoding": "identity"})
    assert len(calls) == 2  # another encoding is another entry


def test_filter_vocabulary_is_read_once_per_dataset_version(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.vocabulary import Vocabulary

    reads = count_calls(monkeypatch, Vocabulary, "read")  # a new app: nothing read yet
    for topic in ("trade", "arctic", "defense"):
        assert client.get(f"/v1/claims?topic={topic}&limit=1").status_code == 200
    assert len(reads) == 1
    assert client.get("/v1/claims?topic=not-a-topic").status_code == 422
    assert client.get("/v1/claims?entity=norad&limit=1").json()["total"] > 0
    assert len(reads) == 1
