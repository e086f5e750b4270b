"""Payer decisions ⇄ the ``Claim/$submit`` answer: a Bundle of ClaimResponses (conventions.md §3).

The writer builds FHIR-JSON-shaped dicts directly (no model objects: fast, and the shape is
the contract). Amounts are ``Decimal`` values held to the cent, so ``60.00`` stays
``60.00``: FHIR decimals are JSON numbers and their scale is significant, which a float
would lose. Encode the result with ``mappings.fhir.jsonio.dumps``, which writes Decimals as
numbers; ``jsonio.loads`` reads them back as Decimals. The readers also accept what plain
``json.loads`` gives (floats), converting through their shortest text.

Nothing reads a clock or generates randomness: times come from the decisions and ids are
uuid5 over the submission's business identifier and the payer, so the same input gives
the same bytes.

Round trip: every ``PayerDecision`` field survives ``to_claim_response`` →
``from_claim_response``, and every non-blocking ``Finding`` survives the Bundle (its item
sequence in a project extension, OperationOutcome having no element for it). The one
thing not kept as such is the ``tzinfo`` object of ``created``: it comes back as a fixed
UTC offset, the same instant. A ``zoneinfo`` time inside a DST fold or gap then compares
unequal (PEP 495), so payers should stamp decisions with fixed offsets. Totals and payment
are derived from the lines, so the reader ignores them. Values FHIR cannot carry (a naive
``created``, an empty note, a code with spaces, duplicate line sequences) are refused with
``UsageError`` rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapter.domain.decision import Finding, LineDecision, Outcome, PayerDecision, PayerKind
from adapter.domain.request import Beneficiary, BusinessIdentifier, IdentityKind, ReimbursementRequest
from adapter.domain.values import Money
from adapter.errors import CATALOGUE, IssueType, Severity, UsageError
from mappings.outbound._terms import (
    CURRENCY,
    ELIGPERCENT,
    ENGLISH,
    ESTIMATE_LABEL,
    ESTIMATE_SEPARATOR,
    FRENCH,
    LANGUAGE_SYSTEM,
    MONEY_FIELDS,
    money_categories,
    payer_id,
    resource_id,
)
from mappings.systems import (
    ADJUDICATION,
    CLAIM_TYPE,
    FINESS,
    INS_NIA,
    NIR,
    PAYEE_TYPE,
    PAYMENT_TYPE,
    SIRET,
    Canon,
)

__all__ = ["claim_response_id", "to_claim_response", "to_claim_responses"]

_DEFAULT_CANON = Canon()
_FHIR_CODE = re.compile(r"^[^\s]+(\s[^\s]+)*$")
# FHIR strings forbid control characters other than tab, CR and LF; and fhir.resources
# checks the string pattern ``[ \r\n\t\S]+`` with a Unicode ``\S``, so a string made only
# of other spaces (no-break, narrow no-break…) fails its validation.
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FHIR_STRING_CHAR = re.compile(r"[ \r\n\t\S]")
_MAX_OFFSET = timedelta(hours=14)


# -- public API -----------------------------------------------------------------------------


def patient_identifier(beneficiary: Beneficiary, canon: Canon) -> dict[str, str]:
    """The patient as the submission named them: NIR, INS-NIA, or a CEAM/S1 personal number."""
    if beneficiary.foreign_id is not None:
        return {"system": canon.eu_person, "value": beneficiary.foreign_id.value}
    return {
        "system": INS_NIA if beneficiary.identity is IdentityKind.NIA else NIR,
        "value": beneficiary.nir.value,
    }


def claim_response_id(submission: BusinessIdentifier, payer: PayerKind, *, scope: str | None = None) -> str:
    """The id :func:`to_claim_responses` gives one payer's ClaimResponse for this submission."""
    return payer_id(submission, payer, scope)


def to_claim_responses(
    request: ReimbursementRequest,
    amo: PayerDecision,
    amc: PayerDecision | None = None,
    findings: Sequence[Finding] = (),
    *,
    canon: Canon = _DEFAULT_CANON,
    claim_reference: str | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """The $submit answer: a collection Bundle of ClaimResponses.

    ``claim_reference`` (e.g. ``Claim/<id>``) is added to each ``request`` beside the Claim's
    identifier when the submitted Claim is stored and readable at that address. ``scope`` (the
    submitting tenant) goes into every id, so that two tenants' answers to the same business
    identifier never share one (``None``: the unscoped ids).

    Entries: the AMO ClaimResponse, the AMC one when there is an AMC decision (pointing at
    the AMO one: coordination of benefits), then an OperationOutcome holding the
    non-blocking findings as warnings. Blocking findings are left out: they are already
    line rejections in the decisions.
    """
    if amo.payer is not PayerKind.AMO:
        raise UsageError("the first decision must be the AMO's")
    if amc is not None and amc.payer is not PayerKind.AMC:
        raise UsageError("the second decision must be the AMC's")
    submission = request.submission
    amo_url = f"urn:uuid:{payer_id(submission, PayerKind.AMO, scope)}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": amo_url,
            "resource": to_claim_response(
                request, amo, canon=canon, claim_reference=claim_reference, scope=scope
            ),
        }
    ]
    if amc is not None:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{payer_id(submission, PayerKind.AMC, scope)}",
                "resource": to_claim_response(
                    request, amc, canon=canon, prior=amo_url, claim_reference=claim_reference, scope=scope
                ),
            }
        )
    warnings = [finding for finding in findings if not finding.blocking]
    if warnings:
        outcome_id = resource_id(submission, "OperationOutcome", scope)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{outcome_id}",
                "resource": _operation_outcome(outcome_id, warnings, canon),
            }
        )
    return {
        "resourceType": "Bundle",
        "id": resource_id(submission, "Bundle", scope),
        "identifier": {"system": submission.system, "value": submission.value},
        "type": "collection",
        "timestamp": _datetime(amo.created, "the AMO decision's created"),
        "entry": entries,
    }


def to_claim_response(
    request: ReimbursementRequest,
    decision: PayerDecision,
    *,
    canon: Canon = _DEFAULT_CANON,
    prior: str | None = None,
    claim_reference: str | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """One payer's ClaimResponse.

    ``prior`` is the fullUrl of the AMO ClaimResponse that an AMC one coordinates with; it
    becomes ``insurance[0].claimResponse``. ``scope``: as in :func:`to_claim_responses`.
    """
    if prior is not None and decision.payer is not PayerKind.AMC:
        raise UsageError("only the AMC answer coordinates with a prior ClaimResponse")
    amc_coverage = request.amc
    if decision.payer is PayerKind.AMC and amc_coverage is None:
        raise UsageError("an AMC decision needs the request's AMC coverage")
    created = _datetime(decision.created, "decision.created")
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": payer_id(request.submission, decision.payer, scope),
    }
    if decision.estimate:
        resource["extension"] = [{"url": canon.estimate, "valueBoolean": True}]
    resource["status"] = "active"
    resource["type"] = {"coding": [{"system": CLAIM_TYPE, "code": request.claim_type.value}]}
    resource["use"] = request.use.value
    resource["patient"] = {
        "type": "Patient",
        "identifier": patient_identifier(request.beneficiary, canon),
    }
    resource["created"] = created
    insurer_system = canon.amo_organisme if decision.payer is PayerKind.AMO else canon.amc
    resource["insurer"] = {
        "type": "Organization",
        "identifier": {
            "system": insurer_system,
            "value": _string(decision.insurer, "decision.insurer"),
        },
    }
    provider = request.provider
    resource["requestor"] = {
        "type": "Organization",
        "identifier": (
            {"system": FINESS, "value": provider.finess.value}
            if provider.finess is not None
            else {"system": SIRET, "value": provider.identifier}
        ),
    }
    claim = request.claim_identifier or request.submission
    resource["request"] = {
        "type": "Claim",
        "identifier": {"system": claim.system, "value": claim.value},
    }
    if claim_reference is not None:
        resource["request"]["reference"] = claim_reference
    resource["outcome"] = decision.outcome.value
    disposition = _disposition(decision)
    if disposition:
        resource["disposition"] = disposition
    if decision.pre_auth_ref is not None:
        resource["preAuthRef"] = _string(decision.pre_auth_ref, "decision.pre_auth_ref")
    resource["payeeType"] = {
        "coding": [{"system": PAYEE_TYPE, "code": "provider" if request.tiers_payant else "subscriber"}]
    }
    if decision.lines:  # a queued answer has none yet, and FHIR JSON has no empty arrays
        categories = _categories(canon)
        resource["item"] = _items(decision.lines, categories)
        resource["total"] = _totals(decision.lines, categories)
    if not decision.estimate and decision.outcome in (Outcome.COMPLETE, Outcome.PARTIAL):
        # Nothing is paid on an answer in error or still queued: no payment element then.
        payment_type = "partial" if decision.outcome is Outcome.PARTIAL else "complete"
        resource["payment"] = {
            "type": {"coding": [{"system": PAYMENT_TYPE, "code": payment_type}]},
            "date": decision.created.date().isoformat(),
            "amount": _money(decision.benefit_total),
        }
    if decision.notes:
        resource["processNote"] = _process_notes(decision)
    coverage_amo = {"type": "Coverage", "display": f"AMO {request.amo.organisme.value}"}
    if amc_coverage is None or decision.payer is PayerKind.AMO:
        resource["insurance"] = [{"sequence": 1, "focal": True, "coverage": coverage_amo}]
    else:
        first: dict[str, Any] = {"sequence": 1, "focal": False, "coverage": coverage_amo}
        if prior is not None:
            first["claimResponse"] = {"reference": prior}
        resource["insurance"] = [
            first,
            {
                "sequence": 2,
                "focal": True,
                "coverage": {"type": "Coverage", "display": f"AMC {amc_coverage.amc_number.value}"},
            },
        ]
    errors = _errors(decision.lines, canon)
    if errors:
        resource["error"] = errors
    return resource


# -- pieces ---------------------------------------------------------------------------------


def _categories(canon: Canon) -> dict[str, dict[str, Any]]:
    return {
        name: {"coding": [{"system": system, "code": code}]}
        for name, (system, code) in money_categories(canon).items()
    }


def _money(money: Money) -> dict[str, Any]:
    return {"value": money.amount, "currency": CURRENCY}


def _items(lines: Sequence[LineDecision], categories: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[int] = set()
    items: list[dict[str, Any]] = []
    eligpercent = {"coding": [{"system": ADJUDICATION, "code": ELIGPERCENT}]}
    for line in lines:
        if line.sequence < 1 or line.sequence in seen:
            raise UsageError(f"line sequence {line.sequence} is not a new positive integer")
        seen.add(line.sequence)
        adjudication: list[dict[str, Any]] = []
        for name in MONEY_FIELDS:
            money: Money | None = getattr(line, name)
            if money is not None:
                adjudication.append({"category": categories[name], "amount": _money(money)})
            if name == "eligible" and line.rate is not None:
                adjudication.append({"category": eligpercent, "value": _rate(line.rate)})
        items.append({"itemSequence": line.sequence, "adjudication": adjudication})
    return items


def _totals(lines: Sequence[LineDecision], categories: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    totals: list[dict[str, Any]] = []
    for name in MONEY_FIELDS:
        amounts: list[Money] = [money for line in lines if (money := getattr(line, name)) is not None]
        if amounts:
            total = Money.zero()
            for amount in amounts:
                total = total + amount
            totals.append({"category": categories[name], "amount": _money(total)})
    return totals


def _errors(lines: Sequence[LineDecision], canon: Canon) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for line in lines:
        for rejection in line.rejections:
            code: dict[str, Any] = {
                "coding": [{"system": canon.error, "code": _code(rejection.code, "rejection")}]
            }
            if rejection.text:
                code["text"] = _string(rejection.text, "rejection.text")
            errors.append({"itemSequence": line.sequence, "code": code})
    return errors


def _process_notes(decision: PayerDecision) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for note in decision.notes:
        for text, language in ((note.fr, FRENCH), (note.en, ENGLISH)):
            notes.append(
                {
                    "number": len(notes) + 1,
                    "type": "display",
                    "text": _string(text, "note text"),
                    "language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": language}]},
                }
            )
    return notes


def _operation_outcome(outcome_id: str, findings: Sequence[Finding], canon: Canon) -> dict[str, Any]:
    issues: list[dict[str, Any]] = []
    for finding in findings:
        entry = CATALOGUE.get(finding.code)
        issue_type = entry.issue_type if entry is not None else IssueType.BUSINESS_RULE
        issue: dict[str, Any] = {}
        if finding.sequence is not None:
            if finding.sequence < 1:
                raise UsageError(f"finding sequence {finding.sequence} is not a line sequence")
            issue["extension"] = [{"url": canon.item_sequence, "valuePositiveInt": finding.sequence}]
        issue["severity"] = Severity.WARNING.value
        issue["code"] = issue_type.value
        details: dict[str, Any] = {
            "coding": [{"system": canon.error, "code": _code(finding.code, "finding")}]
        }
        if finding.text:
            details["text"] = _string(finding.text, "finding.text")
        issue["details"] = details
        if finding.expression is not None:
            issue["expression"] = [_string(finding.expression, "finding.expression")]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "id": outcome_id, "issue": issues}


def _disposition(decision: PayerDecision) -> str:
    disposition = decision.disposition
    if disposition:
        _string(disposition, "decision.disposition")
    if not decision.estimate:
        return disposition
    return f"{ESTIMATE_LABEL}{ESTIMATE_SEPARATOR}{disposition}" if disposition else ESTIMATE_LABEL


# -- checks for what FHIR cannot carry --------------------------------------------------------


def _string(value: str, what: str) -> str:
    if _FORBIDDEN_CONTROL.search(value) or not _FHIR_STRING_CHAR.search(value):
        raise UsageError(f"{what} must be a non-empty string without control characters, not only spaces")
    return value


def _code(value: str, what: str) -> str:
    if not _FHIR_CODE.match(value):
        raise UsageError(f"{what} code {value!r} is not a FHIR code (no spaces at the ends)")
    return value


def _rate(rate: Decimal) -> Decimal:
    if not rate.is_finite():
        raise UsageError(f"a rate must be a finite number, not {rate}")
    return rate


def _datetime(value: datetime, what: str) -> str:
    """ISO 8601 with an offset FHIR allows (whole minutes, at most 14 hours)."""
    offset = value.utcoffset()
    if offset is None:
        raise UsageError(f"{what} must carry a time zone")
    if offset.seconds % 60 or offset.microseconds or abs(offset) > _MAX_OFFSET:
        raise UsageError(f"{what} has a UTC offset FHIR cannot write: {offset}")
    return value.isoformat()
