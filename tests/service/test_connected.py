"""Connected mode end to end in one process: the real app and store, remote payers reached over
the payer protocol (the simulators, through httpx's ASGI transport), and the worker.

A payer that answers within the budget gives the final answer at once; a slow one gives a
``queued`` answer that the worker completes as the claim's next version; payers that never
answer end in the dead letters with an error answer. No key is ever decided twice.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from adapter.access import Caller
from adapter.bootstrap import build_app
from adapter.cli import app as cli
from adapter.flow import RemotePair, SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.payers.http import HttpAmc, HttpAmo, PayerHttp
from adapter.payers.routing import parse_routes
from adapter.payersim import Faults, SimState, create_sim_app
from adapter.service.claims import StoreService
from adapter.service.worker import PendingWorker, WorkerSettings
from adapter.settings import Settings
from mappings.fhir import jsonio

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
JSON = {"Content-Type": "application/fhir+json"}
EVERYONE = Caller(client_id="dev-client", everything=True)
ROUTES = parse_routes(
    """
amo: [{organismes: ["0"], url: "http://amo.sim", name: amo-sim}]
amc:
  - {amc_numbers: ["MUTEX00001", "MUTEX00002", "MUTEX00003"], url: "http://amc.sim", name: amc-sim}
timeouts: {connect: 5, read: 5}
retries: {attempts: 2, initial: 0.001, max: 0.01, budget: 5}
breaker: {failures: 1000, reset_after: 1}
"""
)


class Payers:
    """Two simulators (their own records) and, per event loop, the gateways that reach them."""

    def __init__(self, tmp_path: Path) -> None:
        reference = ReferencePayers.load()
        self.faults = Faults()
        self.amo_state = SimState(tmp_path / "amo.sqlite3")
        self.amc_state = SimState(tmp_path / "amc.sqlite3")
        self.amo_app = create_sim_app("amo", reference, self.amo_state, faults=self.faults, seed=5)
        self.amc_app = create_sim_app("amc", reference, self.amc_state, faults=self.faults, seed=5)

    def pair(self) -> RemotePair:
        amo = PayerHttp(ROUTES, transport=httpx.ASGITransport(app=self.amo_app))
        amc = PayerHttp(ROUTES, transport=httpx.ASGITransport(app=self.amc_app))

        async def close() -> None:
            await amo.aclose()
            await amc.aclose()

        return RemotePair(amo=HttpAmo(amo), amc=HttpAmc(amc), close=close)

    def decided_once(self) -> bool:
        return all(
            {entry["decided"] for entry in state.stats()["keys"].values()} <= {1}
            for state in (self.amo_state, self.amc_state)
        )


@pytest.fixture
def payers(tmp_path: Path) -> Payers:
    return Payers(tmp_path)


def _client(tmp_path: Path, payers: Payers, budget: float) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        auth="disabled",
        log_level="ERROR",
        payer_budget=budget,
        worker_embedded=False,
    )
    with TestClient(build_app(settings, payers=payers.pair())) as test_client:
        yield test_client


@pytest.fixture
def client(tmp_path: Path, payers: Payers) -> Iterator[TestClient]:
    """The app with a generous payer budget: payers that answer are in time, even on a loaded machine."""
    yield from _client(tmp_path, payers, budget=30.0)


@pytest.fixture
def impatient(tmp_path: Path, payers: Payers) -> Iterator[TestClient]:
    """The app with a short payer budget (0.2 s), for payers slower than that."""
    yield from _client(tmp_path, payers, budget=0.2)


def _worker(client: TestClient, payers: Payers, **settings: Any) -> PendingWorker:
    """A worker on the app's store with gateways of its own (it runs in another event loop)."""
    service = client.app.state.ctx.service  # type: ignore[attr-defined]
    own = StoreService(service.store, SubmitFlow(payers.pair()))
    defaults = {"retry_after": timedelta(0), "idle": 0.01}
    return PendingWorker(
        own, clock=lambda: datetime.now(UTC), settings=WorkerSettings(**(defaults | settings))
    )


def _drain(worker: PendingWorker, rounds: int = 10) -> None:
    async def go() -> None:
        try:
            for _ in range(rounds):
                await worker.run_once()
        finally:
            assert isinstance(worker.service.flow.payers, RemotePair)
            close = worker.service.flow.payers.close
            if close is not None:
                await close()

    asyncio.run(go())


def _outcomes(bundle: dict[str, Any]) -> list[str]:
    return [
        e["resource"]["outcome"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClaimResponse"
    ]


def _benefits(bundle: dict[str, Any]) -> list[str]:
    return [
        str(t["amount"]["value"])
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "ClaimResponse"
        for t in e["resource"].get("total", [])
        if t["category"]["coding"][0]["code"] == "benefit"
    ]


def _fixture(name: str = "01-purchase-standard") -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_payers_that_answer_in_time_give_the_final_answer_at_once(client: TestClient, payers: Payers) -> None:
    first = client.post("/Claim/$submit", content=_fixture(), headers=JSON)
    again = client.post("/Claim/$submit", content=_fixture(), headers=JSON)
    assert first.status_code == again.status_code == 200
    body = jsonio.loads(first.content)
    assert _outcomes(body) == ["complete", "complete"]
    assert _benefits(body) == ["60.00", "90.00"]  # as the in-process payers answer
    assert again.content == first.content
    assert payers.amo_state.stats()["decisions"] == 1
    assert payers.decided_once()


def test_a_slow_payer_gives_a_queued_answer_that_the_worker_completes(
    impatient: TestClient, payers: Payers
) -> None:
    client = impatient
    payers.faults.latency_ms = 1000  # past the 0.2 s budget
    queued = client.post("/Claim/$submit", content=_fixture(), headers=JSON)
    assert queued.status_code == 200
    queued_body = jsonio.loads(queued.content)
    assert _outcomes(queued_body) == ["queued", "queued"]
    amo_id = queued_body["entry"][0]["resource"]["id"]

    payers.faults.latency_ms = 0
    _drain(_worker(client, payers))

    read = client.get(f"/ClaimResponse/{amo_id}")
    assert read.status_code == 200
    assert read.json()["outcome"] == "complete"
    assert read.json()["meta"]["versionId"] == "2"
    replay = jsonio.loads(client.post("/Claim/$submit", content=_fixture(), headers=JSON).content)
    assert _outcomes(replay) == ["complete", "complete"]
    assert _benefits(replay) == ["60.00", "90.00"]
    assert payers.decided_once()  # the payer that decided during the slow exchange answered the same

    inquiry = {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": jsonio.loads(_fixture())["identifier"],
    }
    inquired = client.post("/Claim/$inquire", content=jsonio.dumps(inquiry), headers=JSON)
    assert inquired.status_code == 200
    assert inquired.content == client.post("/Claim/$submit", content=_fixture(), headers=JSON).content
    history = client.get(f"/ClaimResponse/{amo_id}/_history").json()
    assert history["type"] == "history"
    assert [(e["resource"]["meta"]["versionId"], e["resource"]["outcome"]) for e in history["entry"]] == [
        ("2", "complete"),
        ("1", "queued"),
    ]
    service: StoreService = client.app.state.ctx.service  # type: ignore[attr-defined]
    stranger = Caller(client_id="stranger", finess=frozenset({"999999999"}))
    assert service.inquire(jsonio.dumps(inquiry), Format.JSON, caller=stranger) is None
    assert service.claim_response_history(amo_id, caller=stranger) is None


def test_an_inquiry_needs_the_bundle_identifier(client: TestClient) -> None:
    answer = client.post(
        "/Claim/$inquire", content=b'{"resourceType": "Bundle", "type": "collection"}', headers=JSON
    )
    assert answer.status_code == 422
    [issue] = answer.json()["issue"]
    assert (issue["details"]["coding"][0]["code"], issue["expression"]) == (
        "bundle-identifier-missing",
        ["Bundle.identifier"],
    )
    unknown = {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": "urn:x", "value": "none"},
    }
    assert client.post("/Claim/$inquire", content=jsonio.dumps(unknown), headers=JSON).status_code == 404
    assert client.post("/Claim/$inquire", content=b"{", headers=JSON).status_code == 400


def test_payers_that_never_answer_end_in_the_dead_letters(impatient: TestClient, payers: Payers) -> None:
    client = impatient
    payers.faults.fail_rate = 1.0
    queued = client.post("/Claim/$submit", content=_fixture(), headers=JSON)
    assert _outcomes(jsonio.loads(queued.content)) == ["queued", "queued"]
    _drain(_worker(client, payers, max_attempts=3))

    service: StoreService = client.app.state.ctx.service  # type: ignore[attr-defined]
    with service.store.read() as tx:
        [dead] = tx.submissions_in_state("dead", caller=EVERYONE)
    assert dead.dead_reason is not None
    assert "no answer" in dead.dead_reason
    final = jsonio.loads(dead.response_json)
    assert _outcomes(final) == ["error"]
    assert "payer-unavailable" in dead.response_json.decode()
    with service.store.read() as tx:
        assert [version for version, *_ in tx.answer_versions(dead.id)] == [1]


def test_the_dead_letters_command_lists_and_requeues(
    impatient: TestClient, payers: Payers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``adapter dead-letters`` on the same store: the claim listed with its reason, requeued once,
    then refused (not dead any more); an unknown id is refused too."""
    payers.faults.fail_rate = 1.0
    impatient.post("/Claim/$submit", content=_fixture(), headers=JSON)
    _drain(_worker(impatient, payers, max_attempts=1))
    monkeypatch.setenv("ADAPTER_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    listed = runner.invoke(cli, ["dead-letters"])
    assert listed.exit_code == 0, listed.output
    [line] = listed.stdout.splitlines()
    claim_id, _, reason = line.split("\t")
    assert "no answer" in reason
    requeued = runner.invoke(cli, ["dead-letters", "--requeue", claim_id])
    assert (requeued.exit_code, requeued.stdout.strip()) == (0, f"{claim_id} requeued")
    again = runner.invoke(cli, ["dead-letters", "--requeue", claim_id])
    assert again.exit_code == 1
    assert "is not a dead-lettered claim" in again.stderr
    unknown = runner.invoke(cli, ["dead-letters", "--requeue", "no-such-claim"])
    assert unknown.exit_code == 1
    assert "no claim no-such-claim" in unknown.stderr
    assert runner.invoke(cli, ["dead-letters"]).stdout == ""


def test_the_outbox_is_drained_and_pruned(client: TestClient, payers: Payers) -> None:
    for name in ("01-purchase-standard", "02-rental-bed", "03-two-lines"):
        assert client.post("/Claim/$submit", content=_fixture(name), headers=JSON).status_code == 200
    worker = _worker(client, payers, retention=timedelta(0), prune_every=timedelta(0))
    _drain(worker, rounds=3)
    with worker.service.store.write() as tx:
        assert tx.claim_outbox("probe", limit=100, now=datetime.now(UTC)) == []
        assert tx.prune_outbox(completed_before=datetime.now(UTC)) == 0  # already pruned
