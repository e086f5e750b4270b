"""The edge of ``Claim/$cancel``: which stored claim a client withdraws, and why.

The body is a ``Parameters`` resource naming the claim either by the ``Bundle.identifier`` it
was submitted under (``identifier``, valueIdentifier) or by its stored id (``claim``,
valueReference ``Claim/<id>``), exactly one of them, with a ``reason`` (valueCoding from the
project's cancel-reason code system) and an optional ``note`` (valueString). Read within the
same bounds and stages as a submission: unreadable or structurally invalid → 400, a wrong
parameter → 422 naming it by FHIRPath.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter.errors import ConventionError, Issue, ParseError
from adapter.intake.formats import Format, Limits
from adapter.intake.pipeline import parse_payload, root_is
from mappings.fhir import structure_issues, walk
from mappings.systems import Canon

__all__ = ["CANCEL_REASONS", "CancelRequest", "read_cancel_request"]

#: The codes of ``{base}/CodeSystem/cancel-reason`` (docs/http-api.md, "Cancelling a claim").
CANCEL_REASONS: dict[str, str] = {
    "entered-in-error": "the claim was sent by mistake or carries wrong data",
    "duplicate": "the claim duplicates another one",
    "not-delivered": "the device was not delivered",
    "returned": "the device was returned (trial period, fitting failed)",
    "other": "another reason, given in the note",
}
_NOTE_MAX = 1000
_KNOWN = ("identifier", "claim", "reason", "note")


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest:
    """One cancellation: the claim named by ``identifier`` (system, value) or ``claim_id``."""

    identifier: tuple[str, str] | None
    claim_id: str | None
    reason: str
    note: str | None


def _issue(message: str, where: str, code: str = "cancel-request-invalid") -> Issue:
    return Issue(code, message, expression=where)


def read_cancel_request(
    data: bytes, fmt: Format, limits: Limits | None = None, canon: Canon | None = None
) -> CancelRequest:
    """The cancellation the Parameters body asks for; ``ParseError`` (400) or ``ConventionError``
    (422) with every issue found."""
    limits = limits or Limits()
    canon = canon or Canon()
    resource = parse_payload(data, fmt, limits)
    root_is(resource, "Parameters")
    try:
        walked = walk(resource, max_depth=limits.max_depth)
        problems = walked.parse or structure_issues(resource)
    except RecursionError:
        raise ParseError([Issue("input-too-large", "the resource nesting is too deep")]) from None
    if problems:
        raise ParseError(problems)
    issues: list[Issue] = []
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, parameter in enumerate(resource.get("parameter") or ()):
        where = f"Parameters.parameter[{index}]"
        name = parameter.get("name")
        if name not in _KNOWN:
            issues.append(
                _issue(f"unknown parameter {name!r}: $cancel takes {', '.join(_KNOWN)}", f"{where}.name")
            )
        elif name in found:
            issues.append(_issue(f"the parameter {name!r} is repeated", f"{where}.name"))
        else:
            found[name] = (index, parameter)
    identifier = _identifier(found.get("identifier"), issues)
    claim_id = _claim(found.get("claim"), issues)
    if ("identifier" in found) == ("claim" in found):
        issues.append(
            _issue(
                "name the claim by exactly one of 'identifier' (its Bundle.identifier) "
                "or 'claim' (Claim/<id>)",
                "Parameters.parameter",
            )
        )
    reason = _reason(found.get("reason"), canon, issues)
    note = _note(found.get("note"), issues)
    if issues or reason is None:
        raise ConventionError(issues)
    return CancelRequest(identifier=identifier, claim_id=claim_id, reason=reason, note=note)


def _identifier(found: tuple[int, dict[str, Any]] | None, issues: list[Issue]) -> tuple[str, str] | None:
    if found is None:
        return None
    index, parameter = found
    value = parameter.get("valueIdentifier")
    system = value.get("system") if isinstance(value, dict) else None
    text = value.get("value") if isinstance(value, dict) else None
    if isinstance(system, str) and system and isinstance(text, str) and text:
        return system, text
    issues.append(
        _issue(
            "'identifier' carries the claim's Bundle.identifier (system and value) as valueIdentifier",
            f"Parameters.parameter[{index}].valueIdentifier",
        )
    )
    return None


def _claim(found: tuple[int, dict[str, Any]] | None, issues: list[Issue]) -> str | None:
    if found is None:
        return None
    index, parameter = found
    value = parameter.get("valueReference")
    reference = value.get("reference") if isinstance(value, dict) else None
    if isinstance(reference, str) and reference.startswith("Claim/") and len(reference) > len("Claim/"):
        claim_id = reference.removeprefix("Claim/")
        if "/" not in claim_id:
            return claim_id
    issues.append(
        _issue(
            "'claim' carries a valueReference 'Claim/<id>' (the id in ClaimResponse.request)",
            f"Parameters.parameter[{index}].valueReference.reference",
        )
    )
    return None


def _reason(found: tuple[int, dict[str, Any]] | None, canon: Canon, issues: list[Issue]) -> str | None:
    if found is None:
        issues.append(_issue("a cancellation needs a 'reason' (valueCoding)", "Parameters.parameter"))
        return None
    index, parameter = found
    coding = parameter.get("valueCoding")
    system = coding.get("system") if isinstance(coding, dict) else None
    code = coding.get("code") if isinstance(coding, dict) else None
    where = f"Parameters.parameter[{index}].valueCoding"
    if system != canon.cancel_reason or not isinstance(code, str):
        issues.append(
            _issue(f"'reason' is a valueCoding with system {canon.cancel_reason} and a code", where)
        )
        return None
    if code not in CANCEL_REASONS:
        issues.append(
            _issue(
                f"unknown cancel reason {code!r}: one of {', '.join(CANCEL_REASONS)}",
                f"{where}.code",
                "cancel-reason-unknown",
            )
        )
        return None
    return code


def _note(found: tuple[int, dict[str, Any]] | None, issues: list[Issue]) -> str | None:
    if found is None:
        return None
    index, parameter = found
    value = parameter.get("valueString")
    if isinstance(value, str) and value.strip() and len(value) <= _NOTE_MAX:
        return value.strip()
    issues.append(
        _issue(
            f"'note' is a valueString of 1 to {_NOTE_MAX} characters",
            f"Parameters.parameter[{index}].valueString",
        )
    )
    return None
