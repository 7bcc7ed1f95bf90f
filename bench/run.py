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
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.server import free_port, wait_until_up
from bench.synth import generate

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
REPEATED = "/v1/claims?topic=trade&published_from=2010-01-01&limit=50"
DATASETTE_SQL = (
    "select claim.id, claim.statement, claim.quote, claim.quote_start, claim.quote_end, "
    "source.id as source_id, source.published from claim join source on source.id = "
    "claim.source_id where claim.id in (select claim_id from claim_topic where topic_id = "
    "'trade') and source.published >= '2010-01-01' order by claim.id limit 50"
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


def wrk(base: str, paths: list[str], seconds: float, connections: int) -> dict[str, float]:
    if shutil.which("wrk") is None:
        return python_load(base, paths, seconds, min(connections, 8))
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    listed = ",".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{listed}}}\nmath.randomseed(7)\n"
        "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    )
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


def sample_paths(base: str, rng: random.Random, n: int = 400) -> dict[str, list[str]]:
    """Query mixes: single and combined filters, deep pages, full text, detail by id."""
    topics = ["trade", "economy", "energy", "defense", "arctic", "climate", "border", "health"]
    with urllib.request.urlopen(f"{base}/v1/claims?limit=200&sort=id") as response:
        page = json.load(response)
    ids = [c["id"] for c in page["items"]]
    deep = page["next"] or REPEATED
    for _ in range(5):
        with urllib.request.urlopen(deep) as response:
            nxt = json.load(response)["next"]
        deep = nxt or deep
    deep_path = deep.split("127.0.0.1", 1)[1].split("/", 1)[1]
    mixed = []
    for _ in range(n):
        kind = rng.randrange(5)
        if kind == 0:
            mixed.append(f"/v1/claims?topic={rng.choice(topics)}&limit={rng.randint(10, 60)}")
        elif kind == 1:
            mixed.append(
                f"/v1/claims?topic={rng.choice(topics)}&published_from={rng.randint(2005, 2024)}"
                f"-01-01&limit={rng.randint(10, 60)}"
            )
        elif kind == 2:
            mixed.append(f"/v1/claims?q={rng.choice(topics)}%20figure&limit={rng.randint(5, 40)}")
        elif kind == 3:
            mixed.append(f"/v1/claims/{rng.choice(ids)}")
        else:
            mixed.append(f"/v1/claims?period_from={rng.randint(1950, 2024)}-01-01&limit=20")
    return {"repeated": [REPEATED], "mixed": mixed, "deep_page": ["/" + deep_path]}


def bench_size(size: int, seconds: float, passes: int, connections: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bf-bench-{size}-"))
    seeds = work / "seeds"
    generate(seeds, size)
    database = work / "bench.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "LOG_LEVEL": "warning"}
    started = time.monotonic()
    ingest_argv = [sys.executable, "-m", "app.cli", "ingest", str(seeds)]
    environment = {**os.environ, **env}
    subprocess.run(ingest_argv, env=environment, cwd=ROOT, check=True, capture_output=True)
    ingest_seconds = time.monotonic() - started
    result: dict[str, Any] = {
        "claims": size,
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_claims_per_second": round(size / ingest_seconds),
    }
    rng = random.Random(size)
    port = free_port()
    ours_cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    servers: dict[str, tuple[list[str], dict[str, str], int]] = {
        "ours": (ours_cmd, env, port),
        "ours_no_cache": (ours_cmd, {**env, "RESPONSE_CACHE_ENTRIES": "0"}, port),
    }
    probe = Server(ours_cmd, env, f"http://127.0.0.1:{port}/healthz")
    result["cold_start_seconds"] = round(probe.cold_start, 3)
    base = f"http://127.0.0.1:{port}"
    mixes = sample_paths(base, rng)
    with urllib.request.urlopen(base + REPEATED) as response:
        payload = response.read()
    for path in mixes["mixed"] * 2:
        urllib.request.urlopen(base + path).read()
    result["rss_mb_after_queries"] = round(rss_mb(probe.process.pid), 1)
    probe.stop()
    payload_file = work / "payload.json"
    payload_file.write_bytes(payload)
    ceiling_port, datasette_port = free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    servers["ceiling"] = (
        [*uvicorn, "bench.ceiling:app", "--port", str(ceiling_port)],
        {"BENCH_PAYLOAD": str(payload_file)},
        ceiling_port,
    )
    if shutil.which("datasette") or (Path(sys.executable).parent / "datasette").exists():
        datasette = str(Path(sys.executable).parent / "datasette")
        servers["datasette"] = (
            [datasette, "serve", "--immutable", str(database), "--port", str(datasette_port),
             "--setting", "sql_time_limit_ms", "5000"],
            {},
            datasette_port,
        )  # fmt: skip
    datasette_path = "/bench.json?_shape=array&sql=" + urllib.request.quote(DATASETTE_SQL)
    runs: dict[str, dict[str, list[dict[str, float]]]] = {}
    order = list(servers)
    for n in range(passes):
        for name in order if n % 2 == 0 else list(reversed(order)):
            argv, extra, server_port = servers[name]
            server = Server(argv, extra, f"http://127.0.0.1:{server_port}/")
            url = f"http://127.0.0.1:{server_port}"
            plan = {"repeated": [datasette_path]} if name == "datasette" else mixes
            if name == "ceiling":
                plan = {"repeated": [REPEATED]}
            for mix, paths in plan.items():
                stats = wrk(url, paths, seconds, connections)
                runs.setdefault(name, {}).setdefault(mix, []).append(stats)
            single = wrk(url, plan["repeated"], max(1.0, seconds / 2), 1)
            runs[name].setdefault("single_connection", []).append(single)
            server.stop()
    best = {
        name: {mix: max(samples, key=lambda s: s["rps"]) for mix, samples in mixes_.items()}
        for name, mixes_ in runs.items()
    }
    result["servers"] = best
    ceiling = best["ceiling"]["repeated"]["rps"]
    ours = best["ours"]
    result["ratios"] = {
        "repeated_vs_ceiling": round(ours["repeated"]["rps"] / ceiling, 3),
        "mixed_vs_ceiling": round(ours["mixed"]["rps"] / ceiling, 3),
        "mixed_no_cache_vs_ceiling": round(best["ours_no_cache"]["mixed"]["rps"] / ceiling, 3),
        "p99_vs_ceiling_p99": round(
            ours["repeated"]["p99_ms"] / best["ceiling"]["repeated"]["p99_ms"], 2
        ),
    }
    if "datasette" in best:
        result["ratios"]["repeated_vs_datasette"] = round(
            best["ours_no_cache"]["repeated"]["rps"] / best["datasette"]["repeated"]["rps"], 2
        )
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "wrk": bool(shutil.which("wrk"))},
        "sizes": [bench_size(int(s), args.seconds, args.passes, args.connections)
                  for s in args.sizes.split(",")],
    }  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
