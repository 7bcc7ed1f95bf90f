"""Capacity of the pieces of the scale topology, for the README's sizing table.

One `bilateral serve` worker on a fresh Postgres database (the real seeds), measured with wrk:
directly with its in-process response cache off (every request runs its queries: the per-worker
cost on Postgres), and through nginx with deploy/nginx/nginx.conf, on a proxy hit (one URL,
answered from nginx's cache) and on a proxy miss (every request a new cache key, so each one
goes through nginx to the worker and is stored). Loopback only, bounded, then everything is
removed.

    uv run python -m bench.scale --seconds 5 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from bench.run import (
    CURSOR_SECRET,
    REPEATED,
    fresh_postgres_database,
    ingest,
    sample_paths,
    wrk,
)
from bench.server import ROOT, running_api, running_nginx

SEEDS = ROOT / "seeds"
# A new cache key for every request: the key includes X-Min-Dataset-Ingested-At, which the API
# ignores when it is not a date.
UNIQUE_KEY = (
    "local n = 0\n"
    "request = function()\n"
    "  n = n + 1\n"
    "  return wrk.format('GET', paths[math.random(#paths)],"
    " {['X-Min-Dataset-Ingested-At'] = 'bench-' .. n})\n"
    "end\n"
)


def drop_database(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="server URL: a fresh database `bf_bench_scale` is created there and dropped after",
    )
    args = parser.parse_args()
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        print("bench.scale: nginx is not installed", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="bf-bench-scale-"))
    url = fresh_postgres_database(args.postgres, "bf_bench_scale")
    results: dict[str, dict[str, float]] = {}
    try:
        ingest(SEEDS, url)
        sqlite = work / "paths.db"
        ingest(SEEDS, f"sqlite:///{sqlite}")
        filtered = sample_paths(sqlite, random.Random(11))["filtered"]
        env = {
            "DATABASE_URL": url,
            "WORKERS": "1",
            "RESPONSE_CACHE_ENTRIES": "0",
            "CURSOR_SECRET": CURSOR_SECRET,
        }
        with running_api(env, quiet=True) as api:
            if (os.cpu_count() or 1) >= 2:
                os.sched_setaffinity(api.pid, {0})  # wrk runs pinned to the other core
            seconds, connections = args.seconds, args.connections
            wrk(api.base, filtered, 1, connections)  # warm-up: plans, pool, page cache
            results["worker, Postgres, no cache (filtered mix)"] = wrk(
                api.base, filtered, seconds, connections
            )
            with running_nginx([api.base.removeprefix("http://")]) as proxy:
                wrk(proxy.base, [REPEATED], 1, connections)
                results["nginx hit (one URL)"] = wrk(proxy.base, [REPEATED], seconds, connections)
                results["nginx miss -> worker (filtered mix)"] = wrk(
                    proxy.base, filtered, seconds, connections, request=UNIQUE_KEY
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        drop_database(args.postgres, "bf_bench_scale")
    print(json.dumps(results, indent=2))
    print("\n| path | req/s | p50 ms | p99 ms |\n|---|---|---|---|")
    for name, stats in results.items():
        print(f"| {name} | {stats['rps']:.0f} | {stats['p50_ms']:.1f} | {stats['p99_ms']:.1f} |")
    bad = {name: s for name, s in results.items() if s["rps"] <= 0 or s["non_2xx"] > 0}
    for name, stats in bad.items():
        print(f"bench.scale: no answer or non-2xx answers: {name}: {stats}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
