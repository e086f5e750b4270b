"""The payer protocol: every message round-trips, and what breaks its schema or key is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapter.domain import PayerDecision, ReimbursementRequest
from adapter.domain.jsonable import from_jsonable, to_jsonable
from adapter.intake import read_submission
from adapter.payers import protocol, reference_payers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "claim-0001-amo"


def _requests() -> list[ReimbursementRequest]:
    return [
        read_submission(path.read_bytes()).request
        for path in sorted(FIXTURES.glob("*.json"))
        if ".meta." not in path.name
    ]


@pytest.mark.parametrize("request_", _requests(), ids=lambda r: r.submission.value)
def test_every_fixture_request_and_both_decisions_round_trip(request_: ReimbursementRequest) -> None:
    """The request and the reference payers' decisions survive the protocol, field for field."""
    amo, amc = reference_payers()
    answer = amo.adjudicate(request_, now=NOW)
    amc_decision = amc.adjudicate(request_, answer.decision, now=NOW)

    sent = json.loads(json.dumps(protocol.amo_request_message(KEY, request_, NOW)))
    assert protocol.read_amo_request(sent).request == request_
    decision, findings = protocol.read_amo_decision(
        json.loads(json.dumps(protocol.amo_decision_message(KEY, answer.decision, answer.findings))), KEY
    )
    assert (decision, findings) == (answer.decision, answer.findings)
    amc_sent = protocol.read_amc_request(protocol.amc_request_message(KEY, request_, answer.decision, NOW))
    assert (amc_sent.request, amc_sent.amo, amc_sent.now) == (request_, answer.decision, NOW)
    assert protocol.read_amc_decision(protocol.amc_decision_message(KEY, amc_decision), KEY) == amc_decision


def _amo_decision_message() -> dict[str, Any]:
    request_ = _requests()[0]
    amo, _ = reference_payers()
    answer = amo.adjudicate(request_, now=NOW)
    return protocol.amo_decision_message(KEY, answer.decision, answer.findings)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.update(protocol="lpp-payer/v2"), "protocol"),
        (lambda m: m.update(type="amc-decision"), "type"),
        (lambda m: m.pop("decision"), "'decision' is a required property"),
        (lambda m: m["decision"].update(payer="amc"), "decision"),
        (lambda m: m["decision"]["lines"][0].update(benefit=60.0), "benefit"),
        (lambda m: m["decision"]["lines"][0].update(benefit="60.001"), "benefit"),
        (lambda m: m["decision"].update(surprise=True), "surprise"),
        (lambda m: m.update(idempotency_key="x"), "idempotency_key"),
    ],
)
def test_an_answer_that_breaks_the_schema_is_a_protocol_error(change: Any, reason: str) -> None:
    message = _amo_decision_message()
    change(message)
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.read_amo_decision(message, KEY)


def test_an_answer_for_another_key_is_a_protocol_error() -> None:
    with pytest.raises(protocol.ProtocolError, match="idempotency key 'claim-0002-amo'"):
        protocol.read_amo_decision(_amo_decision_message() | {"idempotency_key": "claim-0002-amo"}, KEY)


def test_values_the_domain_refuses_are_protocol_errors_naming_the_element() -> None:
    """A NIR with a wrong key passes the schema's pattern but not the value object."""
    message = protocol.amo_request_message(KEY, _requests()[0], NOW)
    nir = message["request"]["beneficiary"]["nir"]
    message["request"]["beneficiary"]["nir"] = nir[:-2] + f"{(int(nir[-2:]) + 1) % 97:02d}"
    with pytest.raises(protocol.ProtocolError, match=r"request\.beneficiary\.nir"):
        protocol.read_amo_request(message)


def test_the_decoder_refuses_what_does_not_fit_the_type() -> None:
    decision = to_jsonable(protocol.read_amo_decision(_amo_decision_message(), KEY)[0])
    with pytest.raises(ValueError, match=r"\$\.created: a date-time needs its UTC offset"):
        from_jsonable(PayerDecision, decision | {"created": "2026-12-01T09:00:00"})
    with pytest.raises(ValueError, match=r"\$\.lines\[0\]\.sequence: expected an integer"):
        from_jsonable(PayerDecision, decision | {"lines": [decision["lines"][0] | {"sequence": True}]})
    with pytest.raises(ValueError, match=r"\$: outcome is required"):
        from_jsonable(PayerDecision, {k: v for k, v in decision.items() if k != "outcome"})


def test_the_adapter_never_sends_what_the_schema_refuses() -> None:
    """The builders check their own output: a request the schema cannot carry is a bug here."""
    message = protocol.amo_request_message(KEY, _requests()[0], NOW)
    protocol.check("amo-request", message)
    with pytest.raises(protocol.ProtocolError):
        protocol.check("amo-request", message | {"now": "yesterday"})


@pytest.mark.parametrize("kind", protocol.MESSAGE_TYPES)
def test_every_message_type_has_a_valid_shipped_schema(kind: protocol.MessageType) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.check(kind, {})
