"""Database faults under load (issue #15, items 10-12): a real ``adapter serve`` on a PostgreSQL
server that this test starts, stops and freezes itself.

A few threads submit distinct claims while the database is stopped (an outage) and then frozen
(SIGSTOP on the postmaster and its children: it accepts connections but answers nothing). During
each fault the service answers 503 ``not-ready`` with ``Retry-After``, never a 500 and never a
hung request; ``/readyz`` answers promptly; the service is back within seconds after; and every
acknowledged claim replays byte for byte, stored once (nothing lost, nothing doubled).

Needs the PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``) on PATH; skipped
with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from mappings.fhir import jsonio
from tests.e2e.test_server import Server, _free_port
from tests.support import bundles

BINARIES = ("initdb", "pg_ctl", "postgres")
MISSING = [name for name in BINARIES if shutil.which(name) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"PostgreSQL server binaries not on PATH: {', '.join(MISSING)}"
)
JSON = "application/fhir+json"
THREADS = 4
FAULT_SECONDS = 6.0
RECOVERY_SECONDS = 15.0  # from the end of a fault to the first claim stored again


def _server_account() -> dict[str, int]:
    """PostgreSQL refuses to run as root: as root, its commands run as the ``postgres`` account
    (else ``nobody``)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": account.pw_uid, "group": account.pw_gid}
    pytest.skip("running as root and no unprivileged account to run PostgreSQL as")


class Postgres:
    """A throwaway PostgreSQL cluster of this test's own: its data directory, its port."""

    def __init__(self) -> None:
        self.account = _server_account()
        self.root = Path(tempfile.mkdtemp(prefix="adapter-pg-"))
        if self.account:
            os.chown(self.root, self.account["user"], self.account["group"])
        self.data = self.root / "pgdata"
        self.port = _free_port()
        self.log = self.root / "postgres.log"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, *command: str, check: bool = True) -> None:
        subprocess.run(command, check=check, capture_output=True, cwd=self.root, **self.account)  # type: ignore[call-overload]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/adapter"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def processes(self) -> list[int]:
        """The postmaster and its children."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def signal(self, pids: list[int], signum: signal.Signals) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


@dataclass
class Outcome:
    body: bytes
    status: int
    retry_after: str | None
    answer: bytes
    at: float
    seconds: float


@dataclass
class Load:
    """Threads submitting distinct claims until stopped; every answer is kept."""

    url: str
    outcomes: list[Outcome] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    def _next_body(self) -> bytes:
        with self._lock:
            self._counter += 1
            n = self._counter
        bundle = bundles.bundle("01-purchase-standard")
        bundle["identifier"]["value"] = f"FAULT-{n:05d}"
        return jsonio.dumps(bundle)

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=60) as client:
                while not self.stopping.is_set():
                    body = self._next_body()
                    start = time.monotonic()
                    response = client.post("/Claim/$submit", content=body, headers={"Content-Type": JSON})
                    outcome = Outcome(
                        body=body,
                        status=response.status_code,
                        retry_after=response.headers.get("retry-after"),
                        answer=response.content,
                        at=time.monotonic(),
                        seconds=time.monotonic() - start,
                    )
                    with self._lock:
                        self.outcomes.append(outcome)
                    if response.status_code == 503:
                        time.sleep(0.2)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def stored_since(self, moment: float) -> bool:
        with self._lock:
            return any(o.status == 200 and o.at > moment for o in self.outcomes)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as c:
        c.execute("CREATE DATABASE adapter")
    yield server
    server.signal(server.processes() if (server.data / "postmaster.pid").exists() else [], signal.SIGCONT)
    server.stop()
    server.remove()


def _wait_for(condition: object, seconds: float) -> float:
    """Seconds until ``condition()`` holds; fails after ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def test_outage_and_freeze_answer_503_then_recover_without_loss(postgres: Postgres, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env |= {
        "ADAPTER_DATA_DIR": str(tmp_path / "var"),
        "ADAPTER_DATABASE_URL": postgres.url,
        "ADAPTER_AUTH": "disabled",
        "ADAPTER_DB_CONNECT_TIMEOUT": "2",
        "ADAPTER_DB_STATEMENT_TIMEOUT": "2",
        "ADAPTER_DB_POOL_TIMEOUT": "2",
        "ADAPTER_DB_RETRY_AFTER": "3",
        "ADAPTER_READY_TIMEOUT": "1",
    }
    server = Server(env=env, port=_free_port(), workers=1)
    server.start()
    load = Load(server.url)
    threads = [threading.Thread(target=load.run) for _ in range(THREADS)]
    faults: list[tuple[float, float]] = []
    try:
        for thread in threads:
            thread.start()
        _wait_for(lambda: load.stored_since(0.0), 20)

        # -- an outage: the server stops -------------------------------------------------
        begin = time.monotonic()
        postgres.stop()
        time.sleep(FAULT_SECONDS)
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.headers["retry-after"] == "3"
        end = time.monotonic()
        faults.append((begin, end))
        postgres.start()
        back = _wait_for(lambda: load.stored_since(end), RECOVERY_SECONDS)

        # -- a freeze: the server accepts connections and answers nothing ---------------
        frozen = postgres.processes()
        begin = time.monotonic()
        postgres.signal(frozen, signal.SIGSTOP)
        time.sleep(FAULT_SECONDS)
        asked = time.monotonic()
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert time.monotonic() - asked < 2.5  # bounded whatever the database does
        end = time.monotonic()
        faults.append((begin, end))
        postgres.signal(frozen, signal.SIGCONT)
        thawed = _wait_for(lambda: load.stored_since(end), RECOVERY_SECONDS)
    finally:
        load.stopping.set()
        for thread in threads:
            thread.join(60)
        postgres.signal(postgres.processes(), signal.SIGCONT)
    assert not load.errors, load.errors
    assert back < RECOVERY_SECONDS
    assert thawed < RECOVERY_SECONDS

    statuses = {o.status for o in load.outcomes}
    assert statuses <= {200, 503}, statuses  # never a 500, never another failure
    refused = [o for o in load.outcomes if o.status == 503]
    assert refused, "the faults were not seen"
    assert all(o.retry_after == "3" for o in refused)
    assert all(b"not-ready" in o.answer for o in refused)
    assert max(o.seconds for o in load.outcomes) < 20  # no request hangs on the database
    for begin, end in faults:  # whatever ended during a fault was refused, and some did
        during = [o for o in load.outcomes if begin + 0.5 < o.at < end]
        assert during
        assert {o.status for o in during} == {503}
    # One ERROR line per change of the database's state, a warning without traceback per refusal.
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log
    assert "unhandled exception" not in log
    assert log.count("store.down:") == len(faults)
    assert log.count("store.up:") == len(faults)
    assert log.count('"request.unavailable"') >= len(refused)
    print(f"{len(load.outcomes)} submits, {len(refused)} refused; back after {back:.1f} s and {thawed:.1f} s")

    # Nothing lost, nothing doubled: every acknowledged claim replays its bytes, stored once.
    acknowledged = [o for o in load.outcomes if o.status == 200]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for outcome in acknowledged:
            again = client.post("/Claim/$submit", content=outcome.body, headers={"Content-Type": JSON})
            assert again.status_code == 200
            assert again.content == outcome.answer
    server.stop()
    keys = {jsonio.loads(o.body)["identifier"]["value"] for o in acknowledged}
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=adapter") as c:
        stored = dict(c.execute("SELECT key_value, count(*) FROM submissions GROUP BY key_value").fetchall())
        delivered = dict(
            c.execute("SELECT submission, count(*) FROM delivery_records GROUP BY submission").fetchall()
        )
    assert keys <= set(stored)
    assert set(stored.values()) == {1}
    assert all(count <= 1 for count in delivered.values())  # one line per claim: paid at most once
