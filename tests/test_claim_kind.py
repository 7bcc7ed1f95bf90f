"""A claim's `kind` (fact, commitment, position, rhetoric) and `part_of` (the claim it restates
a part of): curated in the seeds, checked by the ingest, stored, served, filtered and faceted."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.core.config import Settings
from app.migrate import alembic_config, upgrade
from tests.conftest import SEEDS, ingest
from tests.oracle import Oracle
from tests.test_migrations import mark_dataset_loaded

ORACLE = Oracle()
KINDS = ("fact", "commitment", "position", "rhetoric")
runner = CliRunner()


def every_id(client: TestClient, params: list[tuple[str, str]]) -> set[str]:
    """Every claim id a filter matches, following `next` (and checking `total`)."""
    response = client.get("/v1/claims", params=[*params, ("limit", "200")])
    assert response.status_code == 200, response.text
    total = response.json()["total"]
    ids: list[str] = []
    while True:
        body = response.json()
        ids += [c["id"] for c in body["items"]]
        if not body["next"]:
            break
        response = client.get(body["next"])
    assert len(ids) == len(set(ids)) == total
    return set(ids)


def test_every_kind_is_used_and_every_claim_has_one() -> None:
    assert {c.kind for c in ORACLE.claims} == set(KINDS)


@pytest.mark.parametrize(
    "params, expected",
    [
        ([("kind", "fact")], {"kind": ["fact"]}),
        ([("kind", "rhetoric")], {"kind": ["rhetoric"]}),
        ([("kind", "commitment"), ("kind", "position")], {"kind": ["commitment", "position"]}),
        ([("kind", "fact"), ("topic", "trade")], {"kind": ["fact"], "topic": ["trade"]}),
        ([("kind", "fact"), ("source", "gac-canada-united-states-relations")],
         {"kind": ["fact"], "source": ["gac-canada-united-states-relations"]}),
        ([("kind", "fact"), ("unit", "USD")], {"kind": ["fact"], "unit": ["USD"]}),
        ([("part_of", "none")], {"part_of": ["none"]}),
        ([("part_of", "none"), ("kind", "fact")], {"part_of": ["none"], "kind": ["fact"]}),
        ([("part_of", "gc-shared-environmental-challenges")],
         {"part_of": ["gc-shared-environmental-challenges"]}),
        ([("part_of", "none"), ("part_of", "s19-recognition-1927")],
         {"part_of": ["none", "s19-recognition-1927"]}),
    ],
)  # fmt: skip
def test_kind_and_part_of_filters_match_the_seeds(
    client: TestClient, params: list[tuple[str, str]], expected: dict[str, Any]
) -> None:
    want = ORACLE.ids(**expected)
    assert want, "the filter should match something in the seeds"
    assert every_id(client, params) == want


def test_kind_facet_counts_the_filtered_set(client: TestClient) -> None:
    body = client.get(
        "/v1/claims", params=[("topic", "defense"), ("facet", "kind"), ("limit", "1")]
    ).json()
    counts = {f["value"]: f["count"] for f in body["facets"]["kind"]}
    assert counts == dict(Counter(c.kind for c in ORACLE.claims if "defense" in c.topics))
    assert [f["count"] for f in body["facets"]["kind"]] == sorted(counts.values(), reverse=True)


def test_claim_document_and_csv_carry_kind_and_part_of(client: TestClient) -> None:
    expected = {c.id: (c.kind, c.part_of) for c in ORACLE.claims}
    for claim in client.get("/v1/claims", params={"limit": 200}).json()["items"]:
        assert (claim["kind"], claim["part_of"]) == expected[claim["id"]]
    response = client.get("/v1/claims?format=csv&kind=position")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["id"] for r in rows} == ORACLE.ids(kind=["position"])
    for row in rows:
        assert row["kind"] == "position"
        assert row["part_of"] == (expected[row["id"]][1] or "")


@pytest.mark.parametrize(
    "query, where",
    [
        ("kind=opinion", "kind"),
        ("kind=Fact", "kind"),
        ("kind=", "kind"),
        ("part_of=Not%20A%20Claim", "part_of"),
        ("part_of=" + "a" * 121, "part_of"),
        ("facet=part", "facet"),
        ("&".join(["kind=fact"] * 25), "kind"),
    ],
)
def test_bad_kind_or_part_of_is_a_422_problem(client: TestClient, query: str, where: str) -> None:
    response = client.get(f"/v1/claims?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert where in response.json()["errors"][0]["loc"]


def test_part_of_an_unknown_claim_is_an_empty_list_not_an_error(client: TestClient) -> None:
    body = client.get("/v1/claims?part_of=no-such-claim").json()
    assert (body["total"], body["items"]) == (0, [])


# --- the seeds: kind is required, part_of is checked -----------------------------------------


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


def claims_of(seeds: Path, source: str) -> tuple[Path, list[str]]:
    path = seeds / "claims" / f"{source}.yaml"
    ids = re.findall(r"^  - id: (\S+)$", path.read_text(encoding="utf-8"), flags=re.M)
    return path, ids


def unlinked(ids: list[str]) -> list[str]:
    """The claims among `ids` that neither are a part nor have parts in the real seeds."""
    parents = {c.part_of for c in ORACLE.claims if c.part_of}
    return [i for i in ids if i not in parents and not ORACLE.claim(i).part_of]


def set_part_of(path: Path, claim_id: str, parent: str) -> int:
    """Give `claim_id` a `part_of` line right after its id; return that line's number."""
    lines = path.read_text(encoding="utf-8").split("\n")
    at = lines.index(f"  - id: {claim_id}") + 1
    lines[at:at] = [f"    part_of: {parent}"]
    path.write_text("\n".join(lines), encoding="utf-8")
    return at + 1


def check(seeds: Path) -> tuple[int, str]:
    result = runner.invoke(cli, ["check", str(seeds)])
    return result.exit_code, result.output


def test_a_claim_without_kind_is_refused_at_its_line(seeds: Path) -> None:
    path, ids = claims_of(seeds, "usdos-2019-strengthening-our-alliance")
    body = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\n    kind: \w+", "", body, count=1), encoding="utf-8")
    code, out = check(seeds)
    assert code == 1, out
    assert f"[claim {ids[0]}]" in out
    assert "kind" in out and "Field required" in out


def test_an_unknown_kind_is_refused(seeds: Path) -> None:
    path, ids = claims_of(seeds, "usdos-2019-strengthening-our-alliance")
    body = path.read_text(encoding="utf-8")
    path.write_text(body.replace("    kind: ", "    kind: opinion\n    # ", 1), encoding="utf-8")
    code, out = check(seeds)
    assert code == 1, out
    assert f"[claim {ids[0]}]" in out
    assert "'fact', 'commitment', 'position' or 'rhetoric'" in out


def test_part_of_must_name_another_top_level_claim_of_the_same_source(seeds: Path) -> None:
    path, all_ids = claims_of(seeds, "usdos-2019-strengthening-our-alliance")
    ids = unlinked(all_ids)
    _, other_ids = claims_of(seeds, "usdos-2021-neighbors-friends-and-allies")
    cases = [
        (ids[1], ids[1], "part_of names the claim itself"),
        (ids[2], "no-such-claim", "part_of names unknown claim 'no-such-claim'"),
        (ids[3], other_ids[0], f"part_of names {other_ids[0]!r}, a claim of another source"),
    ]
    parent = ids[4]
    kind = ORACLE.claim(parent).kind
    other_kind = next(i for i in ids[5:] if ORACLE.claim(i).kind != kind)
    cases.append(
        (other_kind, parent, f"part_of names {parent!r}, a {kind}: a part restates its parent")
    )
    for claim, parent, _ in cases:
        set_part_of(path, claim, parent)
    text = path.read_text(encoding="utf-8").split("\n")
    lines = {claim: text.index(f"  - id: {claim}") + 2 for claim, _, _ in cases}
    code, out = check(seeds)
    assert code == 1, out
    for claim, _, message in cases:
        assert f"{path}:{lines[claim]}: [claim {claim}] {message}" in out


def test_part_of_is_one_level_deep(seeds: Path) -> None:
    path, ids = claims_of(seeds, "usdos-2019-strengthening-our-alliance")
    top = unlinked(ids)
    set_part_of(path, top[0], top[1])
    line = set_part_of(path, top[2], top[0])
    code, out = check(seeds)
    assert code == 1, out
    assert f"{path}:{line}: [claim {top[2]}] part_of names {top[0]!r}, which is itself part" in out


@pytest.fixture
def part_of_db(empty_db: str, seeds: Path) -> Iterator[tuple[TestClient, str, str]]:
    """The seeds with one more link (between two claims of one kind), loaded into a new db."""
    path, ids = claims_of(seeds, "usdos-2019-strengthening-our-alliance")
    parent, *others = unlinked(ids)
    part = next(i for i in others if ORACLE.claim(i).kind == ORACLE.claim(parent).kind)
    set_part_of(path, part, parent)
    ingest(empty_db, seeds)
    app = create_app(Settings(database_url=empty_db))
    with TestClient(app) as client:
        yield client, parent, part
    app.state.catalog.dispose()


def test_part_of_a_claim_lists_its_parts_and_none_hides_them(
    part_of_db: tuple[TestClient, str, str],
) -> None:
    client, parent, part = part_of_db
    assert every_id(client, [("part_of", parent)]) == {part}
    assert client.get(f"/v1/claims/{part}").json()["part_of"] == parent
    top_level = every_id(client, [("part_of", "none")])
    assert part not in top_level and parent in top_level
    both = every_id(client, [("part_of", "none"), ("part_of", parent)])
    assert both == top_level | {part}
    total = client.get("/v1/claims?limit=1").json()["total"]
    assert len(top_level) == total - 1 - sum(1 for c in ORACLE.claims if c.part_of)


# --- migration 0009 -----------------------------------------------------------------------------


def test_0009_unloads_the_dataset_and_marks_old_rows_unclassified(empty_db: str) -> None:
    upgrade(empty_db, "0006")
    engine = create_engine(empty_db)
    with engine.begin() as conn:
        mark_dataset_loaded(conn)
        conn.execute(
            text(
                "INSERT INTO source (id, file, name, provenance_note, text, sha256, "
                "published_precision) VALUES ('s', 's.txt', 'S', 'n', 'Hello.', 'x', 'unknown')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO claim (id, source_id, position, statement, quote, quote_start, "
                "quote_end, digest, doc, topic_mask) "
                "VALUES ('c', 's', 0, 'Hello said.', 'Hello.', 0, 6, 'd', '{}', 0)"
            )
        )
    upgrade(empty_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dataset")).scalar_one() == 0
        row = conn.execute(text("SELECT kind, part_of, statement FROM claim")).one()
    assert tuple(row) == ("unclassified", None, "Hello said.")
    command.downgrade(alembic_config(empty_db), "0006")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT statement FROM claim")).scalar_one() == "Hello said."
    upgrade(empty_db)
    engine.dispose()


def test_seed_schema_documents_kind_and_part_of() -> None:
    schema = json.loads((SEEDS / "schema" / "claims.schema.json").read_text())
    claim = schema["$defs"]["ClaimEntry"]
    assert "kind" in claim["required"]
    assert claim["properties"]["kind"]["enum"] == list(KINDS)
    assert "part_of" not in claim["required"]
