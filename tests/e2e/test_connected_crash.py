"""Connected mode with real processes, and the crash test's short form.

``adapter serve`` with remote payers (two ``adapter payer-sim`` processes injecting 20 % faults
and latency spikes past the request budget), and ``adapter worker`` completing what was pended.
Clients send JSON and XML.
Claims go in from several threads while the worker is killed with SIGKILL and restarted and the
service is killed and restarted. Then every acknowledged claim reaches a final state exactly
once, no payer decided any key twice, and a resubmission replays the final answer.

The long form (hundreds of claims, more rounds, PostgreSQL too) is ``python -m
tests.e2e.test_connected_crash --claims 500 --rounds 5`` (docs/payer-protocol.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from tests.support.identifiers import nir

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / "fixtures" / "valid" / "01-purchase-standard.json").read_text("utf-8"))
TEMPLATE_NIR = TEMPLATE["entry"][1]["resource"]["identifier"][0]["value"]
AMC_NUMBER = TEMPLATE["entry"][5]["resource"]["identifier"][0]["value"]
ADAPTER = [sys.executable, "-m", "adapter.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up (exit {process.poll()})") from None
            time.sleep(0.1)


@dataclass
class Deployment:
    """The processes of one connected deployment, started and killed at will."""

    workdir: Path
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("amo", "amc", "serve"):
            self.ports[name] = _free_port()
        routes = self.workdir / "routes.yaml"
        routes.write_text(
            f"""
amo: [{{organismes: ["0"], url: "http://127.0.0.1:{self.ports["amo"]}", name: amo-sim}}]
amc: [{{amc_numbers: ["{AMC_NUMBER}"], url: "http://127.0.0.1:{self.ports["amc"]}", name: amc-sim}}]
timeouts: {{connect: 1, read: 2}}
retries: {{attempts: 3, initial: 0.05, max: 0.2, budget: 2}}
breaker: {{failures: 50, reset_after: 1}}
""",
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "ADAPTER_DATA_DIR": str(self.workdir / "data"),
            "ADAPTER_AUTH": "disabled",
            "ADAPTER_LOG_LEVEL": "WARNING",
            "ADAPTER_PAYER_ROUTES": str(routes),
            "ADAPTER_PAYER_BUDGET": "0.4",
            "ADAPTER_WORKER_EMBEDDED": "false",
            "ADAPTER_WORKER_RETRY_SECONDS": "0.3",
            "ADAPTER_WORKER_MAX_ATTEMPTS": "200",
        }
        if self.database_url:
            self.env["ADAPTER_DATABASE_URL"] = self.database_url

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['serve']}"

    def start(self, name: str) -> None:
        if name in ("amo", "amc"):
            seed = "1" if name == "amo" else "2"
            command = [*ADAPTER, "payer-sim", "--role", name, "--port", str(self.ports[name]),
                       "--fail-rate", "0.2", "--latency-ms", "20", "--spike-rate", "0.1",
                       "--seed", seed, "--data-dir", str(self.workdir / name)]  # fmt: skip
            url = f"http://127.0.0.1:{self.ports[name]}/_health"
        elif name == "serve":
            command = [*ADAPTER, "serve", "--port", str(self.ports["serve"])]
            url = f"{self.base}/healthz"
        else:
            command = [*ADAPTER, "worker"]
            url = ""
        with (self.workdir / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        if url:
            _wait_up(url, process)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stats(self, role: str) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.ports[role]}/_stats", timeout=10).json()  # type: ignore[no-any-return]


def _claim(n: int) -> bytes:
    """The purchase scenario for the n-th patient of its own (so that no claim duplicates another)."""
    patient = nir(f"1840699{n:06d}")
    text = json.dumps(TEMPLATE).replace(TEMPLATE_NIR, patient)
    bundle = json.loads(text)
    bundle["identifier"]["value"] = f"CRASH-{n:05d}"
    return json.dumps(bundle).encode()


def _submit(base: str, n: int) -> tuple[int, dict[str, Any] | None]:
    """One claim until the service answers it (it may be down for a moment): (status, body).
    Every third claim is sent as XML (answered in JSON), the others as JSON."""
    deadline = time.monotonic() + 60
    data, media = _claim(n), "application/fhir+json"
    if n % 3 == 2:
        data, media = dump_xml(jsonio.loads(data)), "application/fhir+xml"
    while True:
        try:
            response = httpx.post(
                f"{base}/Claim/$submit",
                content=data,
                headers={"Content-Type": media, "Accept": "application/fhir+json"},
                timeout=15,
            )
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        if response.status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            continue
        return response.status_code, response.json() if response.status_code == 200 else None


def _outcomes(bundle: dict[str, Any]) -> list[str]:
    return [
        e["resource"]["outcome"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClaimResponse"
    ]


def crash_run(workdir: Path, *, claims: int, rounds: int, database_url: str | None = None) -> dict[str, Any]:
    """Run the crash test; the figures it checked (raises AssertionError on a broken guarantee)."""
    deployment = Deployment(workdir, database_url=database_url)
    chaos = random.Random(7)  # noqa: S311 - test chaos, not security
    try:
        for name in ("amo", "amc", "serve", "worker"):
            deployment.start(name)
        answers: dict[int, dict[str, Any]] = {}
        lock = threading.Lock()
        per_round = max(1, claims // rounds)
        started = time.monotonic()
        for round_ in range(rounds):
            batch = range(round_ * per_round, claims if round_ == rounds - 1 else (round_ + 1) * per_round)

            def send(numbers: list[int]) -> None:
                for n in numbers:
                    status, body = _submit(deployment.base, n)
                    assert status == 200, (n, status)
                    assert body is not None
                    with lock:
                        answers[n] = body

            numbers = list(batch)
            threads = [threading.Thread(target=send, args=(numbers[i::4],)) for i in range(4)]
            for thread in threads:
                thread.start()
            time.sleep(chaos.uniform(0.1, 0.6))
            deployment.kill("worker")  # in the middle of its work
            deployment.start("worker")
            if round_ % 2 == 1:
                deployment.kill("serve")  # with submits in flight: they retry until it is back
                deployment.start("serve")
            for thread in threads:
                thread.join(timeout=120)
        queued = sum(_outcomes(body)[0] == "queued" for body in answers.values())
        # every acknowledged claim reaches a final state: the replay answers it
        deadline = time.monotonic() + 90
        final: dict[int, list[str]] = {}
        while time.monotonic() < deadline:
            for n in range(claims):
                if n not in final:
                    status, body = _submit(deployment.base, n)
                    assert status == 200
                    assert body is not None
                    if "queued" not in _outcomes(body):
                        final[n] = _outcomes(body)
            if len(final) == claims:
                break
            time.sleep(0.5)
        assert len(answers) == claims, "every claim was acknowledged"
        assert len(final) == claims, f"{claims - len(final)} claims never left the queue"
        assert all(outcomes == ["complete", "complete"] for outcomes in final.values()), "all paid"
        # exactly one final answer each: the queued version stored first, then the final one
        for n in range(claims):
            amo_id = answers[n]["entry"][0]["resource"]["id"]
            history = httpx.get(f"{deployment.base}/ClaimResponse/{amo_id}/_history", timeout=10).json()
            outcomes = [entry["resource"]["outcome"] for entry in history["entry"]]
            assert outcomes == ["complete", "queued"], (n, outcomes)
        dead = httpx.get(f"{deployment.base}/ClaimResponse", params={"state": "dead"}, timeout=10).json()
        assert dead.get("total", 0) == 0, "nothing in the dead letters"
        for role in ("amo", "amc"):
            stats = deployment.stats(role)
            assert {entry["decided"] for entry in stats["keys"].values()} == {1}, (
                f"{role} decided a key twice"
            )
            assert stats["decisions"] == claims, f"{role} decided {stats['decisions']} claims"
        return {
            "claims": claims,
            "rounds": rounds,
            "queued at first": queued,
            "asked (amo)": deployment.stats("amo")["asked"],
            "asked (amc)": deployment.stats("amc")["asked"],
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        deployment.stop_all()


def test_the_crash_test_short_form(tmp_path: Path) -> None:
    figures = crash_run(tmp_path, claims=40, rounds=2)
    assert figures["claims"] == 40


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    if not os.environ.get("ADAPTER_TEST_DATABASE_URL"):
        pytest.skip("ADAPTER_TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    server = request.getfixturevalue("postgres")
    return str(server.create_database())


def test_the_crash_test_short_form_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    figures = crash_run(tmp_path, claims=30, rounds=2, database_url=pg_url)
    assert figures["claims"] == 30


if __name__ == "__main__":  # pragma: no cover - the long form, by hand
    import tempfile

    parser = argparse.ArgumentParser(description="the connected-mode crash test, long form")
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="a fresh PostgreSQL database (default SQLite)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        print(
            crash_run(
                Path(scratch), claims=options.claims, rounds=options.rounds, database_url=options.database_url
            )
        )
