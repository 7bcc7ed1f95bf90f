"""A bounded soak test on loopback: mixed queries at fixed concurrency for a fixed time.

    uv run python -m bench.soak --seconds 300 --connections 32      # the 5-minute soak
    uv run python -m bench.soak --seconds 15 --connections 8         # the short one CI runs

It ingests the seeds into a temporary SQLite file, starts `bilateral serve` on a free port,
drives it with httpx from asyncio, and reports requests, non-2xx count, p50/p99 latency and the
server's resident memory growth after warm-up. Exit code 1 if any non-2xx answer or memory grew
by 5% or more. It only ever talks to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.server import running_api

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "/v1/claims?topic=trade&limit=50",
    "/v1/claims?topic=arctic&published_from=2021-01-01",
    "/v1/claims?q=NORAD",
    "/v1/claims?country=CA&sort=-published&limit=20",
    "/v1/claims?entity=USMCA",
    "/v1/claims?unit=USD&min_value=1000000000",
    "/v1/timeline?topic=defense",
    "/v1/figures/land-ports-of-entry",
    "/v1/figures",
    "/v1/topics",
    "/v1/sources",
    "/v1/entities?kind=person",
    "/v1/claims?facet=topic&facet=source&limit=1",
    "/v1/claims?format=csv&topic=climate",
]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def drive(
    base: str, seconds: float, connections: int, rng: random.Random
) -> list[tuple[int, float]]:
    results: list[tuple[int, float]] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                path = rng.choice(QUERIES)
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                results.append((status, time.perf_counter() - started))

        await asyncio.gather(*(worker() for _ in range(connections)))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=None, help="default: 10%% of --seconds")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else max(2.0, args.seconds * 0.1)

    workdir = Path(tempfile.mkdtemp(prefix="bf-soak-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'soak.db'}", "LOG_LEVEL": "warning"}
    subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(ROOT / "seeds")], env=env,
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    with running_api(env, quiet=True) as server:
        base, server_pid = server.base, server.pid
        rng = random.Random(1)
        asyncio.run(drive(base, warmup, args.connections, rng))
        rss_start = rss_kb(server_pid)
        results = asyncio.run(drive(base, args.seconds, args.connections, rng))
        rss_end = rss_kb(server_pid)
    latencies = [latency for _, latency in results]
    bad = sum(1 for status, _ in results if not 200 <= status < 300)
    growth = (rss_end - rss_start) / rss_start if rss_start else 0.0
    report = {
        "seconds": args.seconds,
        "connections": args.connections,
        "requests": len(results),
        "requests_per_second": round(len(results) / args.seconds, 1),
        "non_2xx": bad,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "rss_after_warmup_kb": rss_start,
        "rss_end_kb": rss_end,
        "rss_growth": round(growth, 4),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if bad == 0 and growth < 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
