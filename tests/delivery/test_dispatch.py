"""The dispatcher on a real store: outbox events fanned out to destinations, delivered at least
once and applied once by the mutuelle's reference receiver (the AMC simulator), retried with
backoff, dead-lettered with the receiver's answer on a refusal, requeued by an operator, and
sent in order per claim."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.access import Caller
from adapter.delivery import Event, Sent
from adapter.delivery.mutuelle import MutuelleDestination
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.payers.routing import parse_routes
from adapter.payersim import Faults, SimState, create_sim_app
from adapter.service import Requeue
from adapter.service.claims import StoreService
from adapter.service.dispatch import Dispatcher, DispatchSettings
from adapter.store import Store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
OPERATOR = Caller(client_id="operator", everything=True)
ROUTES = parse_routes(
    """
amc:
  - {amc_numbers: ["MUTEX00001", "MUTEX00002"], delivery_url: "http://amc.sim/amc/deliveries", name: mutex}
"""
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    """A destination that takes every event, refusing the first ``refuse`` sends."""

    kind = "recorder"

    def __init__(self, retry_first: int = 0) -> None:
        self.sent: list[Event] = []
        self.retry_first = retry_first

    def targets(self, event: Event) -> Sequence[str]:
        return ("all",)

    async def send(self, event: Event, target: str) -> Sent:
        if self.retry_first > 0:
            self.retry_first -= 1
            return Sent.retry("not now")
        self.sent.append(event)
        return Sent.delivered()

    async def close(self) -> None:
        return None


class Mutuelle:
    def __init__(self, tmp_path: Path) -> None:
        self.faults = Faults()
        self.state = SimState(tmp_path / "amc.sqlite3")
        self.app = create_sim_app("amc", ReferencePayers.load(), self.state, faults=self.faults, seed=3)

    def destination(self) -> MutuelleDestination:
        return MutuelleDestination(ROUTES, transport=httpx.ASGITransport(app=self.app))


@pytest.fixture
def service(store: Store) -> StoreService:
    return StoreService(store, SubmitFlow(ReferencePayers.load()))


@pytest.fixture
def mutuelle(tmp_path: Path) -> Mutuelle:
    return Mutuelle(tmp_path)


def _submit(service: StoreService, name: str, clock: Clock) -> str:
    data = (FIXTURES / name).read_bytes()
    answer = service.submit(data, Format.JSON, caller=OPERATOR, now=clock())
    return str(answer.resource["entry"][0]["resource"]["id"])


def _drain(dispatcher: Dispatcher, clock: Clock, rounds: int = 50) -> None:
    async def run() -> None:
        for _ in range(rounds):
            done = await dispatcher.run_once()
            clock.advance(600)  # past any backoff
            if done == 0:
                return

    asyncio.run(run())


def _dispatcher(service: StoreService, destinations: list[Any], clock: Clock, **settings: Any) -> Dispatcher:
    return Dispatcher(
        service, destinations, clock=clock, name="test", settings=DispatchSettings(**settings), seed=1
    )


def test_the_decision_reaches_the_mutuelle_once_with_what_identifies_its_member(
    service: StoreService, mutuelle: Mutuelle
) -> None:
    clock = Clock()
    _submit(service, "01-purchase-standard.json", clock)
    _drain(_dispatcher(service, [mutuelle.destination()], clock), clock)
    received = mutuelle.state.received()
    assert received["applied"] == 1
    assert received["received"] == 1
    (delivered,) = service.deliveries(caller=OPERATOR)
    assert (delivered.destination, delivered.target, delivered.state) == ("mutuelle", "mutex", "delivered")
    assert delivered.event_type == "claim.adjudicated"
    assert delivered.attempts == 1
    assert list(received["events"]) == [delivered.event_id]
    answer = service.claim_answer(delivered.claim_id, caller=OPERATOR)
    assert answer is not None
    ids = [
        e["resource"]["id"]
        for e in answer.resource["entry"]
        if e["resource"]["resourceType"] == "ClaimResponse"
    ]
    assert received["events"][delivered.event_id]["claim_responses"] == ids
    assert len(ids) == 2


@pytest.mark.parametrize("suffix", ["json", "xml"])
def test_the_bundle_carries_the_event_id_the_patient_and_the_amc_coverage(
    service: StoreService, suffix: str
) -> None:
    seen: list[dict[str, Any]] = []
    clock = Clock()

    async def spy(request: httpx.Request) -> httpx.Response:
        seen.append({"headers": dict(request.headers), "body": request.read()})
        return httpx.Response(200, json={"resourceType": "OperationOutcome"})

    destination = MutuelleDestination(ROUTES, transport=httpx.MockTransport(spy))
    data = (FIXTURES / f"01-purchase-standard.{suffix}").read_bytes()
    service.submit(data, Format.XML if suffix == "xml" else Format.JSON, caller=OPERATOR, now=clock())
    _drain(_dispatcher(service, [destination], clock), clock)
    (request,) = seen
    import json

    bundle = json.loads(request["body"])
    event_id = request["headers"]["x-event-id"]
    assert bundle["identifier"]["value"] == f"urn:uuid:{event_id}"
    assert bundle["id"] == event_id
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["ClaimResponse", "ClaimResponse", "Patient", "Coverage", "Organization"]
    assert bundle["entry"][4]["resource"]["identifier"][0]["value"] == "MUTEX00001"
    assert request["headers"]["content-type"] == "application/fhir+json"


def test_a_refusal_is_dead_with_the_mutuelles_answer_then_requeued_and_delivered(
    service: StoreService, mutuelle: Mutuelle
) -> None:
    clock = Clock()
    mutuelle.faults.delivery_reject_rate = 1.0
    recorder = Recorder()
    dispatcher = _dispatcher(service, [mutuelle.destination(), recorder], clock)
    _submit(service, "01-purchase-standard.json", clock)
    _drain(dispatcher, clock)
    (dead,) = service.deliveries(caller=OPERATOR, state="dead")
    assert dead.attempts == 1
    assert dead.last_error is not None
    assert dead.last_error.startswith("HTTP 422:")
    assert "injected refusal" in dead.last_error
    assert mutuelle.state.received()["applied"] == 0
    # the event stream hears of the failure
    failed = [event for event in recorder.sent if event.type == "delivery.failed"]
    assert len(failed) == 1
    assert failed[0].detail["destination"] == "mutuelle"
    assert failed[0].resource["resourceType"] == "OperationOutcome"
    assert service.requeue_delivery(dead.id, caller=OPERATOR, now=clock()) is Requeue.REQUEUED
    assert service.requeue_delivery(dead.id, caller=OPERATOR, now=clock()) is Requeue.NOT_DEAD
    assert service.requeue_delivery(99999, caller=OPERATOR, now=clock()) is Requeue.NOT_FOUND
    mutuelle.faults.delivery_reject_rate = 0.0
    _drain(dispatcher, clock)
    assert [d.state for d in service.deliveries(caller=OPERATOR, destination="mutuelle")] == ["delivered"]
    assert mutuelle.state.received()["applied"] == 1


def test_faults_are_retried_until_delivered_and_applied_once(
    service: StoreService, mutuelle: Mutuelle
) -> None:
    clock = Clock()
    mutuelle.faults.delivery_fail_rate = 0.6
    for name in ("01-purchase-standard.json", "02-rental-bed.json", "03-two-lines.json", "04-ald.json"):
        _submit(service, name, clock)
    dispatcher = _dispatcher(service, [mutuelle.destination()], clock, max_attempts=50)
    _drain(dispatcher, clock, rounds=200)
    deliveries = service.deliveries(caller=OPERATOR)
    assert deliveries
    assert {d.state for d in deliveries} == {"delivered"}
    received = mutuelle.state.received()
    assert received["applied"] == len(deliveries) >= 3
    assert received["received"] >= received["applied"]
    assert max(d.attempts for d in deliveries) > 1  # some were retried


def test_attempts_run_out_into_the_dead_letters(service: StoreService, mutuelle: Mutuelle) -> None:
    clock = Clock()
    mutuelle.faults.delivery_fail_rate = 1.0
    _submit(service, "01-purchase-standard.json", clock)
    _drain(_dispatcher(service, [mutuelle.destination()], clock, max_attempts=3), clock)
    (dead,) = service.deliveries(caller=OPERATOR, state="dead")
    assert dead.attempts == 3
    assert dead.last_error is not None
    assert dead.last_error.startswith("HTTP 50")


def test_a_claims_events_go_in_order_and_a_retry_holds_back_the_later_ones(service: StoreService) -> None:
    clock = Clock()
    recorder = Recorder(retry_first=2)
    _submit(service, "01-purchase-standard.json", clock)
    _drain(_dispatcher(service, [recorder], clock), clock)
    types = [event.type for event in recorder.sent]
    assert types == ["claim.accepted", "claim.adjudicated", "claim.completed"]
    assert len({event.id for event in recorder.sent}) == 3
    assert len({e.claim for e in recorder.sent}) == 1
    first = service.deliveries(caller=OPERATOR)[0]
    assert (first.event_type, first.attempts, first.last_error) == ("claim.accepted", 3, "not now")


def test_backoff_doubles_within_its_bounds(service: StoreService) -> None:
    dispatcher = _dispatcher(service, [], Clock(), initial=1.0, max_backoff=10.0)
    waits = [dispatcher.backoff(attempt) for attempt in range(1, 8)]
    assert 0.5 <= waits[0] <= 1.0
    assert 1.0 <= waits[1] <= 2.0
    assert all(5.0 <= w <= 10.0 for w in waits[4:])
    assert dispatcher.backoff(1, hint=30.0) == 30.0


def test_a_tenant_sees_only_the_deliveries_of_its_claims(service: StoreService) -> None:
    clock = Clock()
    _submit(service, "01-purchase-standard.json", clock)
    _drain(_dispatcher(service, [Recorder()], clock), clock)
    assert len(service.deliveries(caller=OPERATOR)) == 3
    assert service.deliveries(caller=Caller(client_id="someone-else")) == []


def test_a_cancellation_reaches_the_mutuelle_with_the_claim_responses_cancelled(
    service: StoreService,
) -> None:
    """The mutuelle hears of the decision, then of its withdrawal (``POST /Claim/$cancel``): a
    second Bundle under its own event id, whose ClaimResponses read ``cancelled``, with the member."""
    import json

    seen: list[dict[str, Any]] = []
    clock = Clock()

    async def spy(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.read()))
        return httpx.Response(200, json={"resourceType": "OperationOutcome"})

    async def inline(function: Any, *args: Any) -> Any:
        return function(*args)

    destination = MutuelleDestination(ROUTES, transport=httpx.MockTransport(spy))
    _submit(service, "01-purchase-standard.json", clock)
    _drain(_dispatcher(service, [destination], clock), clock)
    submitted = json.loads((FIXTURES / "01-purchase-standard.json").read_bytes())
    body = json.dumps(
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "identifier", "valueIdentifier": submitted["identifier"]},
                {
                    "name": "reason",
                    "valueCoding": {
                        "system": "https://adapter.example/fhir/CodeSystem/cancel-reason",
                        "code": "not-delivered",
                    },
                },
            ],
        }
    ).encode()
    cancelled = asyncio.run(service.cancel(body, Format.JSON, caller=OPERATOR, now=clock(), run=inline))
    assert cancelled is not None
    _drain(_dispatcher(service, [destination], clock), clock)

    decision, withdrawal = seen
    assert decision["id"] != withdrawal["id"]

    def statuses(bundle: dict[str, Any]) -> list[str]:
        return [
            e["resource"]["status"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "ClaimResponse"
        ]

    assert statuses(decision) == ["active", "active"]
    assert statuses(withdrawal) == ["cancelled", "cancelled"]
    kinds = [entry["resource"]["resourceType"] for entry in withdrawal["entry"]]
    assert kinds == ["ClaimResponse", "ClaimResponse", "Patient", "Coverage", "Organization"]
    types = sorted(d.event_type for d in service.deliveries(caller=OPERATOR))
    assert types == ["claim.adjudicated", "claim.cancelled"]
