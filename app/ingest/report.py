"""What an ingest did, or would have done, by name: for the operator reading its output."""

from __future__ import annotations

from app.ingest.load import MAX_REMOVED_SHARE, IngestSummary

IDS_SHOWN = 20


def refusal(summary: IngestSummary) -> str:
    """Why an ingest was refused, what it would have removed, and how to proceed."""
    sources = summary.source_changes.removed
    share = summary.removed / summary.served_claims if summary.served_claims else 0.0
    what = f"{summary.removed} of {summary.served_claims} claims ({share:.1%})"
    what = f"{len(sources)} whole source(s) and {what}" if sources else what
    lines = [
        f"error: this ingest would remove {what} of the served dataset (the limit without "
        f"--allow-removals is no whole source and at most {MAX_REMOVED_SHARE:.0%} of the "
        "claims). Is a seed file missing or renamed?",
        *(f"  {line}" for line in change_lines(summary, removals_only=True)),
        "nothing was written; if these removals are intended, run again with --allow-removals.",
    ]
    return "\n".join(lines)


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:IDS_SHOWN])
    return shown + (f" and {len(ids) - IDS_SHOWN} more" if len(ids) > IDS_SHOWN else "")


def change_lines(summary: IngestSummary, removals_only: bool = False) -> list[str]:
    """What an ingest adds, changes and removes, by name: sources, claims (with a count per
    source) and entities; ids beyond IDS_SHOWN per line are counted, not listed."""
    lines = []
    kinds = ("removed",) if removals_only else ("added", "changed", "removed")
    for what, change in (
        ("sources", summary.source_changes),
        ("claims", summary.claim_changes),
        ("entities", summary.entity_changes),
    ):
        for kind in kinds:
            ids: list[str] = getattr(change, kind)
            if not ids:
                continue
            per_source = ""
            if what == "claims":
                counts = change.per_source(ids)
                per_source = " (" + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())) + ")"
            lines.append(f"{what} {kind}: {len(ids)}{per_source}: {_ids(ids)}")
    return lines
