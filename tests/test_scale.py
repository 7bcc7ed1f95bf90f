"""The `scale` topology without Docker: a Postgres primary, two streaming replicas
(`pg_basebackup -R`), one `bilateral serve` per replica as the SELECT-only role, and nginx with
deploy/nginx/nginx.conf in front, all on loopback ports, started and removed by this module.

Faults: the primary killed (reads go on, /readyz says the writer is gone), a replica killed (the
proxy routes around it), each restarted (service resumes by itself), an ingest under read load
(0 non-2xx, every response one whole dataset, no client ever sees the dataset go backwards, the
new dataset through the proxy within the documented time), a lagging replica (refuses a client
that has seen newer). The shared cache: CSV and JSON never mixed, request ids never cached.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from app.api.freshness import (
    WRITER_COPY,
    Replication,
    cache_directives,
    is_behind,
    parse_marker,
)
from bench.server import free_port, nginx_config, running_nginx
from tests.conftest import ROOT, SEEDS, ingest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BILATERAL = str(Path(sys.executable).parent / "bilateral")
VISIBLE_WITHIN = 10.0  # seconds: README's promise for a new ingest through the proxy
SOURCE = "article-us-canada-relationship-undated"
LIST_URL = f"/v1/claims?source={SOURCE}&limit=200"  # all of SOURCE's claims, on one page
MARKED = 2  # v2 of the seeds starts the first two statements of SOURCE's claims with "(v2) "


# --- Pieces that need no topology ---------------------------------------------------------

NOW = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
LAGGING = Replication(True, True, 3.0, 1024)
DETACHED = Replication(True, False, None, 0)
CURRENT = Replication(True, True, 0.0, 0)


@pytest.mark.parametrize(
    ("marker", "status", "behind"),
    [
        (NOW, LAGGING, False),  # the same dataset
        (NOW - timedelta(seconds=1), LAGGING, False),  # an older one
        (NOW + timedelta(microseconds=1), LAGGING, True),
        (NOW + timedelta(seconds=1), DETACHED, True),  # cannot tell: the writer is gone
        (NOW + timedelta(seconds=1), CURRENT, False),  # nothing newer exists: bogus marker
        (NOW + timedelta(seconds=1), WRITER_COPY, False),
        (NOW + timedelta(days=1), LAGGING, False),  # from the future: bogus
    ],
)
def test_is_behind(marker: datetime, status: Replication, behind: bool) -> None:
    assert is_behind(marker, NOW, status, NOW + timedelta(seconds=2)) is behind


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00",
        "9" * 400,
        "\x00",
        "Mon, 01 Jan 99999999999 00:00:00 GMT",
    ],
)
def test_malformed_markers_are_ignored(value: str) -> None:
    assert parse_marker(value) is None
    assert parse_marker(value, http_date=True) is None


def test_cache_directives() -> None:
    assert cache_directives(5, 30, 86400) == (
        "s-maxage=5, stale-while-revalidate=30, stale-if-error=86400"
    )
    assert cache_directives(None, 0, 0) == ""


def test_responses_name_their_dataset_and_ignore_bogus_markers(client: TestClient) -> None:
    """On the writer's own database (SQLite, a Postgres primary) nothing newer can exist: a
    marker from the future or the recent past is bogus and never turns into a 5xx."""
    first = client.get("/v1/topics")
    assert first.status_code == 200
    ingested = datetime.fromisoformat(first.headers["x-dataset-ingested-at"])
    assert first.headers["x-dataset-version"] == client.get("/readyz").json()["dataset_version"]
    control = first.headers["cache-control"]
    assert "s-maxage=5" in control and "stale-while-revalidate=30" in control
    assert "stale-if-error=86400" in control
    for marker in (
        ingested + timedelta(microseconds=1),
        datetime.now(UTC) - timedelta(seconds=1),
        datetime.now(UTC) + timedelta(days=365),
    ):
        answer = client.get("/v1/topics", headers={"X-Min-Dataset-Ingested-At": marker.isoformat()})
        assert answer.status_code == 200
        assert answer.headers["x-dataset-ingested-at"] == first.headers["x-dataset-ingested-at"]
    for junk in ("garbage", "\t", "2026-01-01"):
        answer = client.get(
            "/v1/topics", headers={"X-Min-Dataset-Ingested-At": junk, "If-Modified-Since": junk}
        )
        assert answer.status_code == 200, junk
    ready = client.get("/readyz").json()
    assert ready["replica"] is False and ready["writer_reachable"] is True
    assert ready["replay_lag_seconds"] == 0.0
    assert "x-dataset-version" not in client.get("/readyz").headers


def test_compose_scale_profile() -> None:
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    scale = {name for name, s in services.items() if "scale" in s.get("profiles", [])}
    assert scale == {
        "db-primary", "db-replica-1", "db-replica-2", "ingest-scale", "api-1", "api-2",
        "proxy-scale",
    }  # fmt: skip
    assert "20-replication.sh" in " ".join(services["db-primary"]["volumes"])
    for n in (1, 2):
        replica = services[f"db-replica-{n}"]
        assert replica["environment"]["REPLICATION_SLOT"] == f"replica_{n}"
        assert replica["depends_on"]["db-primary"]["condition"] == "service_healthy"
        api = services[f"api-{n}"]
        assert "bilateral_reader:" in api["environment"]["DATABASE_URL"]
        assert f"@db-replica-{n}:" in api["environment"]["DATABASE_URL"]
        assert api["depends_on"]["ingest-scale"]["condition"] == "service_completed_successfully"
    assert (
        services["api-1"]["environment"]["CURSOR_SECRET"]
        == services["api-2"]["environment"]["CURSOR_SECRET"]
    )
    assert "@db-primary:" in services["ingest-scale"]["environment"]["DATABASE_URL"]
    for proxy, upstream in (("proxy", "upstream-single"), ("proxy-scale", "upstream-scale")):
        mounts = " ".join(services[proxy]["volumes"])
        assert f"deploy/nginx/{upstream}.conf:/etc/nginx/bilateral/upstream.conf" in mounts
    assert "api" in services["proxy"]["depends_on"]
    # nginx accepts the configuration (and its upstream files resolve) as written.
    if not Path(NGINX).exists():
        _missing("nginx")
    with tempfile.TemporaryDirectory() as prefix:
        conf = nginx_config(Path(prefix), 8080, ["127.0.0.1:1"])
        result = subprocess.run(
            [NGINX, "-t", "-p", f"{prefix}/", "-c", str(conf)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr


# --- The topology -------------------------------------------------------------------------


def _missing(what: str) -> None:
    message = f"{what} is needed for the scale test (.ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _wait(what: str, check: Callable[[], bool], timeout: float = 60.0) -> float:
    """Seconds until `check()` held; fails after `timeout`."""
    start, last = time.monotonic(), "never held"
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except Exception as exc:  # not yet: keep the last reason for the failure message
            last = repr(exc)
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}: {last}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Cluster:
    data: Path
    port: int
    options: str

    def start(self) -> None:
        argv = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", f"{self.data}.log", "-w"]
        argv += ["-t", "30", "-o", f"-p {self.port} {self.options}", "start"]
        for _ in range(20):  # after a SIGKILL, orphaned backends may hold shared memory briefly
            if subprocess.run(_as_postgres(argv), capture_output=True).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError(f"{self.data} did not start: {Path(f'{self.data}.log').read_text()}")

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        _wait("the port to close", lambda: not _port_open(self.port))

    def stop(self) -> None:
        argv = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
        subprocess.run(_as_postgres(argv), capture_output=True)

    def sql(self, statement: str, database: str = "postgres", user: str = "postgres") -> str:
        argv = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", user]
        argv += ["-d", database, "-tAX", "-v", "ON_ERROR_STOP=1", "-c", statement]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    def url(self, user: str) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/bilateral"


@dataclass
class Topology:
    root: Path
    primary: Cluster
    replicas: list[Cluster]
    api_ports: list[int]
    seeds_v2: Path
    proxy_port: int = 0
    proxy_log: Path = Path("/dev/null")
    slow_client: tuple[socket.socket, float] | None = None  # (socket, when its head began)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def api(self, n: int) -> str:
        return f"http://127.0.0.1:{self.api_ports[n]}"

    def ingest(self, seeds: Path) -> None:
        """`bilateral ingest` (migrations, then the load) as the writer, on the primary."""
        ingest(self.primary.url("bilateral_writer"), seeds)

    def ready(self, n: int) -> dict[str, object]:
        answer = httpx.get(f"{self.api(n)}/readyz", timeout=3)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def _v2_seeds(root: Path) -> Path:
    seeds = root / "seeds-v2"
    shutil.copytree(SEEDS, seeds)
    claims = seeds / "claims" / f"{SOURCE}.yaml"
    text = claims.read_text()
    assert text.count('    statement: "') >= MARKED
    claims.write_text(text.replace('    statement: "', '    statement: "(v2) ', MARKED))
    return seeds


@pytest.fixture(scope="module")
def topo() -> Iterator[Topology]:
    for tool in (PG_BIN / "initdb", PG_BIN / "pg_basebackup", Path(NGINX)):
        if not tool.exists():
            _missing(str(tool))
    root = Path(tempfile.mkdtemp(prefix="bilateral-scale-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    common = "-c listen_addresses=127.0.0.1 -k /tmp -c fsync=off -c shared_buffers=16MB"
    primary = Cluster(
        root / "primary",
        free_port(),
        f"{common} -c wal_level=replica -c max_wal_senders=10 -c max_replication_slots=10",
    )
    replica_options = (
        f"{common} -c hot_standby=on -c hot_standby_feedback=on -c wal_retrieve_retry_interval=1s"
    )
    replicas = [Cluster(root / f"replica{n}", free_port(), replica_options) for n in (1, 2)]
    topo = Topology(root, primary, replicas, [free_port(), free_port()], _v2_seeds(root))
    stack = contextlib.ExitStack()
    try:
        initdb = [str(PG_BIN / "initdb"), "-D", str(primary.data), "-A", "trust", "-U", "postgres"]
        subprocess.run(_as_postgres(initdb), capture_output=True, check=True)
        primary.start()
        primary.sql("CREATE DATABASE bilateral")
        deploy = ROOT / "deploy" / "postgres"
        for script, variables in (
            ("roles.sql", ["writer_password=w", "reader_password=r"]),
            ("replication.sql", ["replicator_password=x", "slots=replica_1,replica_2"]),
        ):
            argv = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(primary.port)]
            argv += ["-U", "postgres", "-d", "bilateral", "-v", "ON_ERROR_STOP=1"]
            for variable in variables:
                argv += ["-v", variable]
            subprocess.run([*argv, "-f", str(deploy / script)], capture_output=True, check=True)
        topo.ingest(SEEDS)
        for n, replica in enumerate(replicas, start=1):
            backup = [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port)]
            backup += ["-U", "bilateral_replicator", "-D", str(replica.data), "-R", "-X", "stream"]
            backup += ["-S", f"replica_{n}", "--checkpoint=fast"]
            subprocess.run(_as_postgres(backup), capture_output=True, check=True)
            replica.start()
        for n, replica in enumerate(replicas):
            env = {
                **os.environ,
                "DATABASE_URL": replica.url("bilateral_reader"),
                "WORKERS": "1",
                "LOG_LEVEL": "warning",
                "CURSOR_SECRET": "scale-test-shared-secret",
            }
            env.pop("API_DATABASE_URL", None)
            log = (root / f"api{n}.log").open("wb")
            topo.processes.append(
                subprocess.Popen(
                    [BILATERAL, "serve", "--port", str(topo.api_ports[n])],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=root,
                )
            )
        for n in (0, 1):
            _wait(f"API {n}", lambda n=n: topo.ready(n)["writer_reachable"] is True)
        proxy = stack.enter_context(running_nginx([f"127.0.0.1:{p}" for p in topo.api_ports]))
        topo.proxy_port, topo.proxy_log = proxy.port, proxy.log
        _wait("the proxy", lambda: httpx.get(f"{topo.proxy}/readyz").status_code == 200)
        yield topo
    finally:
        if topo.proxy_port:  # for KEEP_SCALE_TEST_FILES
            shutil.copy(topo.proxy_log, root / "nginx.log")
        stack.close()
        for process in reversed(topo.processes):
            process.terminate()
        for process in topo.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        for cluster in (*replicas, primary):
            if (cluster.data / "postmaster.pid").exists():
                cluster.stop()
        if not os.environ.get("KEEP_SCALE_TEST_FILES"):
            shutil.rmtree(root, ignore_errors=True)


def _version_of(body: str) -> int:
    """1 or 2: which seeds a response comes from; a mix of both fails the test."""
    marks = body.count("(v2)")
    assert marks in (0, MARKED), f"a response mixes two datasets ({marks} marks)"
    return 2 if marks else 1


@dataclass
class Load:
    """Clients reading through the proxy in threads, each sending the newest dataset it has
    seen (X-Min-Dataset-Ingested-At) and checking it never goes backwards."""

    base: str
    urls: list[tuple[str, dict[str, str]]]
    threads: int = 4
    statuses: dict[int, int] = field(default_factory=dict)
    regressions: list[str] = field(default_factory=list)
    newest: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self, offset: int) -> None:
        seen_version, marker = 0, ""
        with httpx.Client(base_url=self.base, timeout=20) as http:
            i = offset
            while not self._stop.is_set():
                url, headers = self.urls[i % len(self.urls)]
                i += 1
                extra = {"X-Min-Dataset-Ingested-At": marker} if marker else {}
                request_id = f"load-{offset}-{i}"
                try:
                    answer = http.get(url, headers={**headers, **extra, "X-Request-ID": request_id})
                except httpx.HTTPError as exc:
                    self._note(f"transport error: {exc!r}")
                    continue
                with self._lock:
                    self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
                if answer.status_code != 200:
                    continue
                if answer.headers.get("x-request-id") != request_id:
                    self._note(f"{url}: request id {answer.headers.get('x-request-id')!r}")
                wanted = "text/csv" if "text/csv" in headers.get("Accept", "") else "application/"
                if not answer.headers.get("content-type", "").startswith(wanted):
                    self._note(f"{url} {headers}: {answer.headers.get('content-type')}")
                if url == LIST_URL:
                    try:
                        version = _version_of(answer.text)
                    except AssertionError as exc:  # a thread's failure must reach the test
                        self._note(str(exc))
                        continue
                    if version < seen_version:
                        self._note(f"{url}: v{version} after v{seen_version}")
                    seen_version = max(seen_version, version)
                    with self._lock:
                        self.newest = max(self.newest, version)
                stamp = answer.headers.get("x-dataset-ingested-at", "")
                marker = max(marker, stamp)

    def _note(self, problem: str) -> None:
        with self._lock:
            self.regressions.append(problem)

    def __enter__(self) -> Load:
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self._workers.append(worker)
        time.sleep(0.5)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def check(self) -> None:
        assert sum(self.statuses.values()) > 20, self.statuses
        assert set(self.statuses) == {200}, self.statuses
        assert not self.regressions, self.regressions[:5]


READS = [
    (LIST_URL, {}),
    (LIST_URL, {"Accept": "text/csv"}),
    ("/v1/topics", {}),
    ("/v1/claims?topic=arctic", {}),
    ("/v1/sources", {"Accept": "text/csv"}),
]


def test_every_instance_reads_a_streaming_replica(topo: Topology) -> None:
    for n in (0, 1):
        ready = topo.ready(n)
        assert ready["replica"] is True and ready["writer_reachable"] is True
        assert ready["replay_lag_seconds"] == 0.0
    # The reader role on a replica: no writes, even with read-only mode switched off.
    with pytest.raises(subprocess.CalledProcessError):
        topo.replicas[0].sql("DELETE FROM claim", "bilateral", "bilateral_reader")


def test_a_cursor_from_one_instance_pages_on_the_other(topo: Topology) -> None:
    first = httpx.get(f"{topo.api(0)}/v1/claims?limit=7&sort=id")
    cursor = first.json()["next_cursor"]
    assert cursor
    second = httpx.get(
        f"{topo.api(1)}/v1/claims", params={"limit": 7, "sort": "id", "cursor": cursor}
    )
    assert second.status_code == 200, second.text
    ids = [c["id"] for c in first.json()["items"] + second.json()["items"]]
    assert len(set(ids)) == 14  # the next page, not the first again


def test_shared_cache_keeps_representations_and_request_ids_apart(topo: Topology) -> None:
    with httpx.Client(base_url=topo.proxy, timeout=10) as http:
        url = "/v1/claims?topic=trade&limit=3"
        as_json = {"Accept": "application/json"}
        ids = set()
        for _ in range(3):
            json_answer = http.get(url, headers=as_json)
            csv_answer = http.get(url, headers={"Accept": "text/csv"})
            assert json_answer.headers["content-type"].startswith("application/json")
            assert json_answer.json()["items"]
            assert csv_answer.headers["content-type"].startswith("text/csv")
            assert "," in csv_answer.text.splitlines()[0] and not csv_answer.text.startswith("{")
            ids |= {json_answer.headers["x-request-id"], csv_answer.headers["x-request-id"]}
        assert json_answer.headers["x-cache"] == "HIT" and csv_answer.headers["x-cache"] == "HIT"
        assert len(ids) == 6  # every response its own id, hits included
        mine = http.get(url, headers={"X-Request-ID": "client-chosen-1", **as_json})
        assert mine.headers["x-cache"] == "HIT"
        assert mine.headers["x-request-id"] == "client-chosen-1"
        hostile = http.get(url, headers={"X-Request-ID": "x" * 500, **as_json})
        assert hostile.headers["x-request-id"] != "x" * 500
        control = mine.headers["cache-control"]
        for directive in ("s-maxage=5", "stale-while-revalidate=30", "stale-if-error=86400"):
            assert directive in control
        assert "Accept" in mine.headers["vary"]
        # gzip is a variant too (Vary: Accept-Encoding): never handed to a client that lacks it
        plain = http.get(url, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.json()["items"]


def test_proxy_bounds_headers_and_slow_clients(topo: Topology) -> None:
    with httpx.Client(base_url=topo.proxy, timeout=10) as http:
        assert http.get("/v1/topics", headers={"X-Big": "a" * 9000}).status_code in (400, 494)
        many = {f"X-H{i}": "b" * 4000 for i in range(12)}
        assert http.get("/v1/topics", headers=many).status_code in (400, 494)
        slow = []
        try:
            for _ in range(100):  # slowloris: heads that never end
                s = socket.create_connection(("127.0.0.1", topo.proxy_port))
                s.sendall(b"GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                slow.append(s)
            for _ in range(5):
                assert http.get("/v1/topics").status_code == 200
            for n in (0, 1):  # nothing of it reached uvicorn
                assert httpx.get(f"{topo.api(n)}/healthz", timeout=2).status_code == 200
        finally:
            topo.slow_client = (slow.pop(), time.monotonic())  # checked by the last test
            for s in slow:
                s.close()


def test_primary_loss_keeps_reads_up_and_recovers_by_itself(topo: Topology) -> None:
    with Load(topo.proxy, READS) as load:
        topo.primary.kill()
        for n in (0, 1):
            _wait(
                "/readyz to see the writer gone", lambda n=n: not topo.ready(n)["writer_reachable"]
            )
        assert httpx.get(f"{topo.proxy}/readyz").json()["writer_reachable"] is False
        time.sleep(2)  # reads on, with the last dataset
        topo.primary.start()
        for n in (0, 1):
            _wait("replicas to stream again", lambda n=n: topo.ready(n)["writer_reachable"])
    load.check()


def test_replica_loss_is_routed_around_and_recovers_by_itself(topo: Topology) -> None:
    with Load(topo.proxy, READS) as load:
        topo.replicas[0].kill()
        with pytest.raises(AssertionError):
            topo.ready(0)
        time.sleep(3)
        topo.replicas[0].start()
        _wait("instance 0 to be ready again", lambda: topo.ready(0)["writer_reachable"] is True)
    load.check()
    _wait(
        "the proxy to send traffic to instance 0 again",
        lambda: _through_proxy_reaches(topo, topo.api_ports[0]),
        timeout=15,
    )


_PROBES = iter(range(1, 10**6))


def _through_proxy_reaches(topo: Topology, port: int) -> bool:
    """Fresh (uncached) requests through the proxy reached the instance on `port`."""
    log = topo.proxy_log
    before = log.read_text().count(f'"upstream":"127.0.0.1:{port}"')
    for _ in range(6):
        limit = next(_PROBES) % 200 + 1
        assert httpx.get(f"{topo.proxy}/v1/topics?limit={limit}").status_code in (200, 422)
    return log.read_text().count(f'"upstream":"127.0.0.1:{port}"') > before


def test_ingest_under_load_is_whole_monotonic_and_visible_in_time(topo: Topology) -> None:
    fresh = httpx.Client(base_url=topo.proxy, timeout=10)  # a client that sends no marker
    as_csv = {"Accept": "text/csv"}

    def proxy_version() -> int:
        return min(_version_of(fresh.get(LIST_URL, headers=h).text) for h in ({}, as_csv))

    with Load(topo.proxy, READS, threads=6) as load:
        _wait("the readers to see v1", lambda: load.newest == 1)
        assert proxy_version() == 1  # now in the proxy's cache: the worst case for visibility
        topo.ingest(topo.seeds_v2)
        took = _wait("v2 through the proxy", lambda: proxy_version() == 2, VISIBLE_WITHIN + 5)
        _wait("the readers to see v2", lambda: load.newest == 2, VISIBLE_WITHIN)
        fresh.close()
    print(f"\nthe new dataset was visible through the proxy after {took:.1f} s")
    assert took <= VISIBLE_WITHIN, took
    load.check()
    assert load.newest == 2


def test_a_lagging_replica_refuses_a_client_that_has_seen_newer(topo: Topology) -> None:
    lagging = topo.replicas[1]
    lagging.sql("SELECT pg_wal_replay_pause()")
    try:
        topo.ingest(SEEDS)  # back to v1's text, as a newer dataset
        _wait(
            "instance 0 to have it",
            lambda: topo.ready(0)["dataset_version"] != topo.ready(1)["dataset_version"],
        )
        time.sleep(1.2)  # the instances re-read the dataset stamp every second
        newest = httpx.get(f"{topo.api(0)}/v1/topics").headers["x-dataset-ingested-at"]
        old = httpx.get(f"{topo.api(1)}/v1/topics")
        assert old.headers["x-dataset-ingested-at"] < newest
        lag = topo.ready(1)
        assert lag["replay_lag_seconds"] is not None and float(lag["replay_lag_seconds"]) > 0
        behind = httpx.get(
            f"{topo.api(1)}/v1/topics", headers={"X-Min-Dataset-Ingested-At": newest}
        )
        assert behind.status_code == 503 and behind.headers["retry-after"] == "1"
        assert behind.headers["content-type"] == "application/problem+json"
        assert "newer" in behind.json()["detail"]
        # a cache revalidating a newer copy (If-Modified-Since: its Last-Modified) likewise
        since = format_datetime(datetime.fromisoformat(newest), usegmt=True)
        revalidate = httpx.get(f"{topo.api(1)}/v1/topics", headers={"If-Modified-Since": since})
        assert revalidate.status_code == 503
        # an older marker is served as usual
        assert (
            httpx.get(
                f"{topo.api(1)}/v1/topics",
                headers={"X-Min-Dataset-Ingested-At": old.headers["x-dataset-ingested-at"]},
            ).status_code
            == 200
        )
        # through the proxy the client always gets the newest copy
        for i in range(8):
            answer = httpx.get(
                f"{topo.proxy}/v1/claims?limit={i + 1}",
                headers={"X-Min-Dataset-Ingested-At": newest},
            )
            assert answer.status_code == 200
            assert answer.headers["x-dataset-ingested-at"] >= newest
    finally:
        lagging.sql("SELECT pg_wal_replay_resume()")
    _wait("the replica to catch up", lambda: topo.ready(1)["replay_lag_seconds"] == 0.0)


def test_a_head_not_sent_within_the_header_timeout_is_cut_off(topo: Topology) -> None:
    """client_header_timeout (10 s): the slowloris connection opened earlier is closed."""
    assert topo.slow_client is not None
    client, opened = topo.slow_client
    time.sleep(max(0.0, opened + 11 - time.monotonic()))
    client.settimeout(5)
    try:
        closed = client.recv(1024) in (b"", b"HTTP/1.1 408")  # closed (or reset, below)
    except ConnectionResetError:
        closed = True
    except TimeoutError:  # still open 16 s after its head began
        closed = False
    finally:
        client.close()
    assert closed
