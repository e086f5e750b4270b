"""Cancellation in connected mode: each remote payer cancels its own decision over the payer
protocol (``amo-cancel-request``, ``amc-cancel-request``) and reverses its records once; a payer
that cannot be reached leaves everything as it was (503), and the retry cancels."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mappings.fhir import jsonio
from mappings.systems import Canon
from tests.service.test_connected import JSON, Payers, _client, _fixture

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

REASON = Canon().cancel_reason


@pytest.fixture
def sims(tmp_path: Path) -> Payers:
    return Payers(tmp_path)


@pytest.fixture
def connected(tmp_path: Path, sims: Payers) -> Iterator[TestClient]:
    yield from _client(tmp_path, sims, budget=30.0)


@pytest.fixture
def impatient_client(tmp_path: Path, sims: Payers) -> Iterator[TestClient]:
    yield from _client(tmp_path, sims, budget=0.2)


def cancellation(data: bytes, reason: str = "entered-in-error") -> bytes:
    body: dict[str, Any] = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "identifier", "valueIdentifier": jsonio.loads(data)["identifier"]},
            {"name": "reason", "valueCoding": {"system": REASON, "code": reason}},
        ],
    }
    return jsonio.dumps(body)


def statuses(body: dict[str, Any]) -> list[str]:
    return [
        e["resource"]["status"] for e in body["entry"] if e["resource"]["resourceType"] == "ClaimResponse"
    ]


def test_the_remote_payers_cancel_their_decisions_once(connected: TestClient, sims: Payers) -> None:
    data = _fixture("18-forfait-first-use")
    assert connected.post("/Claim/$submit", content=data, headers=JSON).status_code == 200
    assert sims.amo_state.reversed_records() == sims.amc_state.reversed_records() == 0

    first = connected.post("/Claim/$cancel", content=cancellation(data), headers=JSON)
    again = connected.post("/Claim/$cancel", content=cancellation(data), headers=JSON)

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert statuses(jsonio.loads(first.content)) == ["cancelled", "cancelled"]
    assert sims.amo_state.reversed_records() >= 1  # the delivery record
    assert sims.amc_state.reversed_records() >= 1  # the forfait ledger entry
    # A second claim of the year finds the forfait whole at the remote mutuelle.
    second = connected.post("/Claim/$submit", content=_fixture("19-forfait-partly-used"), headers=JSON)
    benefits = [
        str(t["amount"]["value"])
        for e in jsonio.loads(second.content)["entry"]
        if e["resource"]["resourceType"] == "ClaimResponse"
        for t in e["resource"]["total"]
        if t["category"]["coding"][0]["code"] == "benefit"
    ]
    assert benefits == ["60.00", "90.00"]


def test_an_unreachable_payer_cancels_nothing_and_the_retry_does(connected: TestClient, sims: Payers) -> None:
    data = _fixture("01-purchase-standard")
    submitted = connected.post("/Claim/$submit", content=data, headers=JSON)
    amo_id = jsonio.loads(submitted.content)["entry"][0]["resource"]["id"]
    sims.faults.fail_rate = 1.0

    refused = connected.post("/Claim/$cancel", content=cancellation(data), headers=JSON)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "payer-unavailable"
    assert connected.get(f"/ClaimResponse/{amo_id}").json()["status"] == "active"

    sims.faults.fail_rate = 0.0
    done = connected.post("/Claim/$cancel", content=cancellation(data), headers=JSON)
    assert done.status_code == 200
    assert connected.get(f"/ClaimResponse/{amo_id}").json()["status"] == "cancelled"


def test_a_queued_claim_is_not_cancelled(impatient_client: TestClient, sims: Payers) -> None:
    data = _fixture("01-purchase-standard")
    sims.faults.latency_ms = 1000  # past the 0.2 s budget: the answer is queued
    queued = impatient_client.post("/Claim/$submit", content=data, headers=JSON)
    assert queued.status_code == 200
    refused = impatient_client.post("/Claim/$cancel", content=cancellation(data), headers=JSON)
    assert refused.status_code == 409
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "claim-not-decided"
