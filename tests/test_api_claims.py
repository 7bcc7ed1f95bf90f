"""GET /v1/claims and /v1/claims/{id}, checked against an independent reading of the seeds."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.oracle import Oracle

ORACLE = Oracle()


def all_ids(client: TestClient, params: dict[str, Any] | list[tuple[str, str]]) -> list[str]:
    """Walk every page of a query; fail on a duplicate or a total that disagrees."""
    items: list[str] = []
    response = client.get("/v1/claims", params=params)
    assert response.status_code == 200, response.text
    total = response.json()["total"]
    while True:
        body = response.json()
        assert body["total"] == total
        items.extend(c["id"] for c in body["items"])
        if not body["next"]:
            assert "link" not in response.headers
            break
        assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        response = client.get(body["next"])
        assert response.status_code == 200, response.text
    assert len(items) == len(set(items)), "a claim appeared on two pages"
    assert len(items) == total
    return items


def test_corpus_is_big_enough_for_these_tests() -> None:
    assert len(ORACLE.claims) >= 40
    assert {c.source for c in ORACLE.claims} == set(ORACLE.sources)


@pytest.mark.no_response_cache_hits  # every page is read from the database
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"topic": "arctic"}, {"topic": ["arctic"]}),
        ([("topic", "arctic"), ("topic", "climate")], {"topic": ["arctic", "climate"]}),
        ({"source": "usdos-2021-neighbors-friends-and-allies"},
         {"source": ["usdos-2021-neighbors-friends-and-allies"]}),
        ({"country": "CA"}, {"country": ["CA"]}),
        ({"country": "unknown"}, {"country": ["unknown"]}),
        ([("country", "US"), ("country", "unknown")], {"country": ["US", "unknown"]}),
        ({"published_from": "2021-01-01"}, {"published_from": date(2021, 1, 1)}),
        ({"published_to": "2021-02-26"}, {"published_to": date(2021, 2, 26)}),
        ({"published_from": "2021-02-26", "published_to": "2021-02-26"},
         {"published_from": date(2021, 2, 26), "published_to": date(2021, 2, 26)}),
        ({"period_from": "2019-01-01", "period_to": "2019-12-31"},
         {"period_from": date(2019, 1, 1), "period_to": date(2019, 12, 31)}),
        ({"period_to": "1950-01-01"}, {"period_to": date(1950, 1, 1)}),
        ({"entity": "NORAD"}, {"entity": ["NORAD"]}),
        ({"entity": "north american aerospace defence command"}, {"entity": ["norad"]}),
        ({"unit": "USD"}, {"unit": ["USD"]}),
        ({"min_value": "1e9"}, {"min_value": 1e9}),
        ({"unit": "miles", "max_value": "6000"}, {"unit": ["miles"], "max_value": 6000.0}),
        ({"topic": "arctic", "published_from": "2021-01-01"},
         {"topic": ["arctic"], "published_from": date(2021, 1, 1)}),
        ({"topic": "trade", "country": "US", "period_from": "2018-06-01"},
         {"topic": ["trade"], "country": ["US"], "period_from": date(2018, 6, 1)}),
        ({"published_to": "2019-06-30"}, {"published_to": date(2019, 6, 30)}),
        ({"published_from": "2019-07-01", "published_to": "2019-08-31"},
         {"published_from": date(2019, 7, 1), "published_to": date(2019, 8, 31)}),
        ({"published_from": "2022-06-01", "date_match": "overlap"},
         {"published_from": date(2022, 6, 1), "date_match": "overlap"}),
        ({"published_to": "2019-07-31", "date_match": "overlap"},
         {"published_to": date(2019, 7, 31), "date_match": "overlap"}),
        ({"period_from": "2019-01-01", "period_to": "2019-12-31", "date_match": "overlap"},
         {"period_from": date(2019, 1, 1), "period_to": date(2019, 12, 31),
          "date_match": "overlap"}),
        ({"period_from": "1950-01-01", "date_match": "overlap"},
         {"period_from": date(1950, 1, 1), "date_match": "overlap"}),
        ({"period_from": "1950-01-01"}, {"period_from": date(1950, 1, 1)}),
        ({"period_to": "2020-12-31", "date_match": "overlap"},
         {"period_to": date(2020, 12, 31), "date_match": "overlap"}),
    ],
)  # fmt: skip
def test_filters_match_hand_computed_expectation(
    client: TestClient, params: Any, expected: dict[str, Any]
) -> None:
    want = ORACLE.ids(**expected)
    got = all_ids(client, params)
    assert set(got) == want


def test_arctic_since_2021_is_arctic_only_and_citable(client: TestClient) -> None:
    body = client.get("/v1/claims?topic=arctic&published_from=2021-01-01&limit=200").json()
    assert body["items"], "the seeds have Arctic claims published since 2021"
    sources = {s["id"]: s for s in client.get("/v1/sources").json()["items"]}
    for claim in body["items"]:
        assert "arctic" in claim["topics"]
        assert claim["source"]["published_earliest"] >= "2021-01-01"
        text = client.get(f"/v1/sources/{claim['source']['id']}").json()["text"]
        assert text[claim["start"] : claim["end"]] == claim["quote"]
        assert sources[claim["source"]["id"]]["publisher"] in claim["citation"]


@pytest.mark.no_response_cache_hits
@pytest.mark.parametrize("sort", ["id", "-id", "published", "-published", "period", "-period"])
def test_pagination_walks_everything_in_order(client: TestClient, sort: str) -> None:
    ids = all_ids(client, {"limit": 7, "sort": sort})
    assert set(ids) == {c.id for c in ORACLE.claims}
    if sort in ("id", "-id"):
        assert ids == sorted(ids, reverse=sort == "-id")


def test_sort_by_period_puts_dated_claims_in_time_order(client: TestClient) -> None:
    items = client.get("/v1/claims", params={"sort": "period", "limit": 200}).json()["items"]
    starts = [c["period"]["start"] for c in items if c["period"] and c["period"]["start"]]
    assert starts == sorted(starts)
    undated = [i for i, c in enumerate(items) if not (c["period"] and c["period"]["start"])]
    assert not undated or min(undated) >= len(starts), "unknown periods sort last"


def test_claim_detail_is_citable(client: TestClient) -> None:
    claim_id = ORACLE.claims[0].id
    claim = client.get(f"/v1/claims/{claim_id}").json()
    assert claim["id"] == claim_id
    assert claim["quote"] == ORACLE.claims[0].quote
    text = ORACLE.texts[claim["source"]["id"]]
    assert text[claim["start"] : claim["end"]] == claim["quote"]
    assert set(claim["topics"]) == set(ORACLE.claims[0].topics)
    assert claim["citation"].endswith(f"characters {claim['start']}–{claim['end']}.")


def test_quantities_are_exposed_as_stated(client: TestClient) -> None:
    items = client.get("/v1/claims", params={"unit": "USD", "limit": 200}).json()["items"]
    assert items
    for claim in items:
        usd = [q for q in claim["quantities"] if q["unit"] == "USD"]
        assert usd
        for q in usd:
            assert q["as_stated"] in claim["quote"]


@pytest.mark.parametrize(
    "query, where",
    [
        ("published_from=0", "published_from"),
        ("published_from=2021-02-30", "published_from"),
        ("published_from=2021-1-1", "published_from"),
        ("published_from=20210101", "published_from"),
        ("period_to=yesterday", "period_to"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("topic=Arctic%20Ocean", "topic"),
        ("topic=no-such-topic", "topic"),
        ("source=nope", "source"),
        ("entity=Atlantis", "entity"),
        ("country=MX", "country"),
        ("sort=random", "sort"),
        ("min_value=nan", "min_value"),
        ("max_value=inf", "max_value"),
        ("cursor=%21%21%21", "cursor"),
        ("cursor=WyJpZCIsMSwyXQ", "cursor"),
        ("colour=red", "colour"),
        ("topic=trade&topic=trade&" + "&".join(["topic=trade"] * 20), "topic"),
    ],
)
def test_bad_parameters_get_a_problem_body(client: TestClient, query: str, where: str) -> None:
    response = client.get(f"/v1/claims?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert where in body["detail"]
    assert where in body["errors"][0]["loc"]


def test_cursor_from_another_sort_is_rejected(client: TestClient) -> None:
    token = client.get("/v1/claims?limit=1&sort=id").json()["next_cursor"]
    response = client.get(f"/v1/claims?sort=-id&cursor={token}")
    assert response.status_code == 422
    assert "sort" in response.json()["detail"]


def test_limit_bounds(client: TestClient) -> None:
    assert len(client.get("/v1/claims?limit=1").json()["items"]) == 1
    full = client.get("/v1/claims?limit=200").json()
    assert len(full["items"]) == min(200, len(ORACLE.claims))
    assert len(client.get("/v1/claims").json()["items"]) == min(50, len(ORACLE.claims))


def test_unknown_claim_is_404_problem(client: TestClient) -> None:
    response = client.get("/v1/claims/no-such-claim")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "no-such-claim" in response.json()["detail"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writes_are_405_with_allow(client: TestClient, method: str) -> None:
    response = client.request(method, "/v1/claims")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["status"] == 405


def test_head_and_options(client: TestClient) -> None:
    get = client.get("/v1/topics")
    head = client.head("/v1/topics")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    options = client.options("/v1/claims")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"


def test_cors_preflight_allows_get_from_anywhere(client: TestClient) -> None:
    response = client.options(
        "/v1/claims",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_requests_of_one_filter_shape_each_get_their_own_values(client: TestClient) -> None:
    """SQL statements are built once per set of filters used; values must never carry over."""
    for topic in ("trade", "arctic", "defense", "climate"):
        for since in ("2019-01-01", "2021-06-01"):
            got = all_ids(client, {"topic": topic, "published_from": since, "limit": 5})
            want = ORACLE.ids(topic=[topic], published_from=date.fromisoformat(since))
            assert set(got) == want, (topic, since)
            facets = client.get(
                "/v1/claims", params={"topic": topic, "published_from": since, "facet": "topic"}
            ).json()["facets"]["topic"]
            assert {"value": topic, "count": len(want)} in facets
