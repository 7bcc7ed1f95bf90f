"""The API contract clients rely on: one envelope for every list, a stable problem `type` per
kind of error, forgiving filters where nothing is lost, a front door, and full-text search that
answers the same on SQLite and Postgres. Every test runs on both engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.problems import KINDS, MAX_INSTANCE_CHARS
from app.ingest.dataset import load_dataset
from app.ingest.errors import SeedsInvalid
from tests.conftest import ROOT, SEEDS

LISTS = ["/v1/claims", "/v1/timeline", "/v1/sources", "/v1/topics", "/v1/entities", "/v1/figures"]
S21 = "usdos-2021-neighbors-friends-and-allies"
ENVELOPE = {"items", "total", "limit", "next_cursor", "next"}

# One table of searches, run against both engines: the claims each must find, exactly.
SEARCHES: list[tuple[str, set[str]]] = [
    ("1.9 billion", {"s21-daily-trade-1-9-billion", "s21-daily-trade-testament-to-relationship"}),
    ("2.6 billion", {"art-daily-trade-nearly-2-6-billion", "s22-daily-trade-usd-2-billion"}),
    ("1.7 billion", set()),  # no source states it: nothing, on both engines
    ("725 billion", {"s19-two-way-trade-2018", "s21-two-way-trade-2019"}),
    ("9,000 km", {"gc-border-close-to-9000-km"}),
    (
        "5,525 miles",
        {
            "art-border-length-5525-miles",
            "art-ports-of-entry-more-than-120",
            "s19-border-length-5525-miles",
            "s19-border-secured-collaboratively",
            "s19-ports-of-entry-119",
            "s21-border-length-5525-miles",
            "s21-ports-of-entry-120",
        },
    ),
    ("Arctic Council", {"art-arctic-council"}),
    (
        "ports of entry",
        {
            "art-ports-of-entry-more-than-120",
            "s19-border-secured-collaboratively",
            "s19-ports-of-entry-119",
            "s21-ports-of-entry-120",
        },
    ),
    (
        "trading partner",
        {
            "gc-top-trading-partner-most-states",
            "s19-canada-us-second-largest-trading-partner",
            "s19-us-canada-largest-foreign-investor",
            "s19-us-canada-largest-trading-partner",
            "s21-largest-energy-trading-partners",
        },
    ),
]


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_search_finds_the_same_claims_on_both_engines(
    client: TestClient, q: str, expected: set[str]
) -> None:
    response = client.get("/v1/claims", params={"q": q, "limit": 200})
    assert response.status_code == 200
    assert {c["id"] for c in response.json()["items"]} == expected


def test_search_highlights_a_decimal(client: TestClient) -> None:
    item = client.get("/v1/claims", params={"q": "1.9 billion"}).json()["items"][0]
    assert "<mark>1.9</mark> <mark>billion</mark>" in item["highlights"]["quote"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_one_envelope(client: TestClient, path: str) -> None:
    body = client.get(path).json()
    assert set(body) >= ENVELOPE, path
    assert isinstance(body["items"], list) and body["items"]
    if body["next"] is None:
        assert body["total"] == len(body["items"])
        assert body["next_cursor"] is None


def test_entities_filter_keeps_the_envelope(client: TestClient) -> None:
    body = client.get("/v1/entities?kind=person").json()
    assert body["total"] == len(body["items"]) > 0
    assert {e["kind"] for e in body["items"]} == {"person"}


# (request, problem kind): each kind of error a client can cause, and its stable type
PROBLEMS: list[tuple[str, str]] = [
    ("/v1/claims?topc=arctic", "unknown-parameter"),
    ("/v1/claims?topic=nope", "unknown-topic"),
    ("/v1/claims?source=nope", "unknown-source"),
    ("/v1/claims?entity=nobody-at-all", "unknown-entity"),
    ("/v1/claims?unit=parsecs", "unknown-unit"),
    ("/v1/claims?published_from=2021-13-01", "invalid-date"),
    ("/v1/claims?period_to=yesterday", "invalid-date"),
    ("/v1/claims?cursor=not-a-cursor", "invalid-cursor"),
    ("/v1/claims?limit=201", "limit-exceeded"),
    ("/v1/claims?limit=0", "invalid-parameter"),
    ("/v1/claims?country=mx", "invalid-parameter"),
    ("/v1/claims?sort=size", "invalid-parameter"),
    ("/v1/claims/no-such-claim", "not-found"),
    ("/v1/figures/no-such-figure", "not-found"),
    ("/v1/nothing-here", "not-found"),
    ("/problems/no-such-kind", "not-found"),
]


@pytest.mark.parametrize(("url", "kind"), PROBLEMS)
def test_each_error_has_a_stable_type_that_the_api_documents(
    client: TestClient, url: str, kind: str
) -> None:
    response = client.get(url)
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["type"] == f"/problems/{kind}"
    assert response.status_code == body["status"] == KINDS[kind].status
    assert body["title"] == KINDS[kind].title
    for error in body.get("errors", []):
        assert set(error) == {"type", "loc", "msg", "input"}
        assert error["type"].startswith("/problems/")
    page = client.get(body["type"])
    assert page.status_code == 200
    assert page.json()["status"] == body["status"]
    assert page.json()["type"] == body["type"]


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ([("accept", "image/png")], "not-acceptable"),
        ([(f"x-filler-{i}", "1") for i in range(150)], "headers-too-large"),
    ],
)
def test_problems_from_the_http_layers_have_their_type(
    client: TestClient, headers: list[tuple[str, str]], kind: str
) -> None:
    response = client.get("/v1/topics", headers=headers)
    assert response.json()["type"] == f"/problems/{kind}"
    assert response.status_code == KINDS[kind].status


def test_every_problem_kind_is_listed_and_served(client: TestClient) -> None:
    listed = client.get("/problems").json()
    assert listed["total"] == len(KINDS) == len(listed["items"])
    for item in listed["items"]:
        assert client.get(item["type"]).json() == item


def test_docs_describe_every_problem_kind() -> None:
    page = (ROOT / "docs" / "errors.md").read_text()
    for kind in KINDS.values():
        assert f"| `{kind.type}` | {kind.status} | {kind.description} |" in page


def test_other_methods_are_405_of_their_kind(client: TestClient) -> None:
    response = client.post("/v1/claims" + "x" * 5000)
    assert response.status_code == 405
    body = response.json()
    assert body["type"] == "/problems/method-not-allowed"
    assert len(body["instance"]) <= MAX_INSTANCE_CHARS + 1
    assert len(response.content) < 1000


def test_an_error_never_echoes_a_huge_input(client: TestClient) -> None:
    long = "a" * 10_000
    for url in (
        f"/v1/{long}",
        f"/v1/claims/{long}",
        f"/v1/claims?{long}=1",
        f"/v1/claims?q={long}",
    ):
        response = client.get(url)
        assert 400 <= response.status_code < 500, url
        assert len(response.content) < 2_000, url


def test_unknown_unit_lists_the_known_units(client: TestClient) -> None:
    detail = client.get("/v1/claims?unit=parsecs").json()["detail"]
    assert "USD" in detail and "miles" in detail


def ids(client: TestClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text)
    return [c["id"] for c in response.json()["items"]]


@pytest.mark.parametrize(
    ("forgiving", "strict"),
    [
        ("topic=Arctic", "topic=arctic"),
        ("topic=ARCTIC", "topic=arctic"),
        ("topic=defence", "topic=defense"),
        ("topic=Defence", "topic=defense"),
        ("country=us", "country=US"),
        ("country=Unknown", "country=unknown"),
        ("unit=usd", "unit=USD"),
        ("unit=MILES", "unit=miles"),
        (
            "source=USDOS-2019-strengthening-our-alliance",
            "source=usdos-2019-strengthening-our-alliance",
        ),
        ("topic=arctic,trade", "topic=arctic&topic=trade"),
        ("topic=arctic, trade", "topic=arctic&topic=trade"),
        ("country=US,CA", "country=US&country=CA"),
        ("unit=USD,miles", "unit=USD&unit=miles"),
        ("topic=arctic&_=1700000000000", "topic=arctic"),
    ],
)
def test_filters_forgive_case_aliases_and_comma_lists(
    client: TestClient, forgiving: str, strict: str
) -> None:
    expected = ids(client, f"/v1/claims?{strict}&limit=200")
    assert expected
    assert ids(client, f"/v1/claims?{forgiving}&limit=200") == expected


def test_comma_facets_mean_repeated_facets(client: TestClient) -> None:
    one = client.get("/v1/claims?topic=arctic&facet=topic,source&limit=1").json()["facets"]
    two = client.get("/v1/claims?topic=arctic&facet=topic&facet=source&limit=1").json()["facets"]
    assert one == two and set(one) == {"topic", "source"}


@pytest.mark.parametrize(
    "url",
    ["/v1/claims?topic=arctic,", "/v1/claims?__=1", "/v1/claims?topic=arctic,,trade"],
)
def test_still_strict_where_a_typo_would_mislead(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 422


def test_entity_names_with_commas_are_not_split(client: TestClient) -> None:
    assert ids(client, "/v1/claims?entity=Washington, D.C.")


def test_topics_show_their_aliases(client: TestClient) -> None:
    topics = {t["id"]: t for t in client.get("/v1/topics").json()["items"]}
    assert topics["defense"]["aliases"] == ["defence"]
    assert topics["arctic"]["aliases"] == []


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_front_door_links_to_everything(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Bilateral Facts"
    assert body["api_version"] == "0.1.0"
    assert body["dataset_version"] == client.get("/readyz").json()["dataset_version"]
    assert {"claims", "sources", "topics", "entities", "figures", "docs"} <= set(body["links"])
    for name, link in body["links"].items():
        assert client.get(link).status_code == 200, name


def test_topic_alias_may_not_name_another_topic(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    topics = seeds / "topics.yaml"
    text = topics.read_text().replace("aliases: [defence]", "aliases: [defence, trade]")
    topics.write_text(text)
    with pytest.raises(SeedsInvalid) as caught:
        load_dataset(seeds)
    messages = [str(e) for e in caught.value.errors]
    assert any("topics.yaml" in m and "'trade' already names topic trade" in m for m in messages)
