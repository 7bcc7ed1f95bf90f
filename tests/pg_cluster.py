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
    user: str | None  # the OS user the server runs as (None: the current one)

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

    def _ctl(self, *args: str) -> None:
        data = self.socket_dir / "data"
        subprocess.run(
            [str(server_tool("pg_ctl")), "-D", str(data), "-l", str(self.socket_dir / "log"),
             *args],
            check=True, capture_output=True, user=self.user,
        )  # fmt: skip

    def start(self, tcp: bool = True) -> None:
        """Start; `tcp=False` listens on the socket only, like the image's init-time server."""
        listen = "127.0.0.1" if tcp else "''"
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses={listen} -c fsync=off"
        self._ctl("-o", options, "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


def server_tool(name: str) -> str | None:
    """initdb/pg_ctl: on PATH, else in the server's bin folder (Debian keeps them off PATH)."""
    found = shutil.which(name)
    if found:
        return found
    folders: list[Path] = []
    try:  # the installed server's own folder first
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout
        folders.append(Path(bindir.strip()))
    except OSError:
        pass
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    folders += sorted(versions, key=lambda p: int(p.parent.name.split(".")[0] or 0), reverse=True)
    candidates = [folder / name for folder in folders if (folder / name).is_file()]
    return str(candidates[0]) if candidates else None


def available() -> bool:
    return all(server_tool(tool) for tool in ("initdb", "pg_ctl")) and bool(shutil.which("psql"))


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_cluster(start: bool = True) -> Iterator[Cluster]:
    """A fresh cluster, started unless asked not to (as `nobody` when root: initdb refuses root)."""
    top = Path(tempfile.mkdtemp(prefix="bf_pg_"))
    as_nobody = os.geteuid() == 0
    if as_nobody:
        os.chown(top, pwd.getpwnam("nobody").pw_uid, -1)
    cluster = Cluster(top, free_port(), "nobody" if as_nobody else None)
    subprocess.run(
        [str(server_tool("initdb")), "-D", str(top / "data"), "-U", "postgres",
         "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
         "--locale=C.UTF-8"],
        check=True, capture_output=True, user=cluster.user,
    )  # fmt: skip
    if start:
        cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            [str(server_tool("pg_ctl")), "-D", str(top / "data"), "-m", "immediate", "stop"],
            capture_output=True, user=cluster.user,
        )  # fmt: skip
        shutil.rmtree(top, ignore_errors=True)
