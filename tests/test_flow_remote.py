"""The flow with remote payers: each asked with its own key, a refusal as a clear error outcome,
and the queued answer while they have not decided."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter.domain import Outcome, PayerDecision, PayerKind, ReimbursementRequest
from adapter.errors import PayerFault, PayerRefusal
from adapter.flow import RemotePair, SubmitFlow, payer_key
from adapter.intake import Format
from adapter.payers import AmoAnswer, reference_payers
from mappings.fhir import walk

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "valid"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CLAIM = "0f6c1f9e-1111-5222-8333-944455556666"


@dataclass
class Remote:
    """Remote payers that run the reference payers, remember the keys, or fail as told."""

    fail: dict[PayerKind, Exception] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.amo_local, self.amc_local = reference_payers()

    async def amo(self, request: ReimbursementRequest, *, now: datetime, key: str) -> AmoAnswer:
        self.keys.append(key)
        if PayerKind.AMO in self.fail:
            raise self.fail[PayerKind.AMO]
        return self.amo_local.adjudicate(request, now=now)

    async def amc(
        self, request: ReimbursementRequest, amo: PayerDecision, *, now: datetime, key: str
    ) -> PayerDecision | None:
        self.keys.append(key)
        if PayerKind.AMC in self.fail:
            raise self.fail[PayerKind.AMC]
        return self.amc_local.adjudicate(request, amo, now=now)


class _Amo:
    def __init__(self, remote: Remote) -> None:
        self.adjudicate = remote.amo


class _Amc:
    def __init__(self, remote: Remote) -> None:
        self.adjudicate = remote.amc


def _flow(remote: Remote) -> SubmitFlow:
    return SubmitFlow(RemotePair(amo=_Amo(remote), amc=_Amc(remote)))


def test_remote_payers_are_asked_with_a_key_each_and_answer_as_in_process() -> None:
    remote = Remote()
    flow = _flow(remote)
    submission = flow.read((FIXTURES / "01-purchase-standard.json").read_bytes(), Format.JSON)
    adjudicated = asyncio.run(flow.adjudicate_remote(submission, now=NOW, claim_id=CLAIM))
    assert remote.keys == [payer_key(CLAIM, PayerKind.AMO), payer_key(CLAIM, PayerKind.AMC)]
    assert adjudicated.outcome is Outcome.COMPLETE
    assert adjudicated.amo.benefit_total.amount == 60
    assert adjudicated.amc is not None
    assert adjudicated.amc.benefit_total.amount == 90
    assert flow.connected


def test_an_amo_refusal_ends_the_claim_in_error_without_asking_the_amc() -> None:
    remote = Remote(fail={PayerKind.AMO: PayerRefusal("cnam refused the exchange: HTTP 422")})
    flow = _flow(remote)
    submission = flow.read((FIXTURES / "01-purchase-standard.json").read_bytes(), Format.JSON)
    adjudicated = asyncio.run(flow.adjudicate_remote(submission, now=NOW, claim_id=CLAIM))
    assert remote.keys == [payer_key(CLAIM, PayerKind.AMO)]
    assert adjudicated.outcome is Outcome.ERROR
    assert adjudicated.amc is None
    [line] = adjudicated.amo.lines
    assert [rejection.code for rejection in line.rejections] == ["payer-refused"]
    assert "HTTP 422" in adjudicated.amo.disposition


def test_an_amc_refusal_keeps_the_amo_decision() -> None:
    remote = Remote(fail={PayerKind.AMC: PayerRefusal("no AMC is routed for AMC number X")})
    flow = _flow(remote)
    submission = flow.read((FIXTURES / "01-purchase-standard.json").read_bytes(), Format.JSON)
    adjudicated = asyncio.run(flow.adjudicate_remote(submission, now=NOW, claim_id=CLAIM))
    assert adjudicated.amo.benefit_total.amount == 60
    assert adjudicated.amc is not None
    assert adjudicated.amc.outcome is Outcome.ERROR
    assert adjudicated.outcome is Outcome.ERROR


def test_a_fault_is_left_to_the_caller_to_pend() -> None:
    flow = _flow(Remote(fail={PayerKind.AMC: PayerFault("amc-sim: no answer after 4 attempt(s)")}))
    submission = flow.read((FIXTURES / "01-purchase-standard.json").read_bytes(), Format.JSON)
    with pytest.raises(PayerFault):
        asyncio.run(flow.adjudicate_remote(submission, now=NOW, claim_id=CLAIM))


@pytest.mark.parametrize("name", ["01-purchase-standard", "08-no-mutuelle"])
def test_the_queued_answer_is_valid_fhir_with_one_claimresponse_per_payer(name: str) -> None:
    flow = _flow(Remote())
    submission = flow.read((FIXTURES / f"{name}.json").read_bytes(), Format.JSON)
    pending = flow.pending(submission, now=NOW, claim_reference=f"Claim/{CLAIM}")
    responses = [
        e["resource"] for e in pending.response["entry"] if e["resource"]["resourceType"] == "ClaimResponse"
    ]
    assert [r["outcome"] for r in responses] == ["queued"] * (2 if name.startswith("01") else 1)
    assert all("item" not in r and "payment" not in r for r in responses)
    assert pending.outcome is Outcome.QUEUED
    assert not walk(pending.response).parse  # no empty arrays, nothing FHIR JSON refuses


def test_in_process_and_remote_calls_are_not_mixed_up() -> None:
    flow = _flow(Remote())
    submission = flow.read((FIXTURES / "01-purchase-standard.json").read_bytes(), Format.JSON)
    with pytest.raises(TypeError, match="adjudicate_remote"):
        flow.adjudicate(submission, records=object(), now=NOW)  # type: ignore[arg-type]
