"""The ingestion job: validated, one transaction, idempotent, and clear about bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()


def bilateral(*args: str, url: str | None = None) -> tuple[int, str]:
    env = {"DATABASE_URL": url} if url else {}
    result = runner.invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def snapshot(url: str) -> tuple[int, str, list[tuple[str, str]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
        version = conn.execute(text("SELECT version FROM dataset")).scalar_one()
        rows = conn.execute(text("SELECT id, digest FROM claim ORDER BY id")).all()
    engine.dispose()
    return count, version, [tuple(r) for r in rows]


def claims_file(seeds: Path, index: int = 0) -> Path:
    files = sorted((seeds / "claims").glob("*.yaml"))
    return files[index % len(files)]


def claim_ids(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("  - id: ")]


def test_ingest_then_reingest_changes_nothing(empty_db: str, seeds: Path) -> None:
    code, out = bilateral("ingest", str(seeds), url=empty_db)
    assert code == 0, out
    assert "loaded dataset" in out
    first = snapshot(empty_db)
    assert first[0] > 0
    code, out = bilateral("ingest", str(seeds), url=empty_db)
    assert code == 0, out
    assert "unchanged dataset" in out
    assert "0 added, 0 changed, 0 removed" in out
    assert snapshot(empty_db) == first


def test_removed_and_edited_claims_are_reported_and_applied(empty_db: str, seeds: Path) -> None:
    assert bilateral("ingest", str(seeds), url=empty_db)[0] == 0
    before = dict(snapshot(empty_db)[2])
    path = claims_file(seeds, 0)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("  - id: ")]
    removed_id = lines[starts[0]].split(":", 1)[1].strip()
    del lines[starts[0] : starts[1]]  # drop the first claim
    edited = "".join(lines).replace("statement: ", "statement: Edited. ", 1)
    path.write_text(edited, encoding="utf-8")
    code, out = bilateral("ingest", str(seeds), url=empty_db)
    assert code == 0, out
    assert "0 added, 1 changed, 1 removed" in out
    after = dict(snapshot(empty_db)[2])
    assert removed_id in before and removed_id not in after
    assert len(after) == len(before) - 1


def test_bad_quote_is_refused_and_old_data_stays(empty_db: str, seeds: Path) -> None:
    assert bilateral("ingest", str(seeds), url=empty_db)[0] == 0
    before = snapshot(empty_db)
    path = claims_file(seeds, 1)
    body = path.read_text(encoding="utf-8")
    first_quote = next(line for line in body.splitlines() if line.strip().startswith("quote:"))
    path.write_text(body.replace(first_quote, '    quote: "words that are nowhere"', 1))
    code, out = bilateral("ingest", str(seeds), url=empty_db)
    assert code == 1
    assert path.name in out and "quote not found" in out
    assert "nothing was written" in out
    assert snapshot(empty_db) == before


def test_check_reports_near_miss_characters(seeds: Path) -> None:
    # a curator typing a straight apostrophe where the source has U+2019
    path, number = next(
        (path, number)
        for path in sorted((seeds / "claims").glob("*.yaml"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip().startswith("quote:") and "’" in line
    )
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[number - 1] = lines[number - 1].replace("’", "'", 1)
    path.write_text("".join(lines), encoding="utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert "U+2019 RIGHT SINGLE QUOTATION MARK" in out
    assert "U+0027 APOSTROPHE" in out
    assert f"{path.name}:{number}:" in out.replace(str(path.parent) + "/", "")


BAD_CLAIM_EDITS = [
    ("topics: [", "topics: [no-such-topic, ", "unknown topic"),
    ("quote: ", "occurrence: 0\n    quote: ", "occurrence"),
    ("statement: ", "statement: 42\n    # ", "statement"),
]


@pytest.mark.parametrize("old, new, message", BAD_CLAIM_EDITS)
def test_check_names_file_line_and_claim(seeds: Path, old: str, new: str, message: str) -> None:
    path = claims_file(seeds, 2)
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new, 1), encoding="utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 1, out
    assert message in out
    assert f"{path}:" in out
    assert f"[claim {claim_ids(path)[0]}]" in out


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty"),
        (b"source: [unclosed\n", "invalid YAML"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"source: a\x00b\n", "NUL"),
        (b"- just\n- a list\n", "expected a mapping"),
        (b"source: gac-canada-united-states-relations\nsource: again\n", "invalid YAML"),
        (b"source: gac-canada-united-states-relations\nclaims: {}\n", "claims"),
        (b"source: gac-canada-united-states-relations\nbogus: 1\n", "bogus"),
        (b"source: not-a-source\nclaims: []\n", "unknown source"),
    ],
)
def test_broken_claim_files_are_refused(seeds: Path, content: bytes, message: str) -> None:
    target = claims_file(seeds, 2)
    target.write_bytes(content)
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert message in out
    assert target.name in out


def test_duplicate_claim_id(seeds: Path) -> None:
    first = claims_file(seeds, 0)
    path = claims_file(seeds, 1)
    body = path.read_text(encoding="utf-8")
    taken = claim_ids(first)[0] if first != path else claim_ids(path)[0]
    victim = claim_ids(path)[1]
    path.write_text(body.replace(f"  - id: {victim}\n", f"  - id: {taken}\n", 1))
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert f"[claim {taken}] duplicate claim id (also in" in out


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('published: "2021-02-26"', 'published: "2021-02-30"', "day is out of range"),
        ("    published_precision: day", "    published_precision: month", "precision"),
        ('published: "2019-07-01/2019-08-22"', 'published: "2019-08-22/2019-07-01"', "reversed"),
        (
            "    published_precision: range",
            "    published_precision: year",
            "has range precision, not 'year'",
        ),
        ("url: null", "url: not a url", "URL"),
        ("file: 003_8e8d18d6546258b1.txt", "file: missing.txt", "cannot read file"),
        ("country: CA", "country: Canada", "country"),
    ],
)
def test_bad_sources_are_refused(seeds: Path, old: str, new: str, message: str) -> None:
    path = seeds / "sources.yaml"
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new, 1), encoding="utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 1, out
    assert message in out
    assert "sources.yaml:" in out


def test_oversized_document_is_refused(seeds: Path) -> None:
    doc = seeds / "documents" / "004_441150a83682bc75.txt"
    with doc.open("ab") as handle:
        handle.truncate(11 * 1024 * 1024)
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert "limit" in out


def test_check_coverage_lists_uncovered_sentences(seeds: Path) -> None:
    code, out = bilateral("check", "--coverage", "--report-only", str(seeds))
    assert code == 0, out
    path = claims_file(seeds, 0)
    source = path.read_text(encoding="utf-8").splitlines()[0].split(":", 1)[1].strip()
    assert f"{source}: " in out
    path.write_text(f"source: {source}\nclaims: []\n")
    sources = seeds / "sources.yaml"
    body = sources.read_text(encoding="utf-8")
    sources.write_text(
        body.replace(f"  - id: {source}\n", f"  - id: {source}\n    curated: false\n")
    )
    code, out = bilateral("check", "--coverage", str(seeds))
    assert code == 1, out
    assert f"{source}: 0%" in out
    assert "  uncovered @" in out
    assert "sentence(s) not fully covered" in out


def test_stats_table_counts_claims_per_topic_and_source(seeds: Path) -> None:
    from tests.oracle import Oracle

    oracle = Oracle(seeds)
    code, out = bilateral("stats", str(seeds))
    assert code == 0, out
    lines = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("|")}
    arctic = [c for c in oracle.claims if "arctic" in c.topics]
    assert lines["arctic"].split("|")[2].strip() == str(len(arctic))
    assert lines["**all claims**"].split("|")[2].strip() == str(len(oracle.claims))


def test_a_vocabulary_too_large_for_the_topic_mask_is_refused_at_its_line(seeds: Path) -> None:
    path = seeds / "topics.yaml"
    extra = "".join(
        f"  - id: extra-{n}\n    name: Extra {n}\n    description: Made up for this test.\n"
        for n in range(60)
    )
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    first_refused = [i for i, line in enumerate(lines, 1) if line.startswith("  - id: ")][62]
    code, out = bilateral("check", str(seeds))
    assert code == 1, out
    assert f"topics.yaml:{first_refused}" in out
    assert "more than 62 topics" in out
