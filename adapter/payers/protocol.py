"""The payer protocol, version 1 (docs/payer-protocol.md): its messages, built and checked.

Every message is JSON with ``protocol`` (``lpp-payer/v1``), ``type`` and the
``idempotency_key`` the adapter chose for the exchange, which the payer echoes. The payloads
are the internal reimbursement request and the payers' decisions in their plain-JSON view
(``adapter.domain.jsonable``). Each message type has a JSON Schema shipped in the package
(``adapter/payers/schemas/v1``), checked both ways: what the adapter sends and what it reads.
A message that breaks its schema or carries another key is a :class:`ProtocolError`: from a
payer, a fault of that payer (retried or pended), never the submitter's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from jsonschema import Draft202012Validator

from adapter.domain.decision import Finding, PayerDecision, PayerKind
from adapter.domain.jsonable import from_jsonable, to_jsonable
from adapter.domain.request import ReimbursementRequest

__all__ = [
    "CANCEL_TYPES",
    "MESSAGE_TYPES",
    "PROTOCOL",
    "AmcRequest",
    "AmoRequest",
    "CancelRequest",
    "ProtocolError",
    "amc_decision_message",
    "amc_request_message",
    "amo_decision_message",
    "amo_request_message",
    "cancel_key",
    "cancel_request_message",
    "cancel_response_message",
    "check",
    "check_schema",
    "error_message",
    "read_amc_decision",
    "read_amc_request",
    "read_amo_decision",
    "read_amo_request",
    "read_cancel_request",
    "read_cancel_response",
]

PROTOCOL = "lpp-payer/v1"
MessageType = Literal[
    "amo-request",
    "amo-decision",
    "amc-request",
    "amc-decision",
    "error",
    "amo-cancel-request",
    "amo-cancel-response",
    "amc-cancel-request",
    "amc-cancel-response",
]
MESSAGE_TYPES: tuple[MessageType, ...] = (
    "amo-request",
    "amo-decision",
    "amc-request",
    "amc-decision",
    "error",
    "amo-cancel-request",
    "amo-cancel-response",
    "amc-cancel-request",
    "amc-cancel-response",
)
#: The cancellation exchanges, by payer role: (request type, response type).
CANCEL_TYPES: dict[str, tuple[MessageType, MessageType]] = {
    "amo": ("amo-cancel-request", "amo-cancel-response"),
    "amc": ("amc-cancel-request", "amc-cancel-response"),
}
#: At most this many schema violations are reported for one message.
_MAX_REPORTED = 5


class ProtocolError(ValueError):
    """A message that is not valid ``lpp-payer/v1`` of the expected type (or carries another key)."""


@cache
def _validator(kind: str) -> Draft202012Validator:
    text = resources.files("adapter.payers").joinpath(f"schemas/v1/{kind}.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check(kind: MessageType, message: Any) -> None:
    """Raise :class:`ProtocolError` naming where ``message`` breaks the ``kind`` schema."""
    check_schema(kind, message)


def check_schema(kind: str, message: Any) -> None:
    """Raise :class:`ProtocolError` naming where ``message`` breaks the schema
    ``schemas/v1/<kind>.schema.json`` (every exchange of v1 is checked here)."""
    errors = sorted(_validator(kind).iter_errors(message), key=lambda error: list(error.absolute_path))
    if errors:
        where = "; ".join(
            f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message[:200]}"
            for error in errors[:_MAX_REPORTED]
        )
        raise ProtocolError(f"not a valid {kind} message: {where}")


def _header(kind: MessageType, key: str) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "type": kind, "idempotency_key": key}


def _checked(kind: MessageType, message: dict[str, Any]) -> dict[str, Any]:
    check(kind, message)
    return message


def _read(kind: MessageType, message: Any, key: str | None) -> dict[str, Any]:
    check(kind, message)
    if key is not None and message["idempotency_key"] != key:
        raise ProtocolError(f"the {kind} answers idempotency key {message['idempotency_key']!r}, not {key!r}")
    return message  # type: ignore[no-any-return]


def _decode(kind: type[Any], data: Any, what: str) -> Any:
    try:
        return from_jsonable(kind, data, at=what)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


# -- the adapter's side ----------------------------------------------------------------------


def amo_request_message(key: str, request: ReimbursementRequest, now: datetime) -> dict[str, Any]:
    return _checked(
        "amo-request",
        {**_header("amo-request", key), "now": now.isoformat(), "request": to_jsonable(request)},
    )


def amc_request_message(
    key: str, request: ReimbursementRequest, amo: PayerDecision, now: datetime
) -> dict[str, Any]:
    return _checked(
        "amc-request",
        {
            **_header("amc-request", key),
            "now": now.isoformat(),
            "request": to_jsonable(request),
            "amo_decision": to_jsonable(amo),
        },
    )


def read_amo_decision(message: Any, key: str) -> tuple[PayerDecision, tuple[Finding, ...]]:
    """The AMO decision and findings of an ``amo-decision`` answering ``key``."""
    body = _read("amo-decision", message, key)
    decision = _decode(PayerDecision, body["decision"], "decision")
    findings = _decode(tuple[Finding, ...], body.get("findings", []), "findings")
    return decision, findings


def read_amc_decision(message: Any, key: str) -> PayerDecision | None:
    """The AMC decision (or None: nothing to cover) of an ``amc-decision`` answering ``key``."""
    body = _read("amc-decision", message, key)
    if body["decision"] is None:
        return None
    decision: PayerDecision = _decode(PayerDecision, body["decision"], "decision")
    if decision.payer is not PayerKind.AMC:  # pragma: no cover - the schema holds it
        raise ProtocolError("an amc-decision carries an AMC decision")
    return decision


# -- the payer's side -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmoRequest:
    key: str
    now: datetime
    request: ReimbursementRequest


@dataclass(frozen=True, slots=True)
class AmcRequest:
    key: str
    now: datetime
    request: ReimbursementRequest
    amo: PayerDecision


def read_amo_request(message: Any) -> AmoRequest:
    body = _read("amo-request", message, None)
    return AmoRequest(
        key=body["idempotency_key"],
        now=_decode(datetime, body["now"], "now"),
        request=_decode(ReimbursementRequest, body["request"], "request"),
    )


def read_amc_request(message: Any) -> AmcRequest:
    body = _read("amc-request", message, None)
    return AmcRequest(
        key=body["idempotency_key"],
        now=_decode(datetime, body["now"], "now"),
        request=_decode(ReimbursementRequest, body["request"], "request"),
        amo=_decode(PayerDecision, body["amo_decision"], "amo_decision"),
    )


def amo_decision_message(key: str, decision: PayerDecision, findings: tuple[Finding, ...]) -> dict[str, Any]:
    return _checked(
        "amo-decision",
        {
            **_header("amo-decision", key),
            "decision": to_jsonable(decision),
            "findings": to_jsonable(findings),
        },
    )


def amc_decision_message(key: str, decision: PayerDecision | None) -> dict[str, Any]:
    return _checked(
        "amc-decision",
        {**_header("amc-decision", key), "decision": None if decision is None else to_jsonable(decision)},
    )


def error_message(code: str, message: str, key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"protocol": PROTOCOL, "type": "error", "code": code, "message": message}
    if key is not None:
        body["idempotency_key"] = key
    return _checked("error", body)


# -- cancellation (both sides) -----------------------------------------------------------------


def cancel_key(decision_key: str) -> str:
    """The idempotency key of the exchange cancelling the decision given under ``decision_key``."""
    return f"{decision_key}.cancel"


@dataclass(frozen=True, slots=True)
class CancelRequest:
    key: str
    decision_key: str
    now: datetime
    reason: str


def cancel_request_message(role: str, decision_key: str, now: datetime, reason: str) -> dict[str, Any]:
    """An ``amo-cancel-request`` or ``amc-cancel-request`` (``role``) for the decision ``decision_key``."""
    kind = CANCEL_TYPES[role][0]
    key = cancel_key(decision_key)
    return _checked(
        kind, {**_header(kind, key), "decision_key": decision_key, "now": now.isoformat(), "reason": reason}
    )


def read_cancel_response(role: str, message: Any, decision_key: str) -> bool:
    """True when the payer cancelled the decision, False when it holds none under ``decision_key``."""
    body = _read(CANCEL_TYPES[role][1], message, cancel_key(decision_key))
    if body["decision_key"] != decision_key:
        raise ProtocolError(
            f"the cancellation answers decision {body['decision_key']!r}, not {decision_key!r}"
        )
    return bool(body["status"] == "cancelled")


def read_cancel_request(role: str, message: Any) -> CancelRequest:
    body = _read(CANCEL_TYPES[role][0], message, None)
    if body["idempotency_key"] != cancel_key(body["decision_key"]):
        raise ProtocolError("a cancellation's idempotency key is its decision key followed by '.cancel'")
    return CancelRequest(
        key=body["idempotency_key"],
        decision_key=body["decision_key"],
        now=_decode(datetime, body["now"], "now"),
        reason=body["reason"],
    )


def cancel_response_message(role: str, decision_key: str, *, cancelled: bool) -> dict[str, Any]:
    kind = CANCEL_TYPES[role][1]
    return _checked(
        kind,
        {
            **_header(kind, cancel_key(decision_key)),
            "decision_key": decision_key,
            "status": "cancelled" if cancelled else "unknown",
        },
    )
