"""Connected mode with real processes, and the crash test's short form.

``adapter serve`` with remote payers (two ``adapter payer-sim`` processes injecting 20 % faults
and latency spikes past the request budget), and ``adapter worker`` completing what was pended.
Clients send JSON and XML.
Claims go in from several threads while the worker is killed with SIGKILL and restarted and the
service is killed and restarted. Then every acknowledged claim reaches a final state exactly
once, no payer decided any key twice, and a resubmission replays the final answer.

The decisions are delivered to the mutuelle (the AMC simulator's receiver, failing 20 % of the
deliveries), every completion is notified to a rest-hook Subscription (its endpoint failing one
notification in five, each checked for its signature), and, with ``ADAPTER_TEST_AMQP_URL``,
every event is published to an exchange of the run's own; the worker is killed again while it
delivers. Then every decision and every notification arrived at least once and was applied
once, and every event of every claim arrived, in order per claim.

The long form (hundreds of claims, more rounds, PostgreSQL too) is ``python -m
tests.e2e.test_connected_crash --claims 500 --rounds 5`` (docs/payer-protocol.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from adapter.notify import verify
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from mappings.systems import Canon
from tests.support.identifiers import nir
from tests.support.receiver import Receiver, receiver

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / "fixtures" / "valid" / "01-purchase-standard.json").read_text("utf-8"))
TEMPLATE_NIR = TEMPLATE["entry"][1]["resource"]["identifier"][0]["value"]
AMC_NUMBER = TEMPLATE["entry"][5]["resource"]["identifier"][0]["value"]
ADAPTER = [sys.executable, "-m", "adapter.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_up(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up (exit {process.poll()})") from None
            time.sleep(0.1)


class StreamConsumer:
    """A queue bound to every event of the run's own exchange, read on a thread of its own."""

    def __init__(self, url: str, exchange: str) -> None:
        self.url = url
        self.exchange = exchange
        self.messages: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._consume()), daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the event stream's test queue could not be set up")

    async def _consume(self) -> None:
        connection = await aio_pika.connect(self.url)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(f"{self.exchange}.crash", exclusive=True, auto_delete=True)
            await queue.bind(exchange, routing_key="#")
            self._ready.set()
            while not self._stop.is_set():
                message = await queue.get(fail=False)
                if message is None:
                    await asyncio.sleep(0.05)
                    continue
                await message.ack()
                body = json.loads(message.body)
                self.messages.append({"id": message.message_id, "type": message.type, "claim": body["claim"]})
            await exchange.delete()
        finally:
            await connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@dataclass
class Deployment:
    """The processes of one connected deployment, started and killed at will."""

    workdir: Path
    database_url: str | None = None
    events_url: str | None = None
    exchange: str = field(default_factory=lambda: f"adapter-crash.{uuid.uuid4().hex}")
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
amc:
  - amc_numbers: ["{AMC_NUMBER}"]
    url: "http://127.0.0.1:{self.ports["amc"]}"
    delivery_url: "http://127.0.0.1:{self.ports["amc"]}/amc/deliveries"
    name: amc-sim
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
            "ADAPTER_DELIVERY_RETRY_SECONDS": "0.1",
            "ADAPTER_DELIVERY_RETRY_MAX_SECONDS": "1",
            "ADAPTER_DELIVERY_MAX_ATTEMPTS": "200",
        }
        if self.database_url:
            self.env["ADAPTER_DATABASE_URL"] = self.database_url
        if self.events_url:
            self.env["ADAPTER_EVENTS_URL"] = self.events_url
            self.env["ADAPTER_EVENTS_EXCHANGE"] = self.exchange

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
        if name == "amc":  # the mutuelle's receiver fails one delivery in five
            faults = httpx.put(
                f"http://127.0.0.1:{self.ports[name]}/_faults", json={"delivery_fail_rate": 0.2}
            )
            faults.raise_for_status()

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

    def deliveries(self, state: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.base}/$deliveries", params={"state": state, "_count": 1000}, timeout=10)
        answer.raise_for_status()
        return answer.json()["deliveries"]  # type: ignore[no-any-return]

    def received(self) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.ports['amc']}/_deliveries", timeout=10).json()  # type: ignore[no-any-return]

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
    deadline = time.monotonic() + 180
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


def crash_run(
    workdir: Path,
    *,
    claims: int,
    rounds: int,
    database_url: str | None = None,
    events_url: str | None = None,
) -> dict[str, Any]:
    """Run the crash test; the figures it checked (raises AssertionError on a broken guarantee).
    With ``events_url`` (a RabbitMQ), the event stream is checked too."""
    deployment = Deployment(workdir, database_url=database_url, events_url=events_url)
    chaos = random.Random(7)  # noqa: S311 - test chaos, not security
    consumer = None if events_url is None else StreamConsumer(events_url, deployment.exchange)
    with receiver() as subscriber:
        # the subscriber's endpoint answers the handshake, then fails one notification in five
        subscriber.statuses = [200] + [503 if chaos.random() < 0.2 else 200 for _ in range(20 * claims)]
        return _crash_run(deployment, chaos, consumer, subscriber, claims=claims, rounds=rounds)


def _crash_run(
    deployment: Deployment,
    chaos: random.Random,
    consumer: StreamConsumer | None,
    subscriber: Receiver,
    *,
    claims: int,
    rounds: int,
) -> dict[str, Any]:
    try:
        if consumer is not None:
            consumer.start()
        for name in ("amo", "amc", "serve", "worker"):
            deployment.start(name)
        _subscribe(deployment, subscriber)
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
                thread.join(timeout=300)
        queued = sum(_outcomes(body)[0] == "queued" for body in answers.values())
        # every acknowledged claim reaches a final state: the replay answers it
        deadline = time.monotonic() + 180
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
        figures = {
            "claims": claims,
            "rounds": rounds,
            "queued at first": queued,
            "asked (amo)": deployment.stats("amo")["asked"],
            "asked (amc)": deployment.stats("amc")["asked"],
        }
        figures |= _check_deliveries(deployment, answers, claims, consumer)
        figures |= _check_notifications(answers, claims, subscriber)
        figures["seconds"] = round(time.monotonic() - started, 1)
        return figures
    finally:
        deployment.stop_all()
        if consumer is not None:
            consumer.stop()


SECRET = "crash-test-secret-0123456789abcdef0123456789"  # noqa: S105 - a test endpoint's signing secret


def _subscribe(deployment: Deployment, subscriber: Receiver) -> None:
    """Register a rest-hook Subscription to every final ClaimResponse; its handshake succeeds."""
    resource = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "crash test",
        "criteria": "ClaimResponse",
        "channel": {
            "type": "rest-hook",
            "endpoint": subscriber.url,
            "payload": "application/fhir+json",
            "extension": [{"url": Canon().subscription_secret, "valueString": SECRET}],
        },
    }
    answer = httpx.post(
        f"{deployment.base}/Subscription",
        content=json.dumps(resource),
        headers={"Content-Type": "application/fhir+json"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "active", answer.text


def _check_notifications(
    answers: dict[int, dict[str, Any]], claims: int, subscriber: Receiver
) -> dict[str, Any]:
    """Every claim's completion was notified, signed, at least once with a 2xx answer; a repeat
    carries the same event id, so the subscriber applies each once."""
    applied: dict[str, bytes] = {}
    for received in subscriber.received:
        assert verify(SECRET, received.headers["x-signature"], received.body, now=int(time.time())), "signed"
        if received.status == 200:
            applied.setdefault(received.headers["x-event-id"], received.body)
    focus: set[str] = set()
    for body in applied.values():
        notification = json.loads(body)
        status = notification["entry"][0]["resource"]
        kinds = [p.get("valueCode") for p in status["parameter"] if p["name"] == "type"]
        if kinds == ["handshake"]:
            continue
        for parameter in status["parameter"]:
            if parameter["name"] == "notification-event":
                focus |= {
                    part["valueReference"]["reference"].rsplit("/", 1)[-1]
                    for part in parameter["part"]
                    if part["name"] == "focus"
                }
    amo_ids = {answers[n]["entry"][0]["resource"]["id"] for n in range(claims)}
    assert amo_ids <= focus, f"{len(amo_ids - focus)} claims' completions were never notified"
    return {"notifications received": len(subscriber.received), "notifications applied": len(applied)}


def _check_deliveries(
    deployment: Deployment, answers: dict[int, dict[str, Any]], claims: int, consumer: StreamConsumer | None
) -> dict[str, Any]:
    """Kill the worker while it delivers, then: every decision delivered to the mutuelle and applied
    once, nothing dead, and (with a stream) every event of every claim arrived, in order per claim."""
    deployment.kill("worker")
    deployment.start("worker")
    time.sleep(0.3)
    deployment.kill("worker")  # again, in the middle of its sends
    deployment.start("worker")
    deadline = time.monotonic() + 120
    while deployment.deliveries("pending") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert deployment.deliveries("pending") == [], "every delivery was made"
    assert deployment.deliveries("dead") == [], "no delivery in the dead letters"
    received = deployment.received()
    assert received["applied"] == claims, f"the mutuelle applied {received['applied']} decisions"
    amc_ids = {answers[n]["entry"][1]["resource"]["id"] for n in range(claims)}
    delivered_ids = {ids[1] for ids in (entry["claim_responses"] for entry in received["events"].values())}
    assert delivered_ids == amc_ids, "each claim's decision reached the mutuelle"
    figures: dict[str, Any] = {
        "mutuelle received": received["received"],
        "mutuelle applied": received["applied"],
    }
    if consumer is None:
        return figures
    expected = ["claim.accepted", "claim.pended", "claim.adjudicated", "claim.completed"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len({message["id"] for message in consumer.messages}) >= claims * len(expected):
            break
        time.sleep(0.2)
    per_claim: dict[str, list[str]] = {}
    seen: set[str] = set()
    for message in list(consumer.messages):
        if message["id"] not in seen:  # a repeat carries the same id: applied once
            seen.add(message["id"])
            per_claim.setdefault(message["claim"], []).append(message["type"])
    assert len(per_claim) == claims, f"events of {len(per_claim)} claims arrived"
    assert all(types == expected for types in per_claim.values()), "every event, in order per claim"
    figures |= {"events received": len(consumer.messages), "events applied": len(seen)}
    return figures


def test_the_crash_test_short_form(tmp_path: Path) -> None:
    events_url = os.environ.get("ADAPTER_TEST_AMQP_URL")
    figures = crash_run(tmp_path, claims=40, rounds=2, events_url=events_url)
    assert figures["mutuelle applied"] == 40
    if events_url:
        assert figures["events applied"] == 4 * 40


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    if not os.environ.get("ADAPTER_TEST_DATABASE_URL"):
        pytest.skip("ADAPTER_TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    server = request.getfixturevalue("postgres")
    return str(server.create_database())


def test_the_crash_test_short_form_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    events_url = os.environ.get("ADAPTER_TEST_AMQP_URL")
    figures = crash_run(tmp_path, claims=30, rounds=2, database_url=pg_url, events_url=events_url)
    assert figures["mutuelle applied"] == 30


if __name__ == "__main__":  # pragma: no cover - the long form, by hand
    import tempfile

    parser = argparse.ArgumentParser(description="the connected-mode crash test, long form")
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="a fresh PostgreSQL database (default SQLite)")
    parser.add_argument("--events-url", default=None, help="a RabbitMQ to publish the events to (amqp://…)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        print(
            crash_run(
                Path(scratch),
                claims=options.claims,
                rounds=options.rounds,
                database_url=options.database_url,
                events_url=options.events_url,
            )
        )
