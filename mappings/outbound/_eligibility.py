"""Eligibility answers → the ``CoverageEligibilityRequest/$submit`` answer: a ``collection`` Bundle
with one CoverageEligibilityResponse per payer (the AMO's, then the mutuelle's).

Each response has one ``insurance`` (the payer's coverage): ``inforce`` says whether rights
are open on the planned day, ``benefitPeriod`` gives the rights period, and one ``item`` per
planned device carries the figures as ``benefit`` entries typed in the project's
``eligibility-benefit`` code system (``br``, ``rate``, ``benefit``, ``reste-a-charge``,
``forfait``, ``renewal``, ``yearly-cap``), ``excluded`` when this payer would pay nothing,
``authorizationRequired`` for an entente préalable, and ``description`` saying why. The
purposes decide what is written: ``validation`` and ``discovery`` give the coverage and its
rights; ``benefits`` adds the figures; ``auth-requirements`` the accord préalable.
Ids are uuid5 over the request identifier, the payer and the tenant's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapter.domain.decision import PayerKind
from adapter.domain.eligibility import (
    Allowance,
    EligibilityAnswer,
    EligibilityPurpose,
    EligibilityRequest,
    Forfait,
    ItemEligibility,
)
from adapter.domain.request import Beneficiary
from adapter.domain.values import Money
from adapter.errors import Issue
from mappings.outbound._operationoutcome import to_operation_outcome
from mappings.outbound._terms import CURRENCY, resource_id
from mappings.outbound._write import patient_identifier
from mappings.systems import FINESS, NIR, SIRET, Canon

__all__ = ["eligibility_response_id", "to_eligibility_responses"]

_DEFAULT_CANON = Canon()


def _patient(beneficiary: Beneficiary, canon: Canon) -> dict[str, str]:
    """A CEAM/S1 holder by their personal number; anyone else under the NIR system, as before."""
    if beneficiary.foreign_id is not None:
        return patient_identifier(beneficiary, canon)
    return {"system": NIR, "value": beneficiary.nir.value}


def eligibility_response_id(request: EligibilityRequest, payer: PayerKind, scope: str | None = None) -> str:
    """The id of one payer's CoverageEligibilityResponse to this request."""
    return resource_id(request.identifier, f"CoverageEligibilityResponse.{payer.value}", scope)


def to_eligibility_responses(
    request: EligibilityRequest,
    amo: EligibilityAnswer,
    amc: EligibilityAnswer | None = None,
    warnings: Sequence[Issue] = (),
    *,
    canon: Canon = _DEFAULT_CANON,
    scope: str | None = None,
) -> dict[str, Any]:
    """The answer Bundle: the AMO response, the AMC one when there is an AMC coverage, then an
    OperationOutcome with the reading's warnings when there are any."""
    entries: list[dict[str, Any]] = []
    for answer in (amo, amc):
        if answer is None:
            continue
        rid = eligibility_response_id(request, answer.payer, scope)
        entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": _response(request, answer, rid, canon)})
    if warnings:
        oid = resource_id(request.identifier, "CoverageEligibilityResponse.OperationOutcome", scope)
        outcome = to_operation_outcome(warnings, canon=canon, resource_id=oid)
        entries.append({"fullUrl": f"urn:uuid:{oid}", "resource": outcome})
    return {
        "resourceType": "Bundle",
        "id": resource_id(request.identifier, "CoverageEligibilityResponse.Bundle", scope),
        "identifier": {"system": request.identifier.system, "value": request.identifier.value},
        "type": "collection",
        "timestamp": amo.created.isoformat(),
        "entry": entries,
    }


def _response(
    request: EligibilityRequest, answer: EligibilityAnswer, rid: str, canon: Canon
) -> dict[str, Any]:
    purposes = request.purposes
    provider = request.provider
    insurer_system = canon.amo_organisme if answer.payer is PayerKind.AMO else canon.amc
    resource: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "id": rid,
        "status": "active",
        "purpose": [purpose.value for purpose in purposes],
        "patient": {"type": "Patient", "identifier": _patient(request.beneficiary, canon)},
        "servicedDate": answer.serviced.isoformat(),
        "created": answer.created.isoformat(),
        "requestor": {
            "type": "Organization",
            "identifier": (
                {"system": FINESS, "value": provider.finess.value}
                if provider.finess is not None
                else {"system": SIRET, "value": provider.identifier}
            ),
        },
        "request": {
            "type": "CoverageEligibilityRequest",
            "identifier": {"system": request.identifier.system, "value": request.identifier.value},
        },
        "outcome": "complete",
        "disposition": _disposition(answer),
        "insurer": {
            "type": "Organization",
            "identifier": {"system": insurer_system, "value": answer.insurer},
        },
    }
    insurance: dict[str, Any] = {
        "coverage": {"type": "Coverage", "display": _coverage_display(request, answer)}
    }
    insurance["inforce"] = answer.rights_open
    if answer.rights is not None:
        period = {"start": answer.rights.start.isoformat()}
        if answer.rights.end is not None:
            period["end"] = answer.rights.end.isoformat()
        insurance["benefitPeriod"] = period
    benefits = EligibilityPurpose.BENEFITS in purposes
    auth = benefits or EligibilityPurpose.AUTH_REQUIREMENTS in purposes
    if answer.items and (benefits or auth):
        insurance["item"] = [
            _item(item, answer, canon, benefits=benefits, auth=auth) for item in answer.items
        ]
    resource["insurance"] = [insurance]
    errors = [
        {"code": {"coding": [{"system": canon.error, "code": reason.code}]}}
        for item in answer.items
        for reason in item.reasons
    ]
    if errors and benefits:
        resource["error"] = _unique(errors)
    return resource


def _coverage_display(request: EligibilityRequest, answer: EligibilityAnswer) -> str:
    if answer.payer is PayerKind.AMO:
        return f"AMO {request.amo.organisme.value}"
    return f"AMC {answer.insurer}"


def _disposition(answer: EligibilityAnswer) -> str:
    parts = [answer.disposition]
    if answer.rate is not None and answer.basis is not None:
        parts.append(f"Taux {_number(answer.rate)} % ({answer.basis.en}).")
    parts.extend(note.en for note in answer.notes)
    return " ".join(parts)


def _item(
    item: ItemEligibility, answer: EligibilityAnswer, canon: Canon, *, benefits: bool, auth: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "productOrService": {"coding": [{"system": canon.lpp, "code": item.lpp_code.value}]},
        "excluded": not item.covered,
    }
    if item.reasons:
        out["description"] = "; ".join(reason.text for reason in item.reasons)
    if benefits:
        system = canon.eligibility_benefit
        found: list[dict[str, Any]] = [
            _money_benefit(system, "submitted", item.submitted),
            _money_benefit(system, "br", item.eligible),
        ]
        if item.rate is not None:
            found.append(_benefit(system, "rate") | _unsigned_or_string("allowed", item.rate))
        found.append(_money_benefit(system, "benefit", item.benefit))
        found.append(_money_benefit(system, "reste-a-charge", item.reste_a_charge))
        for code, allowance in (
            ("forfait", item.forfait),
            ("renewal", item.renewal),
            ("yearly-cap", item.yearly),
        ):
            if allowance is not None:
                found.append(_allowance(system, code, allowance))
        out["benefit"] = found
    if auth:
        out["authorizationRequired"] = item.accord_prealable
    return out


def _benefit(system: str, code: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": system, "code": code}]}}


def _money(money: Money) -> dict[str, Any]:
    return {"value": money.amount, "currency": CURRENCY}


def _money_benefit(system: str, code: str, money: Money) -> dict[str, Any]:
    return _benefit(system, code) | {"allowedMoney": _money(money)}


def _allowance(system: str, code: str, allowance: Allowance | Forfait) -> dict[str, Any]:
    out = _benefit(system, code)
    if isinstance(allowance, Forfait):
        out["type"]["text"] = "per calendar year"
        return out | {"allowedMoney": _money(allowance.allowed), "usedMoney": _money(allowance.used)}
    out["type"]["text"] = (
        "per calendar year" if allowance.months is None else f"per {allowance.months} months"
    )
    return out | {"allowedUnsignedInt": allowance.allowed, "usedUnsignedInt": allowance.used}


def _unsigned_or_string(prefix: str, rate: Decimal) -> dict[str, Any]:
    if rate == rate.to_integral_value() and rate >= 0:
        return {f"{prefix}UnsignedInt": int(rate)}
    return {f"{prefix}String": _number(rate)}


def _number(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _unique(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    kept = []
    for error in errors:
        code = error["code"]["coding"][0]["code"]
        if code not in seen:
            seen.add(code)
            kept.append(error)
    return kept
