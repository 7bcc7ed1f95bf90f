#!/usr/bin/env python3
"""Run docker-compose.yml's own commands against a fresh local Postgres cluster, then query the API.

No Docker engine runs on our machines, so CI proves the deployment this way, replaying what
`docker compose up` does on a fresh volume, with the environment compose gives each service
(values from .env.example unless the environment sets them; the host `db` becomes 127.0.0.1):

1. the `ingest` command starts first and must wait (`migrate --wait`) while the server is down;
2. the `db` init: a socket-only server (the `db` healthcheck, over TCP, must fail meanwhile)
   runs deploy/postgres/init-roles.sh, then the server restarts on TCP (healthcheck passes);
3. `ingest` then completes as the writer role;
4. the `api` command serves as the reader role (its start-up check refuses a role that can
   write) and answers /readyz and an Arctic query.

    uv run python scripts/compose_smoke.py
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # find tests/ and bench/
from bench.server import free_port
from tests import pg_cluster
from tests.compose_env import ROOT, env_example, expand


def service_env(service: dict[str, Any], port: int, values: dict[str, str]) -> dict[str, str]:
    env = {k: expand(str(v), values) for k, v in (service.get("environment") or {}).items()}
    if "DATABASE_URL" in env:
        env["DATABASE_URL"] = env["DATABASE_URL"].replace("@db:5432/", f"@127.0.0.1:{port}/")
    if env.get("SEEDS_DIR") == "/srv/seeds":
        env["SEEDS_DIR"] = str(ROOT / "seeds")
    return {**os.environ, **env}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def healthy(db: dict[str, Any], port: int) -> bool:
    probe = [str(a) for a in db["healthcheck"]["test"][1:]]  # drop "CMD"
    probe = [str(port) if a == "5432" else a for a in probe]
    return subprocess.run(probe, capture_output=True).returncode == 0


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def main() -> int:
    if not pg_cluster.available():
        raise SystemExit("compose smoke: initdb, pg_ctl and psql are needed")
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    values = {**env_example(), **os.environ}
    db_env = {k: expand(str(v), values) for k, v in services["db"]["environment"].items()}
    server = None
    with pg_cluster.private_cluster(start=False) as cluster:
        ingest = subprocess.Popen(
            command(services["ingest"]),
            env=service_env(services["ingest"], cluster.port, values),
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert ingest.stderr is not None
            first = ingest.stderr.readline()  # the server is not up: the job must say it waits
            assert first.startswith("waiting for database"), first
            assert ingest.poll() is None, "ingest: gave up before the database came up"
            cluster.start(tcp=False)
            assert not healthy(services["db"], cluster.port), "db: healthy while socket-only"
            cluster.psql("postgres", "-c", f'CREATE DATABASE "{db_env["POSTGRES_DB"]}"')
            subprocess.run(
                ["sh", str(ROOT / "deploy" / "postgres" / "init-roles.sh")],
                env={**os.environ, **db_env, "PGHOST": str(cluster.socket_dir),
                     "PGPORT": str(cluster.port),
                     "BILATERAL_ROLES_SQL": str(ROOT / "deploy" / "postgres" / "roles.sql")},
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            cluster.stop()
            cluster.start(tcp=True)
            assert healthy(services["db"], cluster.port), "db: not healthy over TCP"
            print("db: initialised (roles locked down), healthy over TCP", flush=True)
            _, errors = ingest.communicate(timeout=180)
        finally:
            if ingest.poll() is None:
                ingest.kill()
        assert ingest.returncode == 0, first + errors
        print("ingest: waited for the database, then completed successfully", flush=True)

        api = services["api"]
        port = free_port()
        args = [
            (str(port) if a == "8000" else ("127.0.0.1" if a == "0.0.0.0" else a))
            for a in command(api)
        ]
        api_env = service_env(api, cluster.port, values)
        server = subprocess.Popen(args, env=api_env, cwd=ROOT, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    ready = get_json(f"{base}/readyz")
                    break
                except OSError:
                    assert server.poll() is None, "api: exited at start-up"
                    time.sleep(0.2)
            else:
                raise SystemExit("api: /readyz never answered")
            print(f"api: ready, dataset {ready['dataset_version']} with {ready['claims']} claims")
            page = get_json(f"{base}/v1/claims?topic=arctic&published_from=2021-01-01")
            assert page["total"] > 0 and all("arctic" in c["topics"] for c in page["items"]), page
            who = create_engine(api_env["DATABASE_URL"])
            with who.connect() as conn:
                role = conn.execute(text("SELECT current_user")).scalar_one()
            who.dispose()
            assert role == "bilateral_reader", role
            print(f"api: answered {page['total']} Arctic claims as role {role}; compose smoke ok")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
