"""Render bench/out/results.json as the Markdown tables of bench/RESULTS.md.

uv run python -m bench.report [results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.run import OUT


def size_table(size: dict[str, Any]) -> str:
    ceiling = size["servers"]["ceiling"]["repeated"]["rps"]
    lines = [
        f"### {size['claims']:,} claims",
        "",
        "| server | mix | req/s | vs ceiling | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, mixes in size["servers"].items():
        for mix, stats in mixes.items():
            ratio = "" if mix.endswith("single_connection") else f"{stats['rps'] / ceiling:.3f}"
            lines.append(
                f"| {name} | {mix} | {stats['rps']:,.0f} | {ratio} | "
                f"{stats['p50_ms']:.3g} | {stats['p99_ms']:.3g} |"
            )
    facts = {
        key: value for key, value in size.items() if key not in ("servers", "ratios", "claims")
    }
    lines += ["", ", ".join(f"{key}: {value:,}" for key, value in facts.items()), ""]
    lines += [", ".join(f"{key}: {value}" for key, value in size["ratios"].items()), ""]
    return "\n".join(lines)


Target = tuple[str, float | None, str, bool | None]


def targets(sizes: list[dict[str, Any]]) -> list[Target]:
    """Issue 16's targets against this run: (measure, value, target, met). The smallest size
    stands for "1k" and the largest for "1M"; a measure the run did not take is None."""
    small, large = sizes[0], sizes[-1]
    big = f"{large['claims']:,}"

    def ratio(size: dict[str, Any], name: str) -> float | None:
        value = size["ratios"].get(name)
        return None if value is None else float(value)

    def at_least(value: float | None, bound: float) -> bool | None:
        return None if value is None else value >= bound

    def at_most(value: float | None, bound: float) -> bool | None:
        return None if value is None else value <= bound

    repeated_small = ratio(small, "uncached_repeated_vs_ceiling")
    repeated_large = ratio(large, "uncached_repeated_vs_ceiling")
    change = (
        repeated_large / repeated_small - 1
        if repeated_small and repeated_large is not None
        else None
    )
    filtered = ratio(large, "uncached_filtered_vs_ceiling")
    non_2xx = sum(
        stats["non_2xx"]
        for name, mixes in large["servers"].items()
        if name != "datasette"
        for stats in mixes.values()
    )
    cached = min(
        value
        for size in sizes
        for value in (
            ratio(size, "cached_repeated_vs_ceiling"),
            ratio(size, "cached_filtered_vs_ceiling"),
        )
        if value is not None
    )
    fulltext = ratio(large, "fulltext_single_connection_p50_ms")
    rows: list[Target] = [
        (f"uncached repeated, {small['claims']:,} claims, vs ceiling", repeated_small, ">= 0.25",
         at_least(repeated_small, 0.25)),
        (f"uncached repeated, {big} vs {small['claims']:,} (change)", change, "within 20%",
         None if change is None else abs(change) <= 0.20),
        (f"uncached filtered mix, {big}, vs ceiling", filtered, ">= 0.05, 0 non-2xx",
         None if filtered is None else filtered >= 0.05 and non_2xx == 0),
        (f"non-2xx answers, {big} (all our servers and mixes)", non_2xx, "0", non_2xx == 0),
        (f"full text, {big}, one connection, p50 ms", fulltext, "<= 50", at_most(fulltext, 50)),
        (f"full text on Postgres, {big}, one connection, p50 ms",
         ratio(large, "postgres_fulltext_single_connection_p50_ms"), "<= 50",
         at_most(ratio(large, "postgres_fulltext_single_connection_p50_ms"), 50)),
        (f"Postgres uncached repeated, {big}, vs ceiling",
         ratio(large, "postgres_uncached_repeated_vs_ceiling"), ">= 0.15",
         at_least(ratio(large, "postgres_uncached_repeated_vs_ceiling"), 0.15)),
        (f"ingest, SQLite, {big}, claims/s", large.get("ingest_claims_per_second"), ">= 50,000",
         at_least(large.get("ingest_claims_per_second"), 50_000)),
        (f"ingest, Postgres, {big}, claims/s", large.get("postgres_ingest_claims_per_second"),
         ">= 50,000", at_least(large.get("postgres_ingest_claims_per_second"), 50_000)),
        ("cache hits vs ceiling (lowest, every size)", cached, ">= 0.70", at_least(cached, 0.70)),
        (f"RSS after queries, {big}, MB", large.get("rss_mb_after_queries"), "<= 150",
         at_most(large.get("rss_mb_after_queries"), 150)),
    ]  # fmt: skip
    return rows


def targets_table(sizes: list[dict[str, Any]]) -> str:
    lines = ["### Targets", "", "| measure | this run | target | met |", "|---|---|---|---|"]
    for measure, value, target, met in targets(sizes):
        shown = (
            "not measured"
            if value is None
            else f"{value:,.0f}"
            if abs(value) >= 100
            else f"{value:.3g}"
        )
        verdict = "n/a" if met is None else "yes" if met else "**no**"
        lines.append(f"| {measure} | {shown} | {target} | {verdict} |")
    return "\n".join([*lines, ""])


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT / "results.json"
    report = json.loads(path.read_text())
    print(f"Machine: {report['machine']}\n")
    print(targets_table(report["sizes"]))
    for size in report["sizes"]:
        print(size_table(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
