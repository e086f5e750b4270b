"""Eligibility Bundles (CoverageEligibilityRequest/$submit) and lone prescriptions (DeviceRequest/$validate),
built from the claim scenarios of ``tests.support.bundles``: the same patient, provider, coverages
and prescription, with the Claim replaced by a CoverageEligibilityRequest asking about its lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from tests.support.bundles import (
    CANON,
    SCENARIOS,
    Case,
    build_bundle,
    build_resource,
    full_url,
    money,
    reference,
    roles,
)

__all__ = ["ELIGIBILITY", "EligibilityCase", "eligibility_bundle", "lone_prescription"]

ELIGIBILITY_SUBMISSIONS: Final = "https://supplier.example/fhir/eligibility"


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityCase:
    """A question about a claim scenario's devices: its purposes, planned day and prices."""

    name: str
    description: str
    base: str
    purposes: tuple[str, ...] = ("benefits", "validation")
    serviced: date | None = None
    priced: bool = True
    with_prescription: bool = True
    outcome: str = "open"
    preceded_by: tuple[str, ...] = ()


def eligibility_bundle(case: EligibilityCase) -> dict[str, Any]:
    """The eligibility Bundle of ``case``: its CoverageEligibilityRequest first, then the base
    scenario's resources (its Claim left out; the prescription and prescriber only when asked)."""
    base = SCENARIOS[case.base]
    claim_bundle = build_bundle(base)
    kept = [
        r
        for r in roles(base)
        if r != "claim" and (case.with_prescription or r not in ("prescription", "prescriber"))
    ]
    request = _request(case, base)
    lead_url = full_url(base, "claim")
    if base.relative_refs:  # Type/id full URLs: the request takes its own type
        lead_url = "CoverageEligibilityRequest/request"
        request = {"resourceType": request.pop("resourceType"), "id": "request", **request}
    entries = [{"fullUrl": lead_url, "resource": request}]
    entries += [{"fullUrl": full_url(base, role), "resource": build_resource(base, role)} for role in kept]
    return {
        "resourceType": "Bundle",
        "id": claim_bundle["id"],
        "identifier": {"system": ELIGIBILITY_SUBMISSIONS, "value": f"ELIG-{case.name}"},
        "type": "collection",
        "timestamp": claim_bundle["timestamp"],
        "entry": entries,
    }


def _request(case: EligibilityCase, base: Case) -> dict[str, Any]:
    serviced = case.serviced or base.lines[0].serviced_date or base.lines[0].serviced_period[0]  # type: ignore[index]
    request: dict[str, Any] = {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": list(case.purposes),
        "patient": reference(base, "patient"),
        "servicedDate": serviced.isoformat(),
        "created": base.created.isoformat(),
        "provider": reference(base, "provider"),
        "insurer": reference(base, "amo"),
    }
    if case.with_prescription:
        request["supportingInfo"] = [{"sequence": 1, "information": reference(base, "prescription")}]
    insurance = [{"focal": True, "coverage": reference(base, "amo-coverage")}]
    if base.amc is not None:
        insurance.append({"focal": False, "coverage": reference(base, "amc-coverage")})
    request["insurance"] = insurance
    items = []
    for line in base.lines:
        item: dict[str, Any] = {
            "productOrService": {
                "coding": [{"system": CANON.lpp, "code": line.code, "display": line.display}]
            },
            "quantity": {"value": line.quantity},
        }
        if case.priced:
            item["unitPrice"] = money(Decimal(line.unit_price))
        items.append(item)
    request["item"] = items
    return request


def lone_prescription(name: str, *, contained: bool = True, coverage: bool = False) -> dict[str, Any]:
    """The DeviceRequest of a claim scenario on its own: the patient and the prescriber contained
    (``#patient``, ``#prescriber``), or referenced by identifier only; with ``coverage``, a
    contained AMO Coverage (``#coverage``, carrying the exonération) named in ``insurance``."""
    base = SCENARIOS[name]
    request = build_resource(base, "prescription")
    patient = build_resource(base, "patient")
    prescriber = build_resource(base, "prescriber")
    if contained:
        request = {
            "resourceType": "DeviceRequest",
            "contained": [patient | {"id": "patient"}, prescriber | {"id": "prescriber"}],
            **{k: v for k, v in request.items() if k != "resourceType"},
        }
        request["subject"] = {"reference": "#patient"}
        request["requester"] = {"reference": "#prescriber"}
    else:
        request["subject"] = {"type": "Patient", "identifier": patient["identifier"][0]}
        request["requester"] = {"type": "Practitioner", "identifier": prescriber["identifier"][0]}
    if coverage:
        amo = build_resource(base, "amo-coverage")
        cover = {
            "resourceType": "Coverage",
            "id": "coverage",
            "status": "active",
            "type": amo["type"],
            "beneficiary": {"type": "Patient", "identifier": patient["identifier"][0]},
            "payor": [{"type": "Organization", "identifier": build_resource(base, "amo")["identifier"][0]}],
            "class": amo["class"],
        }
        request = {"resourceType": "DeviceRequest", "contained": [*request.get("contained", []), cover]} | {
            k: v for k, v in request.items() if k not in ("resourceType", "contained")
        }
        request["insurance"] = [{"reference": "#coverage"}]
    return request


ELIGIBILITY: Final = {
    case.name: case
    for case in (
        EligibilityCase(
            name="01-standard-benefits",
            description="The device of 01-purchase-standard before it is sold: 60 %, the mutuelle's share.",
            base="01-purchase-standard",
        ),
        EligibilityCase(
            name="02-unpriced-at-tariff",
            description="No price given: the device is taken as sold at its tariff.",
            base="08-no-mutuelle",
            priced=False,
            with_prescription=False,
        ),
        EligibilityCase(
            name="03-ald",
            description="An ALD-part prescription under exonération 4: taux 100 %.",
            base="04-ald",
        ),
        EligibilityCase(
            name="04-accord-prealable",
            description="A device needing an entente préalable: authorizationRequired.",
            base="15-accord-prealable",
            purposes=("auth-requirements", "benefits"),
        ),
        EligibilityCase(
            name="05-forfait-remaining",
            description="The forfait of 18-forfait-first-use partly used: 30.00 of 100.00 left.",
            base="19-forfait-partly-used",
            preceded_by=("18-forfait-first-use",),
        ),
        EligibilityCase(
            name="06-rights-closed",
            description="A planned day before the AMO rights open: inforce false.",
            base="01-purchase-standard",
            purposes=("validation",),
            serviced=date(2024, 6, 3),
            outcome="closed",
        ),
    )
}
