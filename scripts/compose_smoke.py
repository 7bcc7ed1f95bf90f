#!/usr/bin/env python3
"""Run docker-compose.yml's own commands against the local Postgres, then query the API.

No Docker engine runs on our machines, so CI proves the deployment this way: the roles script
the `db` service runs at init, then the `ingest` service's command as the writer role, then the
`api` service's command as the reader role, each with the environment compose gives it (the
host `db` becomes 127.0.0.1 and the database a fresh one that is dropped afterwards).

    uv run python scripts/compose_smoke.py [postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/
from bench.server import free_port

ROOT = Path(__file__).resolve().parent.parent
_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def expand(value: str) -> str:
    return _VAR.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)


def service_env(service: dict[str, Any], database: str) -> dict[str, str]:
    env = {k: expand(str(v)) for k, v in (service.get("environment") or {}).items()}
    if "DATABASE_URL" in env:
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(
            "@db:5432/bilateral", f"@127.0.0.1:5432/{database}"
        )
    if env.get("SEEDS_DIR") == "/srv/seeds":
        env["SEEDS_DIR"] = str(ROOT / "seeds")
    return {**os.environ, **env}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def main() -> int:
    admin_url = (
        sys.argv[1]
        if len(sys.argv) > 1
        else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    database = f"bf_compose_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    server = None
    try:
        db_env = {k: expand(str(v)) for k, v in services["db"]["environment"].items()}
        url = make_url(admin_url)
        subprocess.run(
            ["psql", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1",
             "-p", str(url.port or 5432), "-U", url.username or "postgres", "-d", database,
             "-v", f"writer_password={db_env['BILATERAL_WRITER_PASSWORD']}",
             "-v", f"reader_password={db_env['BILATERAL_READER_PASSWORD']}",
             "-f", str(ROOT / "deploy" / "postgres" / "roles.sql")],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print("db: roles created", flush=True)
        ingest = services["ingest"]
        subprocess.run(command(ingest), env=service_env(ingest, database), cwd=ROOT, check=True)
        print("ingest: completed successfully", flush=True)

        api = services["api"]
        port = free_port()
        args = [
            (str(port) if a == "8000" else ("127.0.0.1" if a == "0.0.0.0" else a))
            for a in command(api)
        ]
        server = subprocess.Popen(
            args, env=service_env(api, database), cwd=ROOT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                ready = get_json(f"{base}/readyz")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("api: /readyz never answered")
        print(f"api: ready, dataset {ready['dataset_version']} with {ready['claims']} claims")
        page = get_json(f"{base}/v1/claims?topic=arctic&published_from=2021-01-01")
        assert page["total"] > 0 and all("arctic" in c["topics"] for c in page["items"]), page
        who = create_engine(service_env(api, database)["DATABASE_URL"])
        with who.connect() as conn:
            role = conn.execute(text("SELECT current_user")).scalar_one()
        who.dispose()
        assert role == "bilateral_reader", role
        print(f"api: answered {page['total']} Arctic claims as role {role}; compose smoke ok")
        return 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
