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
            ratio = f"{stats['rps'] / ceiling:.3f}" if mix != "single_connection" else ""
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


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT / "results.json"
    report = json.loads(path.read_text())
    print(f"Machine: {report['machine']}\n")
    for size in report["sizes"]:
        print(size_table(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
