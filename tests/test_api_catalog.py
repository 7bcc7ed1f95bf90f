"""Sources, topics, probes and the generated docs."""

from __future__ import annotations

import hashlib
from collections import Counter

from fastapi.testclient import TestClient

from tests.oracle import Oracle

ORACLE = Oracle()


def test_sources_carry_provenance_and_counts(client: TestClient) -> None:
    sources = client.get("/v1/sources").json()["items"]
    assert {s["id"] for s in sources} == set(ORACLE.sources)
    counts = Counter(c.source for c in ORACLE.claims)
    for source in sources:
        assert source["claims"] == counts[source["id"]]
        assert source["provenance_note"]
        expected = ORACLE.sources[source["id"]]
        assert source["url"] == expected["url"]
        assert source["publisher"] == expected["publisher"]
        assert source["published_precision"] == expected["published_precision"]


def test_source_detail_returns_the_exact_stored_text(client: TestClient) -> None:
    for source_id, text in ORACLE.texts.items():
        body = client.get(f"/v1/sources/{source_id}").json()
        assert body["text"] == text
        assert body["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def test_unknown_source_is_404(client: TestClient) -> None:
    assert client.get("/v1/sources/nope").status_code == 404


def test_topics_have_descriptions_and_claim_counts(client: TestClient) -> None:
    topics = {t["id"]: t for t in client.get("/v1/topics").json()["items"]}
    assert {"trade", "defense", "climate", "arctic"} <= set(topics)
    counts: Counter[str] = Counter(t for c in ORACLE.claims for t in c.topics)
    for topic_id, topic in topics.items():
        assert topic["description"]
        assert topic["claims"] == counts[topic_id]


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["claims"] == len(ORACLE.claims)
    assert len(ready["dataset_version"]) == 16


def test_openapi_documents_every_filter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/claims"]["get"]["parameters"]}
    for name in ("topic", "source", "country", "published_from", "published_to", "period_from",
                 "period_to", "date_match", "limit", "cursor", "entity", "sort"):  # fmt: skip
        assert params[name].get("description"), name
    assert {t["name"] for t in spec["tags"]} >= {"claims", "sources", "topics"}


def test_docs_pages_render_without_a_cdn(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "cdn.jsdelivr.net" not in page.text
        assert "unpkg.com" not in page.text
