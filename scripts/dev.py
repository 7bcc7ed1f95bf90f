#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11+ installed beforehand.

    python3 scripts/dev.py run    # install, load the seeds into SQLite, serve on 127.0.0.1:8000
    python3 scripts/dev.py test   # install, lint, type-check, run the test suite

It installs uv (from PyPI) when missing, then lets uv install the locked dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    if probe.returncode != 0:
        print("uv not found: installing it from PyPI with pip", flush=True)
        subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], capture_output=True)
        user = [] if sys.prefix != sys.base_prefix or os.geteuid() == 0 else ["--user"]
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *user, "uv"], check=True)
    return [sys.executable, "-m", "uv"]


def sh(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    code = subprocess.run(args, cwd=ROOT).returncode
    if code != 0:
        sys.exit(code)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        sys.exit(__doc__)
    command, extra = sys.argv[1], sys.argv[2:]
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    u = uv()
    sh(*u, "sync", "--frozen")
    if command == "run":
        sh(*u, "run", "--frozen", "bilateral", "ingest")
        sh(
            *u,
            "run",
            "--frozen",
            "bilateral",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "8000",
            *extra,
        )
        return
    sh(*u, "run", "--frozen", "ruff", "check", "app", "tests", "migrations", "scripts", "bench")
    sh(
        *u,
        "run",
        "--frozen",
        "ruff",
        "format",
        "--check",
        "app",
        "tests",
        "migrations",
        "scripts",
        "bench",
    )
    sh(*u, "run", "--frozen", "mypy", "app")
    sh(*u, "run", "--frozen", "pytest", "--cov", "--cov-report=term:skip-covered", *extra)


if __name__ == "__main__":
    main()
