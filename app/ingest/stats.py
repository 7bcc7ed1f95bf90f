"""The corpus counts the README's table and tests/corpus_counts.json pin, from one dataset."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from app.ingest.dataset import CuratedSeeds

TABLE_START = "<!-- bilateral stats: begin -->"
TABLE_END = "<!-- bilateral stats: end -->"


def stats_table(ds: CuratedSeeds) -> str:
    """Claims per topic (rows) and source (columns), as a Markdown table."""
    sources = [s["id"] for s in ds.sources]
    counts = {(c["topic_id"], c["source_id"]): c["claims"] for c in ds.claim_counts}
    lines = [
        "| topic | claims | " + " | ".join(f"`{s}`" for s in sources) + " |",
        "|---|---|" + "---|" * len(sources),
    ]
    for topic in sorted(t["id"] for t in ds.topics):
        row = [counts.get((topic, s), 0) for s in sources]
        lines.append(f"| {topic} | {sum(row)} | " + " | ".join(map(str, row)) + " |")
    per_source = [counts.get(("*", s), 0) for s in sources]
    lines.append(
        f"| **all claims** | {len(ds.claims)} | " + " | ".join(map(str, per_source)) + " |"
    )
    return "\n".join(lines) + "\n"


def corpus_counts(ds: CuratedSeeds) -> dict[str, Any]:
    """What tests/corpus_counts.json pins: claims in all, per source, topic and kind."""
    return {
        "claims": len(ds.claims),
        "per_source": dict(sorted(Counter(c["source_id"] for c in ds.claims).items())),
        "per_topic": dict(sorted(Counter(t["topic_id"] for t in ds.claim_topics).items())),
        "per_kind": dict(sorted(Counter(c["kind"] for c in ds.claims).items())),
    }


def write_readme_table(readme: Path, table: str) -> None:
    """Replace what lies between the two marker comments in the README with the table."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start == -1 or end < start:
        raise ValueError(f"{readme}: no {TABLE_START} ... {TABLE_END} markers around the table")
    head = text[: start + len(TABLE_START)]
    readme.write_text(head + "\n" + table + text[end:], encoding="utf-8")
