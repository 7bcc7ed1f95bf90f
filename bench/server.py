"""Start `bilateral serve` (or any server) on a free loopback port and wait until it answers.

Shared by the benchmark, the soak test and the tests that need a real HTTP server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


def wait_until_listening(port: int, timeout: float = 30) -> None:
    """Until something accepts TCP connections on loopback `port`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


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


NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"


def nginx_config(prefix: Path, port: int, upstreams: list[str]) -> Path:
    """deploy/nginx/nginx.conf as it is, but listening on loopback `port`, in front of these
    `host:port` API instances (what deploy/nginx/upstream-*.conf says under compose)."""
    conf = NGINX_CONF.read_text()
    if "    listen 8080;" not in conf:
        raise RuntimeError(f"{NGINX_CONF}: expected `listen 8080;`")
    local = conf.replace("    listen 8080;", f"    listen 127.0.0.1:{port};")
    (prefix / "nginx.conf").write_text(local)
    servers = "".join(f"    server {u} max_fails=3 fail_timeout=3s;\n" for u in upstreams)
    keepalive = "    keepalive 32;\n    keepalive_timeout 4s;\n"
    (prefix / "upstream.conf").write_text(f"upstream api {{\n{servers}{keepalive}}}\n")
    return prefix / "nginx.conf"


@dataclass(frozen=True)
class RunningProxy:
    base: str
    port: int
    log: Path  # nginx's access log (one JSON line per request) and error log


@contextmanager
def running_nginx(upstreams: list[str], workdir: Path | None = None) -> Iterator[RunningProxy]:
    """nginx (Debian's package) with the deployment's configuration, until the block ends."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = Path(tempfile.mkdtemp(prefix="bf-nginx-", dir=workdir))
    prefix.chmod(0o755)  # nginx's workers (nobody, when started as root) keep their cache here
    port = free_port()
    conf = nginx_config(prefix, port, upstreams)
    log = prefix / "nginx.log"
    with log.open("wb") as out:
        proxy = subprocess.Popen(
            [nginx, "-p", f"{prefix}/", "-c", str(conf), "-g", "daemon off;"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(port)  # not a request: it would count against the upstreams
        yield RunningProxy(base, port, log)
    finally:
        proxy.terminate()
        try:
            proxy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proxy.kill()
        shutil.rmtree(prefix, ignore_errors=True)
