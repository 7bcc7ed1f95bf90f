"""Quality gate for the curated corpus: fidelity, references, coverage and pinned counts.

If a count changes on purpose, run `bilateral stats --write` (it rewrites corpus_counts.json and
the README's topic table) and commit the result; an accidental deletion fails here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app.ingest.coverage import coverage
from app.ingest.dataset import load_dataset
from tests.oracle import SEEDS, Oracle

ORACLE = Oracle()
DATASET = load_dataset(SEEDS)
CORPUS_COUNTS = json.loads((Path(__file__).parent / "corpus_counts.json").read_text())


def test_every_quote_is_verbatim_at_its_offsets() -> None:
    texts = {s["id"]: s["text"] for s in DATASET.sources}
    for claim in DATASET.claims:
        text = texts[claim["source_id"]]
        assert text[claim["quote_start"] : claim["quote_end"]] == claim["quote"], claim["id"]
    for claim in ORACLE.claims:  # independently of the ingestion code
        assert claim.quote in ORACLE.texts[claim.source], claim.id


def test_source_texts_are_the_received_documents() -> None:
    shared = SEEDS.parent.parent / "shared" / "seeds"
    for source in DATASET.sources:
        received = shared / source["file"]
        if received.exists():
            assert received.read_bytes() == source["text"].encode("utf-8"), source["file"]


def test_ids_unique_and_references_resolve() -> None:
    ids = [c.id for c in ORACLE.claims]
    assert len(ids) == len(set(ids))
    topics = {t["id"] for t in DATASET.topics}
    entities = {e["id"] for e in DATASET.entities}
    for claim in ORACLE.claims:
        assert claim.topics and claim.topics <= topics, claim.id
        assert claim.entities <= entities, claim.id
    assert {"trade", "defense", "climate", "arctic"} <= topics


def test_statements_are_not_copies_of_quotes_only() -> None:
    for claim in DATASET.claims:
        assert len(claim["statement"]) >= 20, claim["id"]


def test_quantities_are_stated_in_their_quotes() -> None:
    quotes = {c["id"]: c["quote"] for c in DATASET.claims}
    for quantity in DATASET.quantities:
        assert quantity["as_stated"] in quotes[quantity["claim_id"]]


# How a statement names whose word it is (seeds/README.md, "Editorial standard for statements").
ATTRIBUTION = re.compile(
    r"According to the (State Department's .*fact sheet|Government of Canada|article), "
    r"|State Department|Government of Canada|the article|(Pompeo|Blinken) said"
)


def test_figures_positions_and_rhetoric_are_attributed_to_their_source() -> None:
    """A number, a stated view or a slogan is the source's, never the dataset's own voice."""
    quantified = {q["claim_id"] for q in DATASET.quantities}
    for claim in DATASET.claims:
        if claim["id"] in quantified or claim["kind"] in ("position", "rhetoric"):
            assert ATTRIBUTION.search(claim["statement"]), claim["id"]


def test_an_attribution_names_the_claims_own_source() -> None:
    prefixes = {
        "gac-canada-united-states-relations": "According to the Government of Canada, ",
        "article-us-canada-relationship-undated": "According to the article, ",
    }
    for claim in DATASET.claims:
        statement = claim["statement"]
        if statement.startswith("According to"):
            expected = prefixes.get(claim["source_id"], "According to the State Department's ")
            assert statement.startswith(expected), claim["id"]


def test_arctic_claims_name_the_arctic_entity() -> None:
    """The topics.yaml rule for `arctic`: topic and entity go together."""
    topics = {(t["claim_id"], t["topic_id"]) for t in DATASET.claim_topics}
    entities = {(e["claim_id"], e["entity_id"]) for e in DATASET.claim_entities}
    for claim in DATASET.claims:
        key = (claim["id"], "arctic")
        assert (key in topics) == (key in entities), claim["id"]


def test_parts_restate_a_top_level_claim_and_short_quotes_are_widened() -> None:
    parents = {c["part_of"] for c in DATASET.claims if c["part_of"]}
    by_id = {c["id"]: c for c in DATASET.claims}
    assert parents, "restatements are linked to the claim they restate"
    for parent in parents:
        assert by_id[parent]["part_of"] is None, parent
    for claim in DATASET.claims:
        if claim["part_of"]:  # a restatement is the same kind of sentence as what it restates
            assert claim["kind"] == by_id[claim["part_of"]]["kind"], claim["id"]
    for claim in DATASET.claims:
        if len(claim["quote"].split()) <= 5:  # must stand alone: one of these reviewed claims
            assert claim["id"] in SHORT_QUOTES_THAT_STAND_ALONE, claim["id"]


def test_claims_that_share_a_quote_are_linked() -> None:
    """Two claims on one quote are a restatement: one is part of the other, or both are parts
    of the same claim, so `part_of=none` shows the quote once."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for claim in DATASET.claims:
        other = first.setdefault((claim["source_id"], claim["quote"]), claim)
        if other is not claim:
            linked = {claim["part_of"], other["part_of"]} & {claim["id"], other["id"]}
            siblings = claim["part_of"] is not None and claim["part_of"] == other["part_of"]
            assert linked or siblings, (other["id"], claim["id"])


# Reviewed: each of these quotes supports its statement without the surrounding text.
SHORT_QUOTES_THAT_STAND_ALONE = {
    "gc-climate-change-knows-no-borders",
    "gc-global-challenges-global-solutions",
}


@pytest.mark.parametrize("source", [s["id"] for s in DATASET.sources])
def test_every_content_sentence_is_covered(source: str) -> None:
    report = {r.source_id: r for r in coverage(DATASET)}[source]
    assert [s.text for s in report.uncovered] == []


def test_pinned_counts_per_source_and_topic() -> None:
    per_source = Counter(c["source_id"] for c in DATASET.claims)
    per_topic = Counter(t["topic_id"] for t in DATASET.claim_topics)
    assert dict(per_source) == CORPUS_COUNTS["per_source"]
    assert dict(per_topic) == CORPUS_COUNTS["per_topic"]
    assert dict(Counter(c["kind"] for c in DATASET.claims)) == CORPUS_COUNTS["per_kind"]
    assert len(DATASET.claims) == CORPUS_COUNTS["claims"]


def test_stored_claim_documents_match_the_response_model_and_the_rows() -> None:
    """claim.doc is served as stored, so it must be exactly what ClaimOut documents."""
    from app.api.schemas import ClaimOut

    topics: dict[str, set[str]] = {}
    for link in DATASET.claim_topics:
        topics.setdefault(link["claim_id"], set()).add(link["topic_id"])
    sources = {s["id"]: s for s in DATASET.sources}
    for claim in DATASET.claims:
        document = json.loads(claim["doc"])
        validated = ClaimOut.model_validate(document).model_dump(mode="json")
        assert validated == document, claim["id"]
        assert document["id"] == claim["id"]
        assert document["quote"] == claim["quote"]
        assert (document["start"], document["end"]) == (claim["quote_start"], claim["quote_end"])
        assert set(document["topics"]) == topics[claim["id"]]
        assert document["source"]["id"] == claim["source_id"]
        assert document["source"]["publisher"] == sources[claim["source_id"]]["publisher"]
        assert document["highlights"] is None
