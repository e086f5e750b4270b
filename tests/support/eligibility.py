"""Eligibility Bundles (CoverageEligibilityRequest/$submit) and lone prescriptions (DeviceRequest/$validate),
built from the claim scenarios of ``tests.support.bundles``: the same patient, provider, coverages
and prescription, with the Claim replaced by a CoverageEligibilityRequest asking about its lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from mappings.fhir import jsonio
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

__all__ = [
    "ELIGIBILITY",
    "PRESCRIPTIONS",
    "REFUSED_QUESTIONS",
    "EligibilityCase",
    "PrescriptionCase",
    "RefusedQuestion",
    "eligibility_bundle",
    "lone_prescription",
]

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
    expected: tuple[dict[str, Any], ...] = ()
    """Per payer (AMO, then AMC): insurer, inforce and, per device, whether it is excluded, the
    payer's benefit and the reste à charge after it (and authorizationRequired when asked):
    written by hand from the rules, the oracle of the conformance kit."""


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
    serviced = case.serviced or _after_the_claim(base)
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


def _after_the_claim(base: Case) -> date:
    """Two weeks after the base scenario's first delivery: the question comes after its claim
    in the kit, and is no duplicate of it."""
    first = base.lines[0]
    day = first.serviced_date if first.serviced_date is not None else first.serviced_period[0]  # type: ignore[index]
    return day + timedelta(days=14)


def _with_id(resource: dict[str, Any], resource_id: str) -> dict[str, Any]:
    """The resource with its id where FHIR XML wants it: right after the type."""
    rest = {key: value for key, value in resource.items() if key != "resourceType"}
    return {"resourceType": resource["resourceType"], "id": resource_id, **rest}


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
            "contained": [_with_id(patient, "patient"), _with_id(prescriber, "prescriber")],
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


def _payer(insurer: str, *items: dict[str, Any], inforce: bool = True) -> dict[str, Any]:
    return {"insurer": insurer, "inforce": inforce, "items": list(items)}


def _item(
    code: str, benefit: str, rest: str, *, auth: bool | None = None, excluded: bool = False
) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "excluded": excluded, "benefit": benefit, "reste-a-charge": rest}
    if auth is not None:
        item["authorizationRequired"] = auth
    return item


ELIGIBILITY: Final = {
    case.name: case
    for case in (
        EligibilityCase(
            name="01-standard-benefits",
            description=(
                "The device of 01-purchase-standard again two weeks later, at 150.00 (BR 100.00): AMO "
                "60 % = 60.00, the mutuelle's 150 % BR including the AMO = 90.00, nothing left."
            ),
            base="01-purchase-standard",
            expected=(
                _payer("011751234", _item("9900001", "60.00", "90.00", auth=False)),
                _payer("MUTEX00001", _item("9900001", "90.00", "0.00", auth=False)),
            ),
        ),
        EligibilityCase(
            name="02-unpriced-at-tariff",
            description=(
                "No price and no prescription given: the device is taken as sold at its tariff, "
                "prescribed on the planned day outside the ALD part; no mutuelle."
            ),
            base="08-no-mutuelle",
            priced=False,
            with_prescription=False,
            expected=(_payer("011351001", _item("9900001", "60.00", "40.00", auth=False)),),
        ),
        EligibilityCase(
            name="03-ald",
            description="An ALD-part prescription under exonération 4: the AMO pays 100 % of the BR.",
            base="04-ald",
            expected=(
                _payer("011751234", _item("9900001", "100.00", "50.00", auth=False)),
                _payer("MUTEX00001", _item("9900001", "50.00", "0.00", auth=False)),
            ),
        ),
        EligibilityCase(
            name="04-accord-prealable",
            description=(
                "The electric wheelchair of 15-accord-prealable asked about again a week after its "
                "delivery: an entente préalable is needed (authorizationRequired) and the 5-year "
                "renewal period is not over, so neither payer would pay."
            ),
            base="15-accord-prealable",
            purposes=("auth-requirements", "benefits"),
            serviced=date(2026, 12, 1),
            outcome="partial",
            preceded_by=("15-accord-prealable",),
            expected=(
                _payer("011761001", _item("9900501", "0.00", "3938.00", auth=True, excluded=True)),
                _payer("MUTEX00001", _item("9900501", "0.00", "3938.00", auth=False, excluded=True)),
            ),
        ),
        EligibilityCase(
            name="05-forfait-used-up",
            description=(
                "After 18-forfait-first-use and 19-forfait-partly-used the 100.00 yearly forfait is "
                "spent: the mutuelle would pay the ticket modérateur only, 50.00 left to pay."
            ),
            base="19-forfait-partly-used",
            serviced=date(2026, 10, 5),
            preceded_by=("18-forfait-first-use", "19-forfait-partly-used"),
            expected=(
                _payer("011331001", _item("9900001", "60.00", "90.00", auth=False)),
                _payer("MUTEX00001", _item("9900001", "40.00", "50.00", auth=False)),
            ),
        ),
        EligibilityCase(
            name="06-rights-closed",
            description="A planned day before the AMO rights open: inforce false (validation only).",
            base="01-purchase-standard",
            purposes=("validation",),
            serviced=date(2024, 6, 3),
            outcome="closed",
            expected=(_payer("011751234", inforce=False), _payer("MUTEX00001")),
        ),
    )
}
"""The eligibility questions written to ``fixtures/eligibility/``, by name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusedQuestion:
    """An eligibility input with one defect, and every error it must raise."""

    name: str
    defect: str
    make: Callable[[], bytes]
    status: int
    issues: tuple[tuple[str, str | None], ...]
    suffix: str = "json"


def _question(change: Callable[[dict[str, Any]], None]) -> Callable[[], bytes]:
    def make() -> bytes:
        bundle = eligibility_bundle(ELIGIBILITY["01-standard-benefits"])
        change(bundle)
        return jsonio.dumps(bundle)

    return make


def _lead(bundle: dict[str, Any]) -> dict[str, Any]:
    lead: dict[str, Any] = bundle["entry"][0]["resource"]
    return lead


_LEAD = "Bundle.entry[0].resource"

REFUSED_QUESTIONS: Final = (
    RefusedQuestion(
        name="90-serviced-missing",
        defect="no servicedDate",
        make=_question(lambda b: _lead(b).pop("servicedDate")),
        status=422,
        issues=(("eligibility-serviced", f"{_LEAD}.servicedDate"),),
    ),
    RefusedQuestion(
        name="91-amo-not-focal",
        defect="the AMO insurance is not focal",
        make=_question(lambda b: _lead(b)["insurance"][0].update(focal=False)),
        status=422,
        issues=(("eligibility-insurance", f"{_LEAD}.insurance[0].focal"),),
    ),
    RefusedQuestion(
        name="92-lpp-code-format",
        defect="an LPP code of 2 digits",
        make=_question(lambda b: _lead(b)["item"][0]["productOrService"]["coding"][0].update(code="12")),
        status=422,
        issues=(("lpp-code-format", f"{_LEAD}.item[0].productOrService.coding[0].code"),),
    ),
    RefusedQuestion(
        name="93-not-first",
        defect="the Patient before the CoverageEligibilityRequest",
        make=_question(lambda b: b["entry"].insert(0, b["entry"].pop(1))),
        status=422,
        issues=(("eligibility-not-first", "Bundle.entry[0]"),),
    ),
    RefusedQuestion(
        name="94-invalid-json",
        defect="truncated JSON",
        make=lambda: jsonio.dumps(eligibility_bundle(ELIGIBILITY["01-standard-benefits"]))[:200],
        status=400,
        issues=(("invalid-json", None),),
    ),
)
"""The invalid eligibility inputs written to ``fixtures/eligibility/``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrescriptionCase:
    """A lone DeviceRequest and what checking it must say: HTTP 200 and its errors and warnings
    (severity, code, FHIRPath), or 400 and the parse errors."""

    name: str
    description: str
    make: Callable[[], dict[str, Any]] | Callable[[], bytes]
    status: int
    issues: tuple[tuple[str, str, str | None], ...]
    suffix: str = "json"


def _changed(
    name: str, change: Callable[[dict[str, Any]], None], **options: bool
) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        resource = lone_prescription(name, **options)
        change(resource)
        return resource

    return make


def _code(code: str) -> Callable[[dict[str, Any]], None]:
    def change(resource: dict[str, Any]) -> None:
        resource["codeCodeableConcept"] = {"coding": [{"system": CANON.lpp, "code": code}]}

    return change


def _strips(resource: dict[str, Any]) -> None:
    _code("9900401")(resource)
    resource["parameter"] = [{"code": {"text": "quantity"}, "valueQuantity": {"value": 5}}]


def _child_hearing_aid(resource: dict[str, Any]) -> None:
    _code("9900101")(resource)
    resource["contained"][0]["birthDate"] = "2016-05-04"


_CODE = "DeviceRequest.codeCodeableConcept"
_QUANTITY = "DeviceRequest.parameter[0].valueQuantity.value"

PRESCRIPTIONS: Final = (
    PrescriptionCase(
        name="01-clean",
        description="01-purchase-standard's prescription with its patient, prescriber and Coverage contained",
        make=lambda: lone_prescription("01-purchase-standard", coverage=True),
        status=200,
        issues=(),
    ),
    PrescriptionCase(
        name="02-by-identifier",
        description="The patient and the prescriber named by identifier only (no age check)",
        make=lambda: lone_prescription("01-purchase-standard", contained=False),
        status=200,
        issues=(),
    ),
    PrescriptionCase(
        name="03-entente-prealable",
        description="An electric wheelchair: the prescriber fills in the demande d'entente préalable",
        make=lambda: lone_prescription("15-accord-prealable"),
        status=200,
        issues=(("warning", "entente-prealable-required", _CODE),),
        suffix="xml",
    ),
    PrescriptionCase(
        name="04-ald-part-missing",
        description="Exonération 4 on the Coverage, but the prescription is outside the ALD part",
        make=_changed("04-ald", lambda r: r.pop("extension"), coverage=True),
        status=200,
        issues=(("warning", "prescription-ald-part", "DeviceRequest.extension"),),
    ),
    PrescriptionCase(
        name="05-code-unknown",
        description="An LPP code the table does not hold on the day",
        make=_changed("01-purchase-standard", _code("9999999")),
        status=200,
        issues=(("error", "lpp-code-unknown", _CODE),),
    ),
    PrescriptionCase(
        name="06-generic-deactivated",
        description="A generic line deactivated in 2021",
        make=_changed("01-purchase-standard", _code("1326761")),
        status=200,
        issues=(("error", "lpp-code-generic", _CODE),),
    ),
    PrescriptionCase(
        name="07-quantity-caps",
        description="5 boxes of strips: over the 2 per delivery and the 4 a year",
        make=_changed("01-purchase-standard", _strips),
        status=200,
        issues=(("error", "quantity-delivery-cap", _QUANTITY), ("error", "quantity-yearly-cap", _QUANTITY)),
    ),
    PrescriptionCase(
        name="08-age-out-of-range",
        description="An adult hearing aid for a child of 10",
        make=_changed("01-purchase-standard", _child_hearing_aid),
        status=200,
        issues=(("error", "age-out-of-range", "DeviceRequest.subject"),),
    ),
    PrescriptionCase(
        name="90-not-a-device-request",
        description="A Claim sent to DeviceRequest/$validate",
        make=lambda: {"resourceType": "Claim"},
        status=400,
        issues=(("error", "resource-type-wrong", "Claim"),),
    ),
)
"""The lone prescriptions written to ``fixtures/prescriptions/``."""
