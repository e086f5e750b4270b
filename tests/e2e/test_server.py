"""End to end: ``adapter serve`` as a real process on a loopback port, on SQLite and PostgreSQL.

Every valid fixture goes in as JSON and as XML; the process restarts; the same answers read
back. Two worker processes racing on one Bundle adjudicate it once, and two workers share
the connections, stop when their parent is killed, and a worker that cannot start stops the
command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapter.auth import mint_dev_token
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml, parse_xml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
VALID = sorted(
    p
    for p in (ROOT / "fixtures" / "valid").glob("*.json")
    if ".meta." not in p.name and ".expected." not in p.name
)
JSON = "application/fhir+json"
XML = "application/fhir+xml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``adapter serve`` process and what a client needs to talk to it."""

    env: dict[str, str]
    port: int
    workers: int
    options: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "adapter.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.options,
        ]
        log = Path(self.env["ADAPTER_DATA_DIR"]).parent / "server.log"
        with log.open("ab") as sink:
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=sink, stderr=sink)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become ready within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def token(self) -> str:
        return mint_dev_token(
            Path(self.env["ADAPTER_DATA_DIR"]),
            client_id="dev-client",
            scopes=["system/Claim.write", "system/ClaimResponse.read"],
            now=datetime.now(UTC),
            issuer="adapter-dev",
            audience="adapter",
        )


@pytest.fixture
def server_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Environment for a server on the backend under test, with its own data directory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env["ADAPTER_DATA_DIR"] = str(tmp_path / "var")
    if backend == "postgresql":
        server = request.getfixturevalue("postgres")
        url = server.create_database()
        env["ADAPTER_DATABASE_URL"] = url
        yield env
        server.drop_database(url)
    else:
        yield env


def _post(client: httpx.Client, body: bytes, content_type: str, accept: str) -> httpx.Response:
    return client.post(
        "/Claim/$submit", content=body, headers={"Content-Type": content_type, "Accept": accept}
    )


def test_every_fixture_in_json_and_xml_survives_a_restart(server_env: dict[str, str]) -> None:
    """JSON then XML of each fixture (the XML replays), restart, then identical answers read back."""
    server = Server(server_env, _free_port(), workers=1)
    server.start()
    answers: dict[str, bytes] = {}
    try:
        headers = {"Authorization": f"Bearer {server.token()}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for path in VALID:
                body = path.read_bytes()
                first = _post(client, body, JSON, JSON)
                assert first.status_code == 200, (path.name, first.text[:500])
                assert first.headers["content-type"].startswith(JSON)
                as_xml = _post(client, dump_xml(jsonio.loads(body)), XML, XML)
                assert as_xml.status_code == 200, (path.name, as_xml.text[:500])
                assert parse_xml(as_xml.content) == jsonio.loads(first.content)
                answers[path.name] = first.content
    finally:
        server.stop()

    server.start()
    try:
        headers = {"Authorization": f"Bearer {server.token()}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for path in VALID:
                stored = jsonio.loads(answers[path.name])
                for entry in stored["entry"]:
                    resource = entry["resource"]
                    if resource["resourceType"] != "ClaimResponse":
                        continue
                    read = client.get(f"/ClaimResponse/{resource['id']}")
                    assert read.status_code == 200
                    read_back = jsonio.loads(read.content)
                    assert read_back.pop("meta")["versionId"] == read.headers["etag"][3:-1] == "1"
                    assert read_back == resource
                replay = _post(client, path.read_bytes(), JSON, JSON)
                assert replay.content == answers[path.name]
            search = client.get("/ClaimResponse", params={"_count": 100})
            assert search.status_code == 200
            expected = sum(
                1
                for body in answers.values()
                for entry in jsonio.loads(body)["entry"]
                if entry["resource"]["resourceType"] == "ClaimResponse"
            )
            assert jsonio.loads(search.content)["total"] == expected
    finally:
        server.stop()


def test_the_conformance_command_passes_against_the_served_adapter(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    """``adapter conformance`` as an integrator runs it: every fixture passes, and the report says so."""
    server = Server(server_env, _free_port(), workers=1)
    server.start()
    try:
        report = tmp_path / "report.json"
        command = [sys.executable, "-m", "adapter.cli", "conformance", "--base-url", server.url]
        command += ["--token", server.token(), "--fixtures", str(FIXTURES), "--report", str(report)]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=300, check=False)
    finally:
        server.stop()
    assert completed.returncode == 0, completed.stdout.decode()[-2000:]
    verdicts = json.loads(report.read_text(encoding="utf-8"))
    assert len(verdicts) > 60
    assert [verdict["fixture"] for verdict in verdicts if not verdict["passed"]] == []
    assert completed.stdout.decode().rstrip().endswith(f"{len(verdicts)} passed, 0 failed")


def test_two_workers_racing_on_one_bundle_adjudicate_once(server_env: dict[str, str]) -> None:
    """Sixteen concurrent identical submissions to two worker processes: one stored answer."""
    server = Server(server_env, _free_port(), workers=2)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {server.token()}", "Content-Type": JSON, "Accept": JSON}
        body = (ROOT / "fixtures" / "valid" / "01-purchase-standard.json").read_bytes()

        def send(_: int) -> httpx.Response:
            return httpx.post(f"{server.url}/Claim/$submit", content=body, headers=headers, timeout=60)

        with ThreadPoolExecutor(max_workers=16) as pool:
            responses = list(pool.map(send, range(16)))
        assert [r.status_code for r in responses] == [200] * 16
        assert len({r.content for r in responses}) == 1
        search = httpx.get(f"{server.url}/ClaimResponse", headers=headers, timeout=30)
        assert jsonio.loads(search.content)["total"] == 2  # one submission: its AMO and AMC answers
    finally:
        server.stop()


def _sockets_on(port: int, state: str) -> set[int]:
    """Inodes of the IPv4 TCP sockets in ``state`` (01 established, 0A listening) on local ``port``."""
    inodes: set[int] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, inode = fields[1], int(fields[9])
        if int(local.split(":")[1], 16) == port and fields[3] == state and inode:
            inodes.add(inode)
    return inodes


def _socket_owners(pids: list[int], inodes: set[int]) -> dict[int, int]:
    """How many of ``inodes`` each process holds open (a process gone meanwhile holds none)."""
    owners: dict[int, int] = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except FileNotFoundError:  # it exited after it was listed (a worker being replaced)
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                owners[pid] = owners.get(pid, 0) + 1
    return owners


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; SO_REUSEPORT balancing is Linux's")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_two_workers_share_the_connections(server_env: dict[str, str]) -> None:
    """Each worker listens on a socket of its own, so the kernel spreads keep-alive connections
    over both: with uvicorn's one shared socket, a burst of connections could all land in one."""
    server = Server(server_env, _free_port(), workers=2)
    server.start()
    clients: list[socket.socket] = []
    try:
        assert server.process is not None
        deadline = time.monotonic() + 60  # ready once one worker listens; wait for the other
        while len(_sockets_on(server.port, "0A")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
        for _ in range(32):
            client = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            clients.append(client)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            assert client.recv(4096).startswith(b"HTTP/1.1 200")  # accepted, and kept open
        owners = _socket_owners([int(pid) for pid in children.split()], _sockets_on(server.port, "01"))
        assert sum(owners.values()) == 32
        assert len(owners) == 2  # 2**-31 that the kernel's hash put all 32 in one worker
    finally:
        for client in clients:
            client.close()
        server.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; the per-worker sockets are Linux's")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_workers_stop_when_their_parent_is_killed(server_env: dict[str, str]) -> None:
    """A parent killed outright (SIGKILL) leaves no worker serving on behind it."""
    server = Server(server_env, _free_port(), workers=2)
    server.start()
    assert server.process is not None
    parent = server.process.pid
    workers = [int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
    server.process.kill()
    server.process.wait()
    deadline = time.monotonic() + 30
    try:
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        assert not _sockets_on(server.port, "0A")
    finally:
        for pid in workers:  # should the test fail, leave nothing running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "adapter.cli", "serve", "--port", str(port), "--workers", str(workers)]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=120, check=False)


@pytest.mark.skipif(sys.platform != "linux", reason="the per-worker sockets are Linux's")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_workers_that_cannot_start_stop_the_command_with_status_3(server_env: dict[str, str]) -> None:
    """A database that cannot be reached fails every replacement the same way: no restart loop."""
    env = {**server_env, "ADAPTER_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{_free_port()}/none"}
    completed = _serve(env, _free_port(), workers=2)
    assert completed.returncode == 3
    assert b"worker failed at startup: stopping" in completed.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="the per-worker sockets are Linux's")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_address_in_use_is_refused_before_any_worker_starts(server_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        completed = _serve(server_env, taken.getsockname()[1], workers=2)
    assert completed.returncode == 2
    assert b"is already in use" in completed.stderr
    assert b"worker started" not in completed.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_no_reuse_port_keeps_uvicorns_own_workers(server_env: dict[str, str]) -> None:
    """``--no-reuse-port``: uvicorn's multi-worker mode, one socket shared by its workers."""
    server = Server(server_env, _free_port(), workers=2, options=("--no-reuse-port",))
    server.start()
    try:
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        if sys.platform == "linux":
            assert len(_sockets_on(server.port, "0A")) == 1
    finally:
        server.stop()


def _listening_workers(server: Server) -> set[int]:
    assert server.process is not None
    parent = server.process.pid
    children = [int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
    return set(_socket_owners(children, _sockets_on(server.port, "0A")))


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; the per-worker sockets are Linux's")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sighup_replaces_both_workers(server_env: dict[str, str]) -> None:
    server = Server(server_env, _free_port(), workers=2)
    server.start()
    try:
        assert server.process is not None
        deadline = time.monotonic() + 60
        while len(before := _listening_workers(server)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        server.process.send_signal(signal.SIGHUP)
        while time.monotonic() < deadline:
            after = _listening_workers(server)
            if len(after) == 2 and not after & before:
                break
            time.sleep(0.1)
        assert len(after) == 2
        assert not after & before
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
