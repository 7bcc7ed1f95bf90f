"""Issue 18 (items 1, 8, 9): ingest never wipes served data by accident, seed YAML cannot be
made to hang, and documents cannot change under their claims unnoticed."""

from __future__ import annotations

import hashlib
import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_ingest import bilateral, claims_file, snapshot

GAC = "gac-canada-united-states-relations"
GAC_DOC = "001_1f8adab31af27b14.txt"


def refused_and_untouched(url: str, seeds_dir: Path, *expected: str) -> str:
    """Ingest the broken seeds over a served dataset: exit 1, each message, database as before."""
    before = snapshot(url)
    code, out = bilateral("ingest", str(seeds_dir), url=url)
    assert code == 1, out
    for message in expected:
        assert message in out, out
    assert "nothing was written" in out
    assert snapshot(url) == before
    return out


def served(url: str, seeds_dir: Path) -> None:
    code, out = bilateral("ingest", str(seeds_dir), url=url)
    assert code == 0, out


def test_missing_claims_folder_is_refused(empty_db: str, seeds: Path) -> None:
    served(empty_db, seeds)
    for path in (seeds / "claims").iterdir():
        path.unlink()
    (seeds / "claims").rmdir()
    refused_and_untouched(empty_db, seeds, "claims folder is missing")


def test_missing_claims_file_is_refused_naming_the_file(empty_db: str, seeds: Path) -> None:
    served(empty_db, seeds)
    (seeds / "claims" / f"{GAC}.yaml").unlink()
    out = refused_and_untouched(empty_db, seeds, f"source {GAC} has no claims file")
    assert f"claims/{GAC}.yaml" in out
    assert "sources.yaml:" in out


def test_claims_file_renamed_to_yml_is_refused(empty_db: str, seeds: Path) -> None:
    served(empty_db, seeds)
    path = seeds / "claims" / f"{GAC}.yaml"
    path.rename(path.with_suffix(".yml"))
    refused_and_untouched(empty_db, seeds, f"{GAC}.yml: not read", f"{GAC} has no claims file")


@pytest.mark.parametrize("body", ["source: {}\n", "source: {}\nclaims: []\n"])
def test_empty_claims_file_is_refused(empty_db: str, seeds: Path, body: str) -> None:
    served(empty_db, seeds)
    (seeds / "claims" / f"{GAC}.yaml").write_text(body.format(GAC), encoding="utf-8")
    refused_and_untouched(empty_db, seeds, f"{GAC}.yaml", "no claims: a curated source")


def test_a_source_marked_not_curated_may_have_no_claims(seeds: Path) -> None:
    (seeds / "claims" / f"{GAC}.yaml").unlink()
    sources = seeds / "sources.yaml"
    body = sources.read_text(encoding="utf-8")
    marked = body.replace(f"  - id: {GAC}\n", f"  - id: {GAC}\n    curated: false\n", 1)
    sources.write_text(marked, encoding="utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 0, out
    # ... but not when it has claims: the flag must be true
    (seeds / "claims" / f"{GAC}.yaml").write_text(
        (Path(__file__).parent.parent / "seeds" / "claims" / f"{GAC}.yaml").read_text("utf-8")
    )
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert f"source {GAC} is marked `curated: false` but {GAC}.yaml has" in out


def test_claims_file_for_no_source_is_refused(seeds: Path) -> None:
    (seeds / "claims" / "no-such-source.yaml").write_text(
        "source: no-such-source\nclaims: []\n", encoding="utf-8"
    )
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert "no-such-source.yaml:1: unknown source 'no-such-source'" in out


def test_claims_file_named_after_another_source_is_refused(seeds: Path) -> None:
    path = seeds / "claims" / f"{GAC}.yaml"
    path.rename(path.with_name("gac.yaml"))
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert f"the claims of source {GAC} go in claims/{GAC}.yaml, not gac.yaml" in out


def test_document_without_a_source_entry_is_refused(seeds: Path) -> None:
    extra = seeds / "documents" / "005_new.txt"
    extra.write_text("A sixth document nobody listed.", encoding="utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert f"{extra}: document has no entry in sources.yaml" in out


def test_two_sources_sharing_a_document_are_refused(seeds: Path) -> None:
    path = seeds / "sources.yaml"
    body = path.read_text(encoding="utf-8")
    path.write_text(body.replace("file: 000_e60ca1f07b06ad39.txt", f"file: {GAC_DOC}"), "utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert f"{GAC_DOC} is already the document of" in out


def drop_claims(path: Path, share: float) -> list[str]:
    """Remove the first `share` of a claims file's claims; return their ids."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("  - id: ")]
    count = max(1, int(len(starts) * share))
    end = next((i for i, line in enumerate(lines) if line.startswith("excluded:")), len(lines))
    cut_end = starts[count] if count < len(starts) else end
    ids = [lines[i].split(":", 1)[1].strip() for i in starts[:count]]
    del lines[starts[0] : cut_end]
    lines = [line for line in lines if not line.startswith("    part_of: ")]  # may name them
    path.write_text("".join(lines), encoding="utf-8")
    return ids


def test_removing_many_claims_needs_allow_removals(empty_db: str, seeds: Path) -> None:
    served(empty_db, seeds)
    served_claims = snapshot(empty_db)[0]
    removed: list[str] = []
    for index in range(3):  # ~60% of three sources' claims: well over 10% of all
        removed += drop_claims(claims_file(seeds, index), 0.6)
    assert len(removed) > 0.1 * served_claims
    out = refused_and_untouched(
        empty_db, seeds, f"would remove {len(removed)} of {served_claims} claims", "claims removed"
    )
    assert "--allow-removals" in out
    assert sorted(removed)[0] in out
    code, out = bilateral("ingest", "--allow-removals", str(seeds), url=empty_db)
    assert code == 0, out
    assert snapshot(empty_db)[0] == served_claims - len(removed)
    assert f"claims removed: {len(removed)} (" in out


def test_removing_a_whole_source_needs_allow_removals(empty_db: str, seeds: Path) -> None:
    served(empty_db, seeds)
    (seeds / "claims" / f"{GAC}.yaml").unlink()
    sources = seeds / "sources.yaml"
    body = sources.read_text(encoding="utf-8")
    entries = body.split("  - id: ")
    kept = [e for e in entries if not e.startswith(GAC)]
    sources.write_text("  - id: ".join(kept), encoding="utf-8")
    (seeds / "documents" / GAC_DOC).unlink()
    out = refused_and_untouched(empty_db, seeds, "1 whole source(s)", f"sources removed: 1: {GAC}")
    assert f"claims removed: 86 ({GAC}: 86)" in out
    code, out = bilateral("ingest", "--allow-removals", str(seeds), url=empty_db)
    assert code == 0, out
    assert f"sources removed: 1: {GAC}" in out


def test_a_few_removals_pass_and_ingest_names_what_changed(empty_db: str, seeds: Path) -> None:
    served(empty_db, seeds)
    path = seeds / "claims" / f"{GAC}.yaml"
    removed = drop_claims(path, 0.01)
    body = path.read_text(encoding="utf-8")
    path.write_text(body.replace("  - id: ", "  - id: renamed-", 1), encoding="utf-8")
    code, out = bilateral("ingest", str(seeds), url=empty_db)
    assert code == 0, out
    assert f"claims removed: 2 ({GAC}: 2): " in out
    assert all(claim_id in out for claim_id in removed)
    assert f"claims added: 1 ({GAC}: 1): renamed-" in out


def test_first_ingest_lists_sources_and_counts_what_it_adds(empty_db: str, seeds: Path) -> None:
    code, out = bilateral("ingest", str(seeds), url=empty_db)
    assert code == 0, out
    assert re.search(r"sources added: 5: .*" + GAC, out)
    total = json.loads((ROOT / "tests" / "corpus_counts.json").read_text("utf-8"))["claims"]
    assert f"claims added: {total} (" in out and f"and {total - 20} more" in out
    assert "entities added: " in out


BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "source: x\n"
)


@pytest.mark.parametrize(
    "content, line, message",
    [
        (BOMB, 1, "anchor &a not allowed"),  # 9^9 strings once expanded
        ("source: x\nclaims: [*undefined]\n", 2, "alias *undefined not allowed"),
        ("source: x\nclaims:\n  - " + "[" * 5000 + "]" * 5000 + "\n", 3, "nested more than"),
        ("source: x\nclaims: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", 2, "nested more than"),
    ],
)
def test_hostile_yaml_is_refused_fast_with_file_and_line(
    seeds: Path, content: str, line: int, message: str
) -> None:
    target = claims_file(seeds, 2)
    target.write_text(content, encoding="utf-8")
    out = bounded_check(seeds)
    assert f"{target}:{line}: invalid YAML: {message}" in out or f"{target}:{line}: {message}" in (
        out
    )
    assert "Traceback" not in out


def bounded_check(seeds: Path, seconds: float = 60, memory: int = 2 << 30) -> str:
    """`bilateral check` in a child process capped in time and address space, so a loader that
    expands the bomb fails this test instead of hanging the run or exhausting the machine."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", str(seeds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds,
        preexec_fn=cap_memory,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    return result.stdout + result.stderr


def test_deeply_nested_json_is_refused_with_its_line(seeds: Path) -> None:
    target = claims_file(seeds, 2)
    target.unlink()
    json_file = target.with_suffix(".json")
    json_file.write_text('{"source": "x",\n "claims": ' + "[" * 5000 + "]" * 5000 + "}")
    out = bounded_check(seeds)
    assert f"{json_file}:2: nested more than 100 levels deep" in out


@pytest.mark.parametrize(
    "change, hint",
    [
        (lambda raw: b"\xef\xbb\xbf" + raw, "byte-order mark"),
        (lambda raw: raw.replace(b"\n", b"\r\n"), "CRLF"),
        (lambda raw: raw.replace(b"Canada", b"Kanada", 1), "is not the pinned document"),
    ],
)
def test_a_changed_document_is_refused_until_re_pinned(
    empty_db: str, seeds: Path, change: object, hint: str
) -> None:
    served(empty_db, seeds)
    document = seeds / "documents" / GAC_DOC
    raw = document.read_bytes()
    assert callable(change)
    changed = change(raw)
    document.write_bytes(changed)
    out = refused_and_untouched(empty_db, seeds, f"documents/{GAC_DOC}", hint, "bilateral pin")
    assert hashlib.sha256(changed).hexdigest() in out
    assert "sources.yaml:" in out
    code, out = bilateral("pin", str(seeds))
    assert code == 0, out
    assert f"updated: {GAC}" in out
    pinned = (seeds / "sources.yaml").read_text(encoding="utf-8")
    assert f"sha256: {hashlib.sha256(changed).hexdigest()}\n" in pinned
    assert f"size: {len(changed)}\n" in pinned
    code, out = bilateral("check", str(seeds))  # the claims may or may not still hold
    assert "is not the pinned document" not in out


def test_pin_adds_missing_pins_and_keeps_the_rest_of_the_file(seeds: Path) -> None:
    path = seeds / "sources.yaml"
    original = path.read_text(encoding="utf-8")
    unpinned = re.sub(r"    (sha256|size): .*\n", "", original)
    path.write_text(unpinned, encoding="utf-8")
    code, out = bilateral("check", str(seeds))
    assert code == 1
    assert "sha256: Field required" in out
    code, out = bilateral("pin", str(seeds))
    assert code == 0, out
    assert path.read_text(encoding="utf-8") == original
    code, out = bilateral("pin", str(seeds))
    assert out.count("unchanged: ") == 5
    assert path.read_text(encoding="utf-8") == original
