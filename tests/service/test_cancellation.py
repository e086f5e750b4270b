"""Cancellation on the store: the claim's answer is withdrawn as a new version, what it consumed
is reversed in the same transaction, and every way of asking twice (or at once) reverses once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from adapter.access import Caller
from adapter.errors import CancelError, ConventionError, ParseError
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.service import Answer
from adapter.service.cancellation import CANCELLED_TOPIC
from adapter.service.claims import StoreService
from adapter.service.worker import PendingWorker
from adapter.store import Store
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from mappings.systems import Canon

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
SUPPLIER = Caller(client_id="supplier", everything=True)
OTHER = Caller(client_id="other-tenant", everything=True)
REASON_SYSTEM = Canon().cancel_reason
_T = TypeVar("_T")


async def _inline(work: Callable[[], _T]) -> _T:
    return work()


@pytest.fixture
def service(store: Store) -> StoreService:
    return StoreService(store, SubmitFlow(ReferencePayers.load()))


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def renamed(data: bytes, value: str) -> bytes:
    """The same Bundle under another Bundle.identifier (and Claim.identifier): a new claim."""
    bundle = jsonio.loads(data)
    bundle["identifier"]["value"] = value
    claim = bundle["entry"][0]["resource"]
    for identifier in claim.get("identifier", []):
        identifier["value"] = f"{value}-claim"
    return jsonio.dumps(bundle)


def parameters(*, data: bytes | None = None, claim_id: str | None = None, reason: str = "entered-in-error",
               note: str | None = None) -> bytes:  # fmt: skip
    params: list[dict[str, Any]] = []
    if data is not None:
        params.append({"name": "identifier", "valueIdentifier": jsonio.loads(data)["identifier"]})
    if claim_id is not None:
        params.append({"name": "claim", "valueReference": {"reference": f"Claim/{claim_id}"}})
    params.append({"name": "reason", "valueCoding": {"system": REASON_SYSTEM, "code": reason}})
    if note is not None:
        params.append({"name": "note", "valueString": note})
    return jsonio.dumps({"resourceType": "Parameters", "parameter": params})


def cancel(service: StoreService, body: bytes, *, caller: Caller = SUPPLIER, at: datetime = LATER,
           fmt: Format = Format.JSON) -> Answer | None:  # fmt: skip
    return asyncio.run(service.cancel(body, fmt, caller=caller, now=at, run=_inline, request_id="req-1"))


def statuses(bundle: dict[str, Any]) -> list[str]:
    return [
        e["resource"]["status"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClaimResponse"
    ]


def benefits(bundle: dict[str, Any]) -> list[str]:
    return [
        str(t["amount"]["value"])
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "ClaimResponse"
        for t in e["resource"].get("total", [])
        if t["category"]["coding"][0]["code"] == "benefit"
    ]


def claim_id_of(answer: Answer) -> str:
    return str(answer.resource["entry"][0]["resource"]["request"]["reference"].split("/")[1])


def count(store: Store, sql: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


def test_cancel_withdraws_the_answer_as_a_new_version(service: StoreService) -> None:
    data = fixture("18-forfait-first-use")
    submitted = service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW)
    answer = cancel(service, parameters(data=data, note="wrong patient"))

    assert answer is not None
    assert not answer.replayed
    assert statuses(answer.resource) == ["cancelled", "cancelled"]
    assert statuses(submitted.resource) == ["active", "active"]
    assert benefits(answer.resource) == benefits(submitted.resource)  # what was decided stays readable
    notes = answer.resource["entry"][0]["resource"]["processNote"]
    assert notes[-1]["text"] == "Claim cancelled on 2026-06-01 (reason: entered-in-error)."
    amo_id = answer.resource["entry"][0]["resource"]["id"]
    current = service.claim_response(amo_id, caller=SUPPLIER)
    assert current is not None
    assert current.resource["status"] == "cancelled"
    assert current.resource["meta"]["versionId"] == "2"
    history = service.claim_response_history(amo_id, caller=SUPPLIER)
    assert history is not None
    assert [(v["meta"]["versionId"], v["status"]) for v in history] == [("2", "cancelled"), ("1", "active")]
    # The replay of the submission answers the cancelled answer (the claim is withdrawn).
    assert service.submit(data, Format.JSON, caller=SUPPLIER, now=LATER).json == answer.json
    claim_id = claim_id_of(submitted)
    with service.store.read() as tx:
        record = tx.cancellation(claim_id)
        row = tx.submission_by_id(claim_id)
    assert record is not None
    assert row is not None
    assert (record.client_id, record.reason_code, record.reason_text, record.version) == (
        "supplier", "entered-in-error", "wrong patient", 2,
    )  # fmt: skip
    assert record.cancelled_at == LATER
    assert (row.state, row.version) == ("cancelled", 2)
    assert count(service.store, "SELECT COUNT(*) FROM ledger_entries WHERE reversed_at IS NULL") == 0
    assert count(service.store, "SELECT COUNT(*) FROM delivery_records WHERE reversed_at IS NULL") == 0
    assert count(service.store, "SELECT COUNT(*) FROM ledger_entries") > 0  # kept, marked reversed
    assert count(service.store, "SELECT COUNT(*) FROM audit_log WHERE action = 'cancel'") == 1


def test_the_cancellation_event_is_in_the_outbox_and_the_worker_passes_it(service: StoreService) -> None:
    data = fixture("01-purchase-standard")
    claim_id = claim_id_of(service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW))
    cancel(service, parameters(claim_id=claim_id))
    with service.store.write() as tx:
        events = tx.claim_outbox("probe", limit=10, now=LATER, lease=timedelta(0))
    cancelled = [e for e in events if e.topic == CANCELLED_TOPIC]
    assert [e.payload for e in cancelled] == [{"submission": claim_id, "tenant": "supplier", "version": 2}]

    worker = PendingWorker(service, clock=lambda: LATER + timedelta(minutes=1))
    assert asyncio.run(worker.run_once()) == 2  # claim.adjudicated and claim.cancelled: done, no failure
    assert count(service.store, "SELECT COUNT(*) FROM outbox WHERE completed_at IS NULL") == 0


def test_cancelling_twice_replays_the_same_answer(service: StoreService) -> None:
    data = fixture("01-purchase-standard")
    claim_id = claim_id_of(service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW))
    first = cancel(service, parameters(data=data))
    again = cancel(service, parameters(claim_id=claim_id, reason="duplicate"), at=LATER + timedelta(days=1))
    xml = cancel(service, dump_xml(jsonio.loads(parameters(data=data))), fmt=Format.XML)

    assert first is not None
    assert again is not None
    assert xml is not None
    assert again.replayed
    assert xml.replayed
    assert again.json == first.json == xml.json
    assert count(service.store, "SELECT COUNT(*) FROM cancellations") == 1
    assert count(service.store, "SELECT COUNT(*) FROM submission_versions") == 1


def test_another_tenants_or_an_unknown_claim_is_not_found(service: StoreService) -> None:
    data = fixture("01-purchase-standard")
    claim_id = claim_id_of(service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW))

    assert cancel(service, parameters(data=data), caller=OTHER) is None
    assert cancel(service, parameters(claim_id=claim_id), caller=OTHER) is None
    assert cancel(service, parameters(claim_id="00000000-0000-0000-0000-000000000000")) is None
    assert cancel(service, parameters(data=renamed(data, "never-submitted"))) is None
    assert count(service.store, "SELECT COUNT(*) FROM cancellations") == 0


def test_a_cancelled_forfait_consumption_is_given_back(service: StoreService) -> None:
    """domain-fr.md §3.4 example 6 without its first claim: the whole 100.00 forfait is there again."""
    first, second = fixture("18-forfait-first-use"), fixture("19-forfait-partly-used")
    service.submit(first, Format.JSON, caller=SUPPLIER, now=NOW)
    cancel(service, parameters(data=first, reason="not-delivered"))
    answer = service.submit(second, Format.JSON, caller=SUPPLIER, now=LATER + timedelta(minutes=1))
    # Uncancelled, the mutuelle pays 40.00 + min(30.00, 50.00) = 70.00 (fixture 19's expectation).
    assert benefits(answer.resource) == ["60.00", "90.00"]  # 40.00 + min(100.00, 50.00)


def a_month_later(data: bytes, value: str) -> bytes:
    """A new claim for the same device, delivered a month after ``data``'s."""
    bundle = jsonio.loads(renamed(data, value))
    item = bundle["entry"][0]["resource"]["item"][0]
    day = datetime.fromisoformat(item["servicedDate"]) + timedelta(days=31)
    item["servicedDate"] = day.date().isoformat()
    return jsonio.dumps(bundle)


def test_a_cancelled_delivery_no_longer_blocks_a_renewal(service: StoreService) -> None:
    """A glucose meter (9900402) is renewed once every 48 months: a second one a month later is
    rejected, unless the first was cancelled."""
    data = fixture("05-maternity")
    service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW)
    blocked = service.submit(a_month_later(data, "second-meter-1"), Format.JSON, caller=SUPPLIER, now=NOW)
    assert blocked.outcome == "error"
    assert "renewal-too-early" in blocked.json.decode()

    cancel(service, parameters(data=data, reason="returned"))
    renewed = service.submit(a_month_later(data, "second-meter-2"), Format.JSON, caller=SUPPLIER, now=LATER)
    assert renewed.outcome == "complete"
    assert "renewal-too-early" not in renewed.json.decode()


def test_two_cancellations_at_once_reverse_once(service: StoreService) -> None:
    data = fixture("18-forfait-first-use")
    service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW)
    reversed_before = count(service.store, "SELECT COUNT(*) FROM ledger_entries")
    barrier = threading.Barrier(2)
    answers: list[Answer | None] = []
    failures: list[BaseException] = []

    def go() -> None:
        try:
            barrier.wait()
            answers.append(cancel(service, parameters(data=data)))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(answers) == 2
    assert all(a is not None for a in answers)
    assert len({a.json for a in answers if a is not None}) == 1
    assert sorted(a.replayed for a in answers if a is not None) == [False, True]
    assert count(service.store, "SELECT COUNT(*) FROM cancellations") == 1
    assert count(service.store, "SELECT COUNT(*) FROM submission_versions") == 1
    assert count(service.store, "SELECT COUNT(*) FROM audit_log WHERE action = 'cancel'") == 1
    assert count(service.store, "SELECT COUNT(*) FROM outbox WHERE topic = 'claim.cancelled'") == 1
    assert count(service.store, "SELECT COUNT(*) FROM ledger_entries") == reversed_before


def test_a_pending_or_dead_claim_is_not_cancelled(service: StoreService) -> None:
    data = fixture("01-purchase-standard")
    claim_id = claim_id_of(service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW))
    for state in ("pending", "dead"):
        with service.store.engine.begin() as connection:
            connection.execute(text(f"UPDATE submissions SET state = '{state}'"))  # noqa: S608
        with pytest.raises(CancelError) as caught:
            cancel(service, parameters(claim_id=claim_id))
        assert caught.value.code == "claim-not-decided"
        assert caught.value.http_status == 409
    assert count(service.store, "SELECT COUNT(*) FROM cancellations") == 0


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        (
            {"resourceType": "Parameters", "parameter": [
                {"name": "reason", "valueCoding": {"system": REASON_SYSTEM, "code": "other"}},
            ]},
            [("cancel-request-invalid", "Parameters.parameter")],
        ),
        (
            {"resourceType": "Parameters", "parameter": [
                {"name": "claim", "valueReference": {"reference": "Claim/x"}},
                {"name": "reason", "valueCoding": {"system": REASON_SYSTEM, "code": "changed-my-mind"}},
            ]},
            [("cancel-reason-unknown", "Parameters.parameter[1].valueCoding.code")],
        ),
        (
            {"resourceType": "Parameters", "parameter": [
                {"name": "claim", "valueReference": {"reference": "Patient/x"}},
                {"name": "identifier", "valueIdentifier": {"system": "urn:x"}},
                {"name": "why", "valueString": "x"},
            ]},
            [
                ("cancel-request-invalid", "Parameters.parameter[2].name"),
                ("cancel-request-invalid", "Parameters.parameter[1].valueIdentifier"),
                ("cancel-request-invalid", "Parameters.parameter[0].valueReference.reference"),
                ("cancel-request-invalid", "Parameters.parameter"),
                ("cancel-request-invalid", "Parameters.parameter"),
            ],
        ),
    ],
)  # fmt: skip
def test_a_malformed_cancellation_names_its_parameters(
    service: StoreService, body: dict[str, Any], codes: list[tuple[str, str]]
) -> None:
    with pytest.raises(ConventionError) as caught:
        cancel(service, jsonio.dumps(body))
    assert [(issue.code, issue.expression) for issue in caught.value.issues] == codes


def test_a_body_that_is_not_parameters_is_unreadable(service: StoreService) -> None:
    with pytest.raises(ParseError):
        cancel(service, fixture("01-purchase-standard"))
    with pytest.raises(ParseError):
        cancel(service, b"{")
