"""The eligibility exchange of payer protocol v1 (docs/payer-protocol.md): four message types.

``amo-eligibility-request`` / ``-response`` and ``amc-eligibility-request`` / ``-response``,
built and checked against their JSON Schemas (``schemas/v1``) both ways, like the decision
exchange (``adapter.payers.protocol``): the same header, the same echoed idempotency key, the
same ``error`` message. The payloads are the eligibility question and the payers' answers in
their plain-JSON view (``adapter.domain.jsonable``). Answering consumes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from adapter.domain.eligibility import EligibilityAnswer, EligibilityRequest
from adapter.domain.jsonable import from_jsonable, to_jsonable
from adapter.payers.protocol import PROTOCOL, ProtocolError, check_schema

__all__ = [
    "ELIGIBILITY_TYPES",
    "AmcEligibilityAsked",
    "AmoEligibilityAsked",
    "amc_eligibility_request",
    "amc_eligibility_response",
    "amo_eligibility_request",
    "amo_eligibility_response",
    "check_eligibility",
    "read_amc_eligibility_request",
    "read_amc_eligibility_response",
    "read_amo_eligibility_request",
    "read_amo_eligibility_response",
]

EligibilityType = Literal[
    "amo-eligibility-request",
    "amo-eligibility-response",
    "amc-eligibility-request",
    "amc-eligibility-response",
]
ELIGIBILITY_TYPES: tuple[EligibilityType, ...] = (
    "amo-eligibility-request",
    "amo-eligibility-response",
    "amc-eligibility-request",
    "amc-eligibility-response",
)


def check_eligibility(kind: EligibilityType, message: Any) -> None:
    """Raise ``ProtocolError`` naming where ``message`` breaks the ``kind`` schema."""
    check_schema(kind, message)


def _checked(kind: EligibilityType, key: str, body: dict[str, Any]) -> dict[str, Any]:
    message = {"protocol": PROTOCOL, "type": kind, "idempotency_key": key, **body}
    check_eligibility(kind, message)
    return message


def _read(kind: EligibilityType, message: Any, key: str | None) -> dict[str, Any]:
    check_eligibility(kind, message)
    if key is not None and message["idempotency_key"] != key:
        raise ProtocolError(f"the {kind} answers idempotency key {message['idempotency_key']!r}, not {key!r}")
    return message  # type: ignore[no-any-return]


def _decode(kind: type[Any], data: Any, what: str) -> Any:
    try:
        return from_jsonable(kind, data, at=what)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


# -- the adapter's side ----------------------------------------------------------------------


def amo_eligibility_request(key: str, request: EligibilityRequest, now: datetime) -> dict[str, Any]:
    return _checked("amo-eligibility-request", key, {"now": now.isoformat(), "request": to_jsonable(request)})


def amc_eligibility_request(
    key: str, request: EligibilityRequest, amo: EligibilityAnswer, now: datetime
) -> dict[str, Any]:
    return _checked(
        "amc-eligibility-request",
        key,
        {"now": now.isoformat(), "request": to_jsonable(request), "amo_answer": to_jsonable(amo)},
    )


def read_amo_eligibility_response(message: Any, key: str) -> EligibilityAnswer:
    body = _read("amo-eligibility-response", message, key)
    answer: EligibilityAnswer = _decode(EligibilityAnswer, body["answer"], "answer")
    return answer


def read_amc_eligibility_response(message: Any, key: str) -> EligibilityAnswer | None:
    body = _read("amc-eligibility-response", message, key)
    if body["answer"] is None:
        return None
    answer: EligibilityAnswer = _decode(EligibilityAnswer, body["answer"], "answer")
    return answer


# -- the payer's side -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmoEligibilityAsked:
    key: str
    now: datetime
    request: EligibilityRequest


@dataclass(frozen=True, slots=True)
class AmcEligibilityAsked:
    key: str
    now: datetime
    request: EligibilityRequest
    amo: EligibilityAnswer


def read_amo_eligibility_request(message: Any) -> AmoEligibilityAsked:
    body = _read("amo-eligibility-request", message, None)
    return AmoEligibilityAsked(
        key=body["idempotency_key"],
        now=_decode(datetime, body["now"], "now"),
        request=_decode(EligibilityRequest, body["request"], "request"),
    )


def read_amc_eligibility_request(message: Any) -> AmcEligibilityAsked:
    body = _read("amc-eligibility-request", message, None)
    return AmcEligibilityAsked(
        key=body["idempotency_key"],
        now=_decode(datetime, body["now"], "now"),
        request=_decode(EligibilityRequest, body["request"], "request"),
        amo=_decode(EligibilityAnswer, body["amo_answer"], "amo_answer"),
    )


def amo_eligibility_response(key: str, answer: EligibilityAnswer) -> dict[str, Any]:
    return _checked("amo-eligibility-response", key, {"answer": to_jsonable(answer)})


def amc_eligibility_response(key: str, answer: EligibilityAnswer | None) -> dict[str, Any]:
    return _checked(
        "amc-eligibility-response", key, {"answer": None if answer is None else to_jsonable(answer)}
    )
