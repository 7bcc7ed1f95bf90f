#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11+ installed beforehand.

    python3 scripts/dev.py run [--host H] [--port P] [--workers N]
        install what serving needs, load the seeds into ./bilateral.db (SQLite) and serve
        (default http://127.0.0.1:8000)
    python3 scripts/dev.py test [PYTEST ARGS]
        install everything (test and lint tools too), lint, type-check, run the test suite

It installs uv (from PyPI) when missing, then lets uv install the locked dependencies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINTED = ("app", "tests", "migrations", "scripts", "bench")


def uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    if probe.returncode != 0:
        say("uv not found: installing it from PyPI with pip")
        subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], capture_output=True)
        user = [] if sys.prefix != sys.base_prefix or os.geteuid() == 0 else ["--user"]
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *user, "uv"], check=True)
    return [sys.executable, "-m", "uv"]


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def sh(*args: str) -> None:
    code = subprocess.run(args, cwd=ROOT).returncode
    if code != 0:
        sys.exit(code)


def run(u: list[str], argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dev.py run", description="Load the seeds and serve.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", default="8000", help="TCP port (default 8000)")
    parser.add_argument("--workers", help="uvicorn worker processes (default 1)")
    args = parser.parse_args(argv)
    say("installing the serving dependencies (uv sync --no-dev)")
    # --inexact keeps test tools a previous `dev.py test` installed; none is installed here.
    sh(*u, "sync", "--frozen", "--no-dev", "--inexact", "--quiet")
    say("loading seeds/ into the database (bilateral ingest)")
    bilateral = [*u, "run", "--frozen", "--no-sync", "bilateral"]
    sh(*bilateral, "ingest")
    workers = ["--workers", args.workers] if args.workers else []
    sh(*bilateral, "serve", "--host", args.host, "--port", args.port, *workers)


def test(u: list[str], argv: list[str]) -> None:
    say("installing every dependency group (uv sync)")
    sh(*u, "sync", "--frozen", "--quiet")
    tool = [*u, "run", "--frozen", "--no-sync"]
    say("ruff, mypy (strict: pyproject [tool.mypy])")
    sh(*tool, "ruff", "check", "--quiet", *LINTED)
    sh(*tool, "ruff", "format", "--check", "--quiet", *LINTED)
    sh(*tool, "mypy", "app")
    say("pytest")
    sh(*tool, "pytest", "--cov", "--cov-report=term:skip-covered", *argv)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        sys.exit(__doc__)
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    (run if sys.argv[1] == "run" else test)(uv(), sys.argv[2:])


if __name__ == "__main__":
    main()
