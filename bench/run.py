"""The benchmark: our API vs a bare Starlette ceiling vs Datasette, on loopback, in one run.

    uv run python -m bench.run                      # sizes 1000 and 100000, 10 s per measurement
    uv run python -m bench.run --sizes 1000 --seconds 2 --passes 1   # the CI smoke run

For each corpus size it generates synthetic seeds (bench/synth.py), ingests them (throughput),
starts each server with one worker pinned to core 0 (taskset, when there are 2+ cores), drives
it with wrk pinned to the other core (32 connections; a bounded Python generator when wrk is
missing) in alternating order over several passes, and reports req/s, p50 and p99, the ratios
ours/ceiling and ours/Datasette, our resident memory and cold start. Results go to
bench/out/results.json; copy the table into bench/RESULTS.md with the machine described.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from app.pagination import Cursor, CursorSigner
from bench.server import free_port, wait_until_up
from bench.synth import generate

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
REPEATED = "/v1/claims?topic=trade&published_from=2010-01-01&limit=50"
CURSOR_SECRET = "bench-cursor-secret"  # the sampled cursors are signed with it (a local bench only)
DATASETTE_SQL = (
    "select claim.id, claim.statement, claim.quote, claim.quote_start, claim.quote_end, "
    "source.id as source_id, source.published from claim join source on source.id = "
    "claim.source_id where claim.id in (select claim_id from claim_topic where topic_id = "
    "'trade') and source.published_earliest >= '2010-01-01' order by claim.id limit 50"
)


def pinned(argv: list[str], core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core), *argv]
    return argv


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], health: str) -> None:
        self.process = subprocess.Popen(
            pinned(argv, 0), env={**os.environ, **env}, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.cold_start = wait_until_up(health)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


RANDOM_PATH = "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"


def wrk(
    base: str, paths: list[str], seconds: float, connections: int, request: str = RANDOM_PATH
) -> dict[str, float]:
    """req/s, p50, p99 and non-2xx count; `request` is the Lua that picks each request."""
    if shutil.which("wrk") is None:
        return python_load(base, paths, seconds, min(connections, 8))
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    listed = ",".join(json.dumps(p) for p in paths)
    script.write_text(f"local paths = {{{listed}}}\nmath.randomseed(7)\n{request}")
    duration = f"-d{max(1, round(seconds))}s"
    argv = ["wrk", "-t1", f"-c{connections}", duration, "--latency", "-s", str(script), base]
    out = subprocess.run(pinned(argv, 1), capture_output=True, text=True, check=True).stdout
    script.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"),
            "non_2xx": float(non2xx.group(1)) if non2xx else 0.0}  # fmt: skip


def python_load(base: str, paths: list[str], seconds: float, connections: int) -> dict[str, float]:
    """A bounded fallback load generator (used only when wrk is not installed)."""
    import asyncio

    import httpx

    latencies: list[float] = []
    rng = random.Random(7)

    async def run() -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=base) as client:

            async def worker() -> None:
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    await client.get(rng.choice(paths))
                    latencies.append((time.perf_counter() - started) * 1000)

            await asyncio.gather(*(worker() for _ in range(connections)))

    asyncio.run(run())
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "non_2xx": 0.0,
    }


TOPICS = ["trade", "economy", "energy", "defense", "arctic", "climate", "border", "health"]


def sample_paths(database: Path, rng: random.Random, n: int = 400) -> dict[str, list[str]]:
    """Query mixes over the ingested corpus. `filtered` is n distinct filter combinations
    (single and combined filters, deep keyset pages): served without a response cache it is the
    cache-miss mix. Full text and detail-by-id are mixes of their own."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        ids = sorted(r[0] for r in db.execute("SELECT id FROM claim"))
        entities = [r[0] for r in db.execute("SELECT id FROM entity")]
        version = db.execute("SELECT version FROM dataset").fetchone()[0]
    signer = CursorSigner(CURSOR_SECRET.encode())  # the servers get the same CURSOR_SECRET

    def cursor(claim_id: str) -> str:
        return signer.encode(Cursor(sort="id", key=None, id=claim_id), version)

    deep_cursor = cursor(ids[len(ids) * 3 // 4])

    def single() -> str:
        return rng.choice([
            f"topic={rng.choice(TOPICS)}",
            f"country={rng.choice(['US', 'CA', 'unknown'])}",
            f"published_from={rng.randint(2005, 2024)}-01-01",
            f"period_from={rng.randint(1950, 2024)}-01-01",
            f"entity={rng.choice(entities)}",
            "unit=USD",
        ])  # fmt: skip

    def combined() -> str:
        return rng.choice([
            f"topic={rng.choice(TOPICS)}&published_from={rng.randint(2005, 2024)}-01-01",
            f"topic={rng.choice(TOPICS)}&country={rng.choice(['US', 'CA'])}"
            f"&period_from={rng.randint(1950, 2024)}-01-01",
            f"topic={rng.choice(TOPICS)}&topic={rng.choice(TOPICS)}&published_to="
            f"{rng.randint(2005, 2024)}-12-31",
        ])  # fmt: skip

    filtered: set[str] = set()
    while len(filtered) < n:
        kind = rng.randrange(5)
        query = single() if kind < 2 else combined() if kind < 4 else f"topic={rng.choice(TOPICS)}"
        page = f"&cursor={cursor(rng.choice(ids))}" if kind == 4 else ""
        filtered.add(f"/v1/claims?{query}&limit={rng.randint(10, 60)}{page}")
    return {
        "repeated": [REPEATED],
        "filtered": sorted(filtered),
        "deep_page": [f"{REPEATED}&cursor={deep_cursor}"],
        "fulltext": [
            f"/v1/claims?q={rng.choice(TOPICS)}%20{rng.choice(TOPICS)}&limit={rng.randint(5, 40)}"
            for _ in range(n)
        ],
        "detail": [f"/v1/claims/{rng.choice(ids)}" for _ in range(n)],
    }


def ingest(seeds: Path, url: str) -> float:
    """Seconds to ingest the seeds into `url` (a fresh database), validation included."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(seeds)],
        env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return time.monotonic() - started


def fresh_postgres_database(server_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def bench_size(
    size: int, seconds: float, passes: int, connections: int, postgres: str | None
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bf-bench-{size}-"))
    seeds = work / "seeds"
    generate(seeds, size)
    database = work / "bench.db"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "warning",
        "CURSOR_SECRET": CURSOR_SECRET,
        # The ceiling runs on uvicorn's default parser (httptools); ours does too, as behind the
        # proxy, so the ratios compare the applications. `ours_h11` shows the default parser.
        "HTTP_PARSER": "httptools",
    }
    ingest_seconds = ingest(seeds, env["DATABASE_URL"])
    result: dict[str, Any] = {
        "claims": size,
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_claims_per_second": round(size / ingest_seconds),
    }
    mixes = sample_paths(database, random.Random(size))
    port = free_port()
    ours_cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    no_cache = {"RESPONSE_CACHE_ENTRIES": "0"}
    uncached_mixes = ["repeated", "filtered", "deep_page", "fulltext", "detail"]
    servers: dict[str, tuple[list[str], dict[str, str], int, list[str]]] = {
        "ours": (ours_cmd, env, port, ["repeated", "filtered"]),
        "ours_no_cache": (ours_cmd, {**env, **no_cache}, port, uncached_mixes),
        "ours_h11": (ours_cmd, {**env, "HTTP_PARSER": "h11"}, port, ["repeated"]),
    }
    probe = Server(ours_cmd, env, f"http://127.0.0.1:{port}/readyz")
    result["cold_start_seconds"] = round(probe.cold_start, 3)
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(base + REPEATED) as response:
        payload = response.read()
    for path in [p for mix in uncached_mixes for p in mixes[mix][:100]]:
        urllib.request.urlopen(base + path).read()
    result["rss_mb_after_queries"] = round(rss_mb(probe.process.pid), 1)
    probe.stop()
    if postgres:
        pg_url = fresh_postgres_database(postgres, f"bf_bench_{size}")
        pg_seconds = ingest(seeds, pg_url)
        result["postgres_ingest_claims_per_second"] = round(size / pg_seconds)
        pg_env = {
            "DATABASE_URL": pg_url,
            "LOG_LEVEL": "warning",
            "CURSOR_SECRET": CURSOR_SECRET,
            "HTTP_PARSER": "httptools",
            **no_cache,
        }
        servers["postgres_no_cache"] = (
            ours_cmd, pg_env, port, ["repeated", "filtered", "fulltext"]
        )  # fmt: skip
    payload_file = work / "payload.json"
    payload_file.write_bytes(payload)
    ceiling_port, datasette_port = free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    servers["ceiling"] = (
        [*uvicorn, "bench.ceiling:app", "--port", str(ceiling_port)],
        {"BENCH_PAYLOAD": str(payload_file)},
        ceiling_port,
        ["repeated"],
    )
    datasette = Path(sys.executable).parent / "datasette"
    if datasette.exists():
        servers["datasette"] = (
            [str(datasette), "serve", "--immutable", str(database), "--port", str(datasette_port),
             "--setting", "sql_time_limit_ms", "5000"],
            {},
            datasette_port,
            ["repeated"],
        )  # fmt: skip
    datasette_path = "/bench.json?_shape=array&sql=" + urllib.request.quote(DATASETTE_SQL)
    runs: dict[str, dict[str, list[dict[str, float]]]] = {}
    order = list(servers)
    for n in range(passes):
        for name in order if n % 2 == 0 else list(reversed(order)):
            argv, extra, server_port, plan = servers[name]
            server = Server(argv, extra, f"http://127.0.0.1:{server_port}/")
            url = f"http://127.0.0.1:{server_port}"
            for mix in plan:
                paths = [datasette_path] if name == "datasette" else mixes[mix]
                runs.setdefault(name, {}).setdefault(mix, []).append(
                    wrk(url, paths, seconds, connections)
                )
            single = wrk(url, [datasette_path] if name == "datasette" else [REPEATED], 1, 1)
            runs[name].setdefault("single_connection", []).append(single)
            if "fulltext" in plan:  # the full-text target is a latency on one connection
                alone = wrk(url, mixes["fulltext"], seconds, 1)
                runs[name].setdefault("fulltext_single_connection", []).append(alone)
            server.stop()
    best = {
        name: {mix: max(samples, key=lambda s: s["rps"]) for mix, samples in mixes_.items()}
        for name, mixes_ in runs.items()
    }
    result["servers"] = best
    result["ratios"] = ratios(best)
    shutil.rmtree(work, ignore_errors=True)
    return result


def ratios(best: dict[str, dict[str, dict[str, float]]]) -> dict[str, float]:
    """The issue's targets, as ratios against the ceiling measured in the same run."""
    ceiling = best["ceiling"]["repeated"]
    ours, uncached = best["ours"], best["ours_no_cache"]
    out = {
        "cached_repeated_vs_ceiling": ours["repeated"]["rps"] / ceiling["rps"],
        "cached_filtered_vs_ceiling": ours["filtered"]["rps"] / ceiling["rps"],
        "uncached_repeated_vs_ceiling": uncached["repeated"]["rps"] / ceiling["rps"],
        "uncached_filtered_vs_ceiling": uncached["filtered"]["rps"] / ceiling["rps"],
        "cached_p99_vs_ceiling_p99": ours["repeated"]["p99_ms"] / ceiling["p99_ms"],
        "uncached_p99_vs_ceiling_p99": uncached["filtered"]["p99_ms"] / ceiling["p99_ms"],
        "uncached_single_connection_p50_ms": uncached["single_connection"]["p50_ms"],
        "fulltext_single_connection_p50_ms": uncached["fulltext_single_connection"]["p50_ms"],
    }
    if "ours_h11" in best:  # the same app on the default parser, which enforces header limits
        out["cached_repeated_h11_vs_ceiling"] = best["ours_h11"]["repeated"]["rps"] / ceiling["rps"]
    if "datasette" in best:
        datasette = best["datasette"]["repeated"]["rps"]
        out["uncached_repeated_vs_datasette"] = uncached["repeated"]["rps"] / datasette
    if "postgres_no_cache" in best:
        postgres = best["postgres_no_cache"]
        out["postgres_uncached_repeated_vs_ceiling"] = postgres["repeated"]["rps"] / ceiling["rps"]
        out["postgres_uncached_filtered_vs_ceiling"] = postgres["filtered"]["rps"] / ceiling["rps"]
        out["postgres_fulltext_single_connection_p50_ms"] = postgres["fulltext_single_connection"][
            "p50_ms"
        ]
    return {name: round(value, 3) for name, value in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres): also "
        "ingest into and serve from a fresh database there",
    )
    args = parser.parse_args()
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "wrk": bool(shutil.which("wrk"))},
        "sizes": [bench_size(int(s), args.seconds, args.passes, args.connections, args.postgres)
                  for s in args.sizes.split(",")],
    }  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    failed = [
        f"{size['claims']} claims, {name}, {mix}: {stats}"
        for size in report["sizes"]
        for name, mixes in size["servers"].items()
        if name != "datasette"  # not ours: its time limit may turn slow queries into errors
        for mix, stats in mixes.items()
        if stats["rps"] <= 0 or stats["non_2xx"] > 0
    ]
    for failure in failed:
        print(f"bench: no answer or non-2xx answers: {failure}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
