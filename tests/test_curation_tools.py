"""Issue 15, section 3: the curators' tools catch mistakes and say how to fix them."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from app.ingest.quantities import stated_numbers, value_problem
from tests.conftest import SEEDS
from tests.test_ingest import bilateral

DOCUMENT = (
    "The border is 5,525 miles long. Trade reached $1.7 billion a day. "
    "This visit follows the leaders' meeting in Ottawa.\nReport a problem"
)


def tiny_seeds(tmp_path: Path, claims: str, document: str = DOCUMENT) -> Path:
    """Real vocabularies, one small pinned document and the given claims file body."""
    seeds = tmp_path / "tiny"
    (seeds / "documents").mkdir(parents=True)
    (seeds / "claims").mkdir()
    for name in ("topics.yaml", "figures.yaml"):
        shutil.copy(SEEDS / name, seeds / name)
    shutil.copytree(SEEDS / "entities", seeds / "entities")
    raw = document.encode("utf-8")
    (seeds / "documents" / "tiny.txt").write_bytes(raw)
    (seeds / "sources.yaml").write_text(
        "sources:\n  - id: tiny\n    file: tiny.txt\n"
        f"    sha256: {hashlib.sha256(raw).hexdigest()}\n    size: {len(raw)}\n"
        "    name: Tiny\n    title: null\n    publisher: null\n    country: null\n"
        "    url: null\n    published: null\n    published_precision: unknown\n"
        "    provenance_note: Made up for a test.\n",
        encoding="utf-8",
    )
    (seeds / "claims" / "tiny.yaml").write_text("source: tiny\n" + claims, encoding="utf-8")
    return seeds


BORDER = """  - id: tiny-border
    statement: According to the tiny source, the border is 5,525 miles long.
    quote: "The border is 5,525 miles long."
    topics: [border]
    kind: fact
"""
TRADE = """  - id: tiny-trade
    statement: According to the tiny source, trade reached $1.7 billion a day.
    quote: "Trade reached $1.7 billion a day."
    topics: [trade]
    kind: fact
"""
EXCLUDED = """excluded:
  - text: Report a problem
    reason: furniture
"""


def test_coverage_fails_on_an_uncovered_sentence_unless_report_only(tmp_path: Path) -> None:
    visit = """  - id: tiny-visit
    statement: The leaders met in Ottawa.
    quote: "the leaders' meeting in Ottawa"
    topics: [diplomacy]
    kind: fact
"""
    seeds = tiny_seeds(tmp_path, "claims:\n" + BORDER + visit + EXCLUDED)
    code, out = bilateral("check", "--coverage", str(seeds))
    assert code == 1, out
    assert "  uncovered @32 (not quoted: Trade, reached, 1.7, billion, day)" in out
    # partly quoted: "visit" and "follows" are in no quote, so the sentence is not covered
    assert "  partly covered @66 (not quoted: visit, follows): This visit follows" in out
    assert "error: 2 sentence(s) not fully covered" in out
    code, out = bilateral("check", "--coverage", "--report-only", str(seeds))
    assert code == 0, out
    assert "partly covered @66" in out


def test_coverage_passes_when_every_content_word_is_quoted_or_excluded(tmp_path: Path) -> None:
    visit = """  - id: tiny-visit
    statement: A visit follows the leaders' meeting in Ottawa.
    quote: "This visit follows the leaders' meeting in Ottawa."
    topics: [diplomacy]
    kind: fact
"""
    seeds = tiny_seeds(tmp_path, "claims:\n" + BORDER + TRADE + visit + EXCLUDED)
    code, out = bilateral("check", "--coverage", str(seeds))
    assert code == 0, out
    assert "tiny: 100% of 3 content sentences covered (1 excluded" in out


@pytest.mark.parametrize(
    "quantity, message",
    [
        (
            '{value: 170000000, unit: USD, per: day, as_stated: "$1.7 billion"}',
            "value 170,000,000 does not match as_stated '$1.7 billion', which states 1,700,000,000",
        ),
        (
            '{value: 1.7, unit: USD, per: day, as_stated: "$1.7 billion"}',
            "value 1.7 does not match",
        ),
        ('{value: 1700000000, unit: USD, qualifier: nearly, as_stated: "$1.7 billion"}', None),
        (
            '{value: 1700000000, unit: USD, as_stated: "billion"}',
            "as_stated 'billion' states no number",
        ),
    ],
)
def test_quantity_value_must_match_as_stated(
    tmp_path: Path, quantity: str, message: str | None
) -> None:
    seeds = tiny_seeds(tmp_path, "claims:\n" + TRADE + f"    quantities:\n      - {quantity}\n")
    code, out = bilateral("check", str(seeds))
    if message is None:
        assert code == 0, out
    else:
        assert code == 1, out
        assert "tiny.yaml:9: [claim tiny-trade] " + message in out


@pytest.mark.parametrize(
    "statement, kind, quantities, ok",
    [
        ("Trade reached $1.7 billion a day.", "fact", True, False),
        ("Trade reached $1.7 billion a day.", "fact", False, True),  # no figure: a plain fact
        ("Trade reached $1.7 billion a day.", "position", False, False),
        ("Trade reached $1.7 billion a day.", "rhetoric", False, False),
        ("The tiny source says trade reached $1.7 billion a day.", "fact", True, True),
        ("Minister Doe said trade reached $1.7 billion a day.", "rhetoric", False, True),
    ],
)
def test_figures_positions_and_rhetoric_must_be_attributed(
    tmp_path: Path, statement: str, kind: str, quantities: bool, ok: bool
) -> None:
    """The attribution rule (seeds/README.md) is checked by `bilateral check`, at file:line."""
    claim = TRADE.replace(
        "According to the tiny source, trade reached $1.7 billion a day.", statement
    ).replace("kind: fact", f"kind: {kind}")
    if quantities:
        claim += (
            '    quantities:\n      - {value: 1700000000, unit: USD, as_stated: "$1.7 billion"}\n'
        )
    code, out = bilateral("check", str(tiny_seeds(tmp_path, "claims:\n" + claim)))
    if ok:
        assert code == 0, out
    else:
        assert code == 1, out
        assert "tiny.yaml:4: [claim tiny-trade] " in out and "attribute it" in out


@pytest.mark.parametrize(
    "as_stated, readings",
    [
        ("$1.7 billion", [(1.7e9, None)]),
        ("5,525 miles", [(5525, None)]),
        ("119", [(119, None)]),
        ("nearly 2.6 billion", [(2.6e9, None)]),
        ("USD 2 billion (CAD 2.6 billion)", [(2e9, "USD"), (2.6e9, "CAD")]),
        ("more than 30 U.S. states", [(30, None)]),
        ("close to 9,000 km", [(9000, None)]),
        ("1.6 million jobs", [(1.6e6, None)]),
        ("twenty-five", [(25, None)]),
        ("eight", [(8, None)]),
        ("US$ 3 trillion", [(3e12, "USD")]),
        ("C$40", [(40, "CAD")]),
    ],
)
def test_stated_numbers_are_read(as_stated: str, readings: list[tuple[float, str | None]]) -> None:
    assert [(n.value, n.currency) for n in stated_numbers(as_stated)] == readings


def test_a_currency_unit_picks_the_number_marked_with_it() -> None:
    both = "USD 2 billion (CAD 2.6 billion)"
    assert value_problem(2e9, "USD", "exact", both) is None
    assert value_problem(2.6e9, "CAD", "exact", both) is None
    assert "states 2,600,000,000 (CAD 2.6 billion)" in str(value_problem(2e9, "CAD", "exact", both))


def test_qualifier_words_in_as_stated_must_match_the_qualifier() -> None:
    problem = value_problem(120, "ports", "exact", "more than 120")
    assert problem == "qualifier is 'exact' but as_stated says 'more than': use 'more_than'"
    assert value_problem(120, "ports", "more_than", "more than 120") is None
    assert value_problem(60, "years", "at_least", "60 years") is None  # no words: not judged


def test_every_quantity_in_the_real_seeds_passes() -> None:
    code, out = bilateral("check", str(SEEDS))
    assert code == 0, out


def check_fails_with(seeds: Path, *messages: str) -> str:
    code, out = bilateral("check", str(seeds))
    assert code == 1, out
    for message in messages:
        assert message in out, out
    return out


def test_unknown_topic_lists_the_known_ones_and_their_file(tmp_path: Path) -> None:
    seeds = tiny_seeds(tmp_path, "claims:\n" + BORDER.replace("[border]", "[bordr]"))
    check_fails_with(
        seeds,
        "tiny.yaml:3: [claim tiny-border] unknown topic 'bordr' (did you mean 'border'?); "
        "the topics, defined in seeds/topics.yaml, are: arctic, border, climate,",
    )


def test_unknown_entity_that_is_a_name_says_whose(tmp_path: Path) -> None:
    claim = BORDER + "    entities: [NORAD]\n"
    seeds = tiny_seeds(tmp_path, "claims:\n" + claim)
    out = check_fails_with(
        seeds,
        "claims.0.entities.0: String should match pattern '^[a-z0-9]+(-[a-z0-9]+)*$'; "
        "'NORAD' is a name of entity 'norad': use that id",
    )
    assert "no claims" not in out  # a claim set aside for its errors still counts


def test_unknown_field_suggests_the_closest_valid_one(tmp_path: Path) -> None:
    claim = BORDER.replace("    statement:", "    statment:")
    seeds = tiny_seeds(tmp_path, "claims:\n" + claim + "excluded:\n  - txt: x\n    reason: title\n")
    check_fails_with(
        seeds,
        "tiny.yaml:4: [claim tiny-border] claims.0.statment: unknown field 'statment'; "
        "did you mean 'statement'? valid fields: entities, id, kind, note,",
        "excluded.0.txt: unknown field 'txt'; did you mean 'text'? valid fields: reason, text",
    )


@pytest.mark.parametrize("period", ['"2021-13"', '"2021/2019"', "2021.5", '"21"'])
def test_bad_period_shows_the_value_and_every_accepted_form(tmp_path: Path, period: str) -> None:
    seeds = tiny_seeds(tmp_path, "claims:\n" + BORDER + f"    period: {period}\n")
    out = check_fails_with(seeds, "tiny.yaml:8: [claim tiny-border] claims.0.period: ")
    shown = period.strip('"')
    assert f"{shown!r} is not a period" in out or f"{float(shown)!r} is not a period" in out
    for form in ("YYYY (2018)", "YYYY-MM (2021-02)", "YYYY-MM-DD", "START/END", "START/", "/END"):
        assert form in out


def test_excluded_text_gets_the_near_miss_hint(tmp_path: Path) -> None:
    document = DOCUMENT.replace("leaders'", "leaders’")
    claims = (
        "claims:\n" + BORDER + 'excluded:\n  - text: "the leaders\' meeting"\n    reason: title\n'
    )
    seeds = tiny_seeds(tmp_path, claims, document)
    check_fails_with(
        seeds,
        "tiny.yaml:9: excluded text not found verbatim; the source has it at character",
        "U+2019 RIGHT SINGLE QUOTATION MARK",
        "where the excluded text has U+0027 APOSTROPHE",
    )


def test_a_schema_error_in_one_file_hides_no_error_of_another(seeds: Path) -> None:
    sources = seeds / "sources.yaml"
    sources.write_text(
        sources.read_text("utf-8").replace('published: "2021-02-26"', 'published: "2021-02-30"'),
        "utf-8",
    )
    topics = seeds / "topics.yaml"
    body = topics.read_text("utf-8")
    topics.write_text(
        body.replace("  - id: arctic\n", "  - id: arctic\n    colour: blue\n"), "utf-8"
    )
    # another source's claims file, with a quote that is not in its document
    path = seeds / "claims" / "gac-canada-united-states-relations.yaml"
    claims = path.read_text("utf-8")
    quote = next(line for line in claims.splitlines() if line.startswith("    quote:"))
    path.write_text(claims.replace(quote, '    quote: "nowhere in the text"', 1), "utf-8")
    out = check_fails_with(
        seeds,
        "sources.yaml:",
        "day is out of range",
        "topics.yaml:",
        "unknown field 'colour'",
        "gac-canada-united-states-relations.yaml:",
        "quote not found",
    )
    assert "unknown topic 'arctic'" not in out  # its entry has an error, but it is known
    assert "unknown source" not in out


def test_an_entities_file_renamed_to_yml_is_refused(seeds: Path) -> None:
    path = seeds / "entities" / "common.yaml"
    path.rename(path.with_suffix(".yml"))
    check_fails_with(seeds, "common.yml: not read: files in entities/ end in .yaml or .json")


def test_an_id_that_is_another_entitys_name_says_whose(tmp_path: Path) -> None:
    claim = BORDER + "    entities: [cusma, north-american-aerospace]\n"
    seeds = tiny_seeds(tmp_path, "claims:\n" + claim)
    check_fails_with(
        seeds,
        "unknown entity 'cusma': it is a name of entity 'usmca'; use that id",
        "unknown entity 'north-american-aerospace'",
        "entities are defined in seeds/entities/*.yaml",
    )


def test_readme_table_and_corpus_counts_are_what_stats_writes() -> None:
    from app.ingest.dataset import load_dataset
    from app.ingest.stats import corpus_counts, stats_table

    ds = load_dataset(SEEDS)
    readme = (SEEDS.parent / "README.md").read_text(encoding="utf-8")
    assert "<!-- bilateral stats: begin -->\n" + stats_table(
        ds
    ) + "<!-- bilateral stats: end -->" in (readme), "run `bilateral stats --write`"
    counts = json.loads((SEEDS.parent / "tests" / "corpus_counts.json").read_text("utf-8"))
    assert counts == corpus_counts(ds), "run `bilateral stats --write`"


def test_stats_write_regenerates_the_table_and_the_counts(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(SEEDS, root / "seeds")
    (root / "tests").mkdir()
    (root / "tests" / "corpus_counts.json").write_text("{}")
    shutil.copy(SEEDS.parent / "README.md", root / "README.md")
    path = root / "seeds" / "claims" / "gac-canada-united-states-relations.yaml"
    body = path.read_text("utf-8")
    path.write_text(body.replace("    topics: [", "    topics: [arctic, ", 1), "utf-8")
    code, out = bilateral("stats", "--write", str(root / "seeds"))
    assert code == 0, out
    assert "| arctic | 15 | 0 | 1 | 3 | 3 | 8 |" in out
    readme = (root / "README.md").read_text("utf-8")
    assert "| arctic | 15 | 0 | 1 | 3 | 3 | 8 |\n" in readme
    assert "| arctic | 14 |" not in readme
    counts = json.loads((root / "tests" / "corpus_counts.json").read_text("utf-8"))
    served = json.loads((SEEDS.parent / "tests" / "corpus_counts.json").read_text("utf-8"))
    assert counts["per_topic"]["arctic"] == 15 and counts["claims"] == served["claims"]
    (root / "README.md").write_text("no table here\n")
    code, out = bilateral("stats", "--write", str(root / "seeds"))
    assert code == 1
    assert "no <!-- bilateral stats: begin --> ... <!-- bilateral stats: end --> markers" in out


def test_a_broken_claims_file_is_not_also_reported_missing(seeds: Path) -> None:
    path = seeds / "claims" / "gac-canada-united-states-relations.yaml"
    path.write_text("source: [unclosed\n", encoding="utf-8")
    out = check_fails_with(seeds, f"{path}:2: invalid YAML")
    assert "has no claims file" not in out
