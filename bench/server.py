"""Start `bilateral serve` (or any server) on a free loopback port and wait until it answers.

Shared by the benchmark, the soak test and the tests that need a real HTTP server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, timeout: float = 60) -> float:
    """Seconds until `url` answered at all (any HTTP status counts as up)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            urllib.request.urlopen(url, timeout=1)
            return time.monotonic() - started
        except urllib.error.HTTPError:
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


@dataclass(frozen=True)
class RunningServer:
    base: str
    pid: int


@contextmanager
def running_api(env: dict[str, str], quiet: bool = False) -> Iterator[RunningServer]:
    """`bilateral serve` with these environment variables, until the block ends."""
    port = free_port()
    output = subprocess.DEVNULL if quiet else None
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, **env}, cwd=ROOT, stdout=output, stderr=output,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz")
        yield RunningServer(base, server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
