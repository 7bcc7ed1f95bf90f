"""A throwaway PostgreSQL cluster (initdb + pg_ctl) for tests that change cluster-wide state.

Roles and database ACLs are shared by every database of a cluster, so the roles script's
cluster-wide lock-down is tried on a cluster of its own, never on the shared test server.
Local (socket) connections are trusted, TCP ones need a password, like the compose `db` service.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cluster:
    socket_dir: Path
    port: int

    def url(self, database: str = "postgres", user: str = "postgres", password: str = "") -> str:
        """TCP URL for `user` (password auth), or the trusted socket when no password is given."""
        if password:
            return f"postgresql+psycopg://{user}:{password}@127.0.0.1:{self.port}/{database}"
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def psql(self, database: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
             "-p", str(self.port), "-U", "postgres", "-d", database, *args],
            capture_output=True, text=True, check=True,
        )  # fmt: skip


def available() -> bool:
    return all(shutil.which(tool) for tool in ("initdb", "pg_ctl", "psql"))


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """Start a fresh cluster (as `nobody` when running as root: initdb refuses root)."""
    top = Path(tempfile.mkdtemp(prefix="bf_pg_"))
    as_nobody = os.geteuid() == 0
    if as_nobody:
        os.chown(top, pwd.getpwnam("nobody").pw_uid, -1)
    user = "nobody" if as_nobody else None
    data, port = top / "data", _free_port()
    subprocess.run(
        ["initdb", "-D", str(data), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True, user=user,
    )  # fmt: skip
    ctl = ["pg_ctl", "-D", str(data), "-l", str(top / "log")]
    options = f"-p {port} -k {top} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*ctl, "-o", options, "-w", "start"], check=True, capture_output=True, user=user)
    try:
        yield Cluster(top, port)
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, user=user)
        shutil.rmtree(top, ignore_errors=True)
