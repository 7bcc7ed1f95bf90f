"""Provenance as data: each source's evidence goes seeds -> database -> API unchanged, a url is
only ever an original's, and `bilateral check` refuses a malformed evidence entry at its line."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.core.config import Settings
from app.migrate import upgrade
from tests.conftest import SEEDS, ingest
from tests.oracle import Oracle

ORACLE = Oracle()
FIELDS = ("establishes", "value", "relation", "address", "quote", "checked", "note")
runner = CliRunner()


def expected_evidence(source: dict[str, Any]) -> list[dict[str, Any]]:
    """The YAML's entries as the API should show them (absent keys are null, dates ISO text)."""
    return [
        {name: None if entry.get(name) is None else str(entry[name]) for name in FIELDS}
        for entry in source.get("evidence", [])
    ]


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


def test_every_source_has_evidence_and_the_api_serves_it_as_curated(client: TestClient) -> None:
    listed = {s["id"]: s for s in client.get("/v1/sources").json()["items"]}
    assert listed.keys() == ORACLE.sources.keys()
    for source_id, curated in ORACLE.sources.items():
        assert curated.get("evidence"), f"{source_id} has no evidence"
        detail = client.get(f"/v1/sources/{source_id}").json()
        for served in (listed[source_id], detail):
            assert served["evidence"] == expected_evidence(curated)


def test_a_url_is_always_an_originals_and_a_copy_stays_evidence(client: TestClient) -> None:
    for source in client.get("/v1/sources").json()["items"]:
        originals = {
            e["value"]
            for e in source["evidence"]
            if e["establishes"] == "url" and e["relation"] == "original"
        }
        assert source["url"] is None or source["url"] in originals
    repost = client.get("/v1/sources/usdos-2021-neighbors-friends-and-allies").json()
    assert repost["url"] is None
    assert [e["relation"] for e in repost["evidence"] if e["establishes"] == "url"] == ["copy"]


HOSTILE_ENTRIES = """    evidence:
      - establishes: published
        value: "2021-02-23/2021-06-30"
        relation: archive
        address: "https://web.archive.org/web/2021/https://example.org/a?b=1&c=%22x%22#top"
        checked: "2020-02-29"
      - establishes: title
        value: "Quotes “curly” and 'straight', a\\u00a0no-break space, 🍁 and <b>markup</b>"
        relation: copy
        quote: "line one\\nline two \\\\ backslash"
        checked: 2026-01-31
        note: "Text only: no address; the quote is what shows it."
"""


def test_hostile_evidence_round_trips_through_the_database(empty_db: str, seeds: Path) -> None:
    path = seeds / "sources.yaml"
    body = path.read_text(encoding="utf-8")
    anchor = "    evidence:\n      - establishes: url\n        value: https://lapost.us/?p=32116\n"
    assert body.count(anchor) == 1
    edited = body.replace(anchor, HOSTILE_ENTRIES + anchor[len("    evidence:\n") :])
    path.write_text(edited, encoding="utf-8")
    ingest(empty_db, seeds)
    app = create_app(Settings(database_url=empty_db))
    with TestClient(app) as client:
        served = client.get("/v1/sources/usdos-2021-neighbors-friends-and-allies").json()
    app.state.catalog.dispose()
    curated = Oracle(seeds).sources["usdos-2021-neighbors-friends-and-allies"]
    assert served["evidence"] == expected_evidence(curated)
    first, second = served["evidence"][:2]
    assert first["relation"] == "archive" and first["checked"] == "2020-02-29"
    assert second["value"].startswith("Quotes “curly”") and "\u00a0" in second["value"]
    assert second["quote"] == "line one\nline two \\ backslash" and second["address"] is None
    assert len(served["evidence"]) == 4


@pytest.fixture
def sources_yaml(seeds: Path) -> tuple[Path, str]:
    path = seeds / "sources.yaml"
    return path, path.read_text(encoding="utf-8")


TOMORROW = (date.today() + timedelta(days=1)).isoformat()
LAPOST = "        value: https://lapost.us/?p=32116\n"
LAPOST_QUOTE = '        quote: "02/26/2021 03:12 PM EST\\n\\nOffice of the Spokesperson"\n'
LAPOST_DATELINE = "        address: https://lapost.us/?p=32116\n        quote: 02/26"
GAC_PUBLISHER = (
    "      - establishes: publisher\n        value: Government of Canada, Global Affairs Canada\n"
    "        relation: original\n"
    "        address: https://www.international.gc.ca/country-pays/us-eu/relations.aspx?lang=eng\n"
)


@pytest.mark.parametrize(
    "old, new, message",
    [
        pytest.param(
            GAC_PUBLISHER,
            GAC_PUBLISHER.rsplit("        address:", 1)[0],
            "evidence needs the address or the quoted text that shows it",
            id="neither-address-nor-text",
        ),
        pytest.param(
            "        checked: 2026-11-30\n        note: The repost",
            "        checked: 2026-02-30\n        note: The repost",
            "day is out of range",
            id="impossible-date",
        ),
        pytest.param(
            "        checked: 2026-11-30\n        note: The repost",
            "        checked: 30/11/2026\n        note: The repost",
            "is not a date written YYYY-MM-DD",
            id="date-format",
        ),
        pytest.param(
            "        checked: 2026-11-30\n        note: The repost",
            f"        checked: {TOMORROW}\n        note: The repost",
            "is after today",
            id="future-date",
        ),
        pytest.param(
            "        relation: copy\n" + LAPOST_DATELINE,
            "        relation: hearsay\n" + LAPOST_DATELINE,
            "'archive'",
            id="relation",
        ),
        pytest.param(
            '      - establishes: published\n        value: "2021-02-26"',
            '      - establishes: author\n        value: "2021-02-26"',
            "'published'",
            id="establishes",
        ),
        pytest.param(LAPOST, "        value: lapost.us/?p=32116\n", "http(s) URL", id="url-value"),
        pytest.param(
            '        value: "2021-02-26"',
            '        value: "26 February 2021"',
            "is not YYYY",
            id="published-value",
        ),
        pytest.param(
            "        checked: 2026-11-30\n        note: The repost",
            "        checked: 2026-11-30\n        copy_of: state.gov\n        note: The repost",
            "valid fields: address, checked, establishes, note, quote, relation, value",
            id="unknown-key",
        ),
        pytest.param(
            "    url: https://ca.usembassy.gov/canada-and-the-united-states-strengthening-our-"
            "alliance/\n",
            "    url: https://www.state.gov/canada-and-the-united-states-strengthening-our-"
            "alliance/\n",
            "has no evidence",
            id="url-without-evidence",
        ),
        pytest.param(
            LAPOST_QUOTE,
            "",
            "a url entry needs a quote",
            id="url-entry-without-quote",
        ),
        pytest.param(
            LAPOST_QUOTE,
            LAPOST_QUOTE.replace("Spokesperson", "Press Secretary"),
            "evidence quote is not in the document",
            id="url-quote-from-another-text",
        ),
        pytest.param(
            '    url: null\n    published: "2021-02-26"',
            '    url: https://lapost.us/?p=32116\n    published: "2021-02-26"',
            "a copy's address is evidence, not the url",
            id="copy-passed-off-as-url",
        ),
    ],
)
def test_check_refuses_malformed_evidence_at_its_line(
    sources_yaml: tuple[Path, str], old: str, new: str, message: str
) -> None:
    path, body = sources_yaml
    assert body.count(old) == 1, old
    path.write_text(body.replace(old, new), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path.parent)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    changed = body[: body.index(old)].count("\n") + 1
    lines = [int(part.split(":")[1]) for part in result.output.split() if "sources.yaml:" in part]
    assert lines, result.output
    # the entry (or source) whose field is wrong: at most a few lines above the edit
    assert any(changed - 12 <= line <= changed + new.count("\n") for line in lines), lines


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        (
            "sources.yaml",
            '    published: "2021-02-26"',
            "    published: 2021-02-30",
            "day is out of range",
        ),
        (
            "claims/article-us-canada-relationship-undated.yaml",
            '    period: "2020-01"\n',
            "    period: 2020-01-32\n",
            "'2020-01-32' is not a period",
        ),
    ],
)
def test_an_impossible_unquoted_date_is_reported_at_its_line(
    seeds: Path, file: str, old: str, new: str, message: str
) -> None:
    """YAML reads 2021-02-30 as a timestamp; the loader keeps it as text for the schema to
    refuse, instead of crashing on it (the line lookup too)."""
    path = seeds / file
    body = path.read_text(encoding="utf-8")
    assert body.count(old) == 1
    path.write_text(body.replace(old, new), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(seeds)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    line = body[: body.index(old)].count("\n") + 1
    assert f"{path.name}:{line}:" in result.output
    assert message in result.output


def test_the_sources_csv_lists_each_sources_evidence(client: TestClient) -> None:
    rows = {
        r["id"]: r for r in csv.DictReader(io.StringIO(client.get("/v1/sources?format=csv").text))
    }
    for source_id, curated in ORACLE.sources.items():
        assert rows[source_id]["evidence"] == "; ".join(
            f"{e['establishes']}: {e['value']} ({e['relation']})" for e in curated["evidence"]
        )


def test_a_dataset_loaded_before_evidence_existed_is_unloaded_by_the_migration(
    empty_db: str,
) -> None:
    """Migration 0008 cannot write evidence (the ingestion job does): a dataset loaded before it
    must stop looking loaded, rather than serve sources without their evidence."""
    upgrade(empty_db, "0009")  # the revision before 0008
    engine = create_engine(empty_db)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dataset (id, version, ingested_at, sources, claims) "
                "VALUES (1, 'old', '2026-01-01 00:00:00', 5, 315)"
            )
        )
    upgrade(empty_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dataset")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM source_evidence")).scalar_one() == 0
    engine.dispose()
