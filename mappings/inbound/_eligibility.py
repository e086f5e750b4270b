"""CoverageEligibilityRequest Bundle → EligibilityRequest (conventions.md, eligibility).

The Bundle is built like a claim's: a ``collection`` with an identifier and a timestamp, the
CoverageEligibilityRequest first, then the Patient, the provider Organization, the AMO and
AMC Coverages with their payor Organizations and, optionally, the prescription (a
DeviceRequest named in ``supportingInfo``, with its Practitioner). The AMO coverage is the
first ``insurance`` (focal), the AMC the second (not focal). Each ``item`` is a planned
device: an LPP coding, a quantity and, optionally, its ``unitPrice``; its sequence is its
position (from 1). The planned day is ``servicedDate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from adapter.domain import Beneficiary, BusinessIdentifier, IdentityKind, LppCode, Money
from adapter.domain.eligibility import EligibilityItem, EligibilityPurpose, EligibilityRequest
from adapter.errors import Issue
from mappings.fhir import FoundReference, as_list, codings, to_decimal, walk
from mappings.inbound._bundle import Lead, envelope, reference_issues
from mappings.inbound._coverage import read_amc_coverage, read_amo_coverage
from mappings.inbound._devicerequest import read_prescription
from mappings.inbound._organization import read_provider
from mappings.inbound._patient import read_patient
from mappings.inbound._reader import BundleReader, Entry
from mappings.systems import Canon

__all__ = ["EligibilityReading", "read_eligibility_bundle"]

_LEAD = Lead(
    "CoverageEligibilityRequest",
    ("eligibility-not-first", "the first entry of an eligibility Bundle is its CoverageEligibilityRequest"),
    ("eligibility-not-first", "an eligibility Bundle carries exactly one CoverageEligibilityRequest"),
)
_NEEDS_ITEMS = (EligibilityPurpose.BENEFITS, EligibilityPurpose.AUTH_REQUIREMENTS)


@dataclass(frozen=True, slots=True)
class EligibilityReading:
    """The question when the Bundle is valid, and every issue found."""

    request: EligibilityRequest | None
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.is_error)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if not issue.is_error)


def read_eligibility_bundle(
    bundle: Mapping[str, Any],
    *,
    canon: Canon | None = None,
    references: list[FoundReference] | None = None,
) -> EligibilityReading:
    """Read a structurally valid eligibility Bundle, reporting every issue at once."""
    reader = BundleReader(canon or Canon())
    if references is None:
        walked = walk(bundle)
        reader.issues.extend(walked.codes)
        references = walked.references
    envelope(reader, bundle, _LEAD)
    reader.issues.extend(reference_issues(reader, references))
    request = None
    if reader.entries and reader.entries[0].type == _LEAD.type:
        request = _request(reader, bundle, reader.entries[0])
    return EligibilityReading(request=None if reader.has_errors else request, issues=tuple(reader.issues))


def _request(reader: BundleReader, bundle: Mapping[str, Any], entry: Entry) -> EligibilityRequest | None:
    resource, path = entry.resource, entry.path
    status = resource.get("status")
    if status is not None and status != "active":
        reader.error(
            "eligibility-status",
            f"CoverageEligibilityRequest.status must be 'active', not {status!r}",
            f"{path}.status",
        )
    purposes = tuple(
        EligibilityPurpose(raw)
        for raw in as_list(resource.get("purpose"))
        if isinstance(raw, str) and raw in EligibilityPurpose._value2member_map_
    )
    patient = reader.follow(
        resource.get("patient"), f"{path}.patient", ("Patient",), "CoverageEligibilityRequest.patient"
    )
    beneficiary = read_patient(reader, patient) if patient is not None else None
    provider_entry = None
    if resource.get("provider") is None:
        reader.error(
            "provider-identifier-missing",
            "CoverageEligibilityRequest.provider must reference the supplier or facility asking",
            f"{path}.provider",
        )
    else:
        provider_entry = reader.follow(
            resource.get("provider"),
            f"{path}.provider",
            ("Organization",),
            "CoverageEligibilityRequest.provider",
        )
    provider = read_provider(reader, provider_entry) if provider_entry is not None else None
    serviced = None
    if resource.get("servicedDate") is None:
        reader.error(
            "eligibility-serviced",
            "CoverageEligibilityRequest.servicedDate (the planned day) is required",
            f"{path}.serviced",
        )
    else:
        serviced = reader.date(resource.get("servicedDate"), f"{path}.serviced.ofType(date)", "servicedDate")
    created = reader.datetime(
        resource.get("created"), f"{path}.created", "CoverageEligibilityRequest.created"
    )
    amo, amc = _insurance(reader, resource, path, patient, beneficiary)
    if amo is not None and amo.card is not None and beneficiary is not None and beneficiary.foreign_id:
        beneficiary = replace(beneficiary, identity=IdentityKind(amo.card.kind.value))
    prescription = None
    for index, info in enumerate(as_list(resource.get("supportingInfo"))):
        if not isinstance(info, dict):
            continue
        target = reader.lookup(info.get("information"))
        if target is not None and target.type == "DeviceRequest" and prescription is None:
            prescription = read_prescription(reader, target, patient)
            if prescription is None and not reader.has_errors:  # pragma: no cover - read_prescription reports
                reader.error("element-invalid", "unreadable prescription", f"{path}.supportingInfo[{index}]")
    items = _items(reader, resource, path)
    if items is not None and not items and any(p in purposes for p in _NEEDS_ITEMS):
        reader.error(
            "eligibility-item-missing",
            "the purposes benefits and auth-requirements need at least one item (an LPP device)",
            f"{path}.item",
        )
    submitted_at = reader.datetime(bundle.get("timestamp"), "Bundle.timestamp", "Bundle.timestamp")
    identifier = bundle.get("identifier")
    if (
        reader.has_errors
        or beneficiary is None
        or provider is None
        or amo is None
        or serviced is None
        or created is None
        or submitted_at is None
        or items is None
        or not purposes
        or not isinstance(identifier, dict)
    ):
        return None
    return EligibilityRequest(
        identifier=BusinessIdentifier(system=str(identifier["system"]), value=str(identifier["value"])),
        submitted_at=submitted_at,
        created=created,
        purposes=purposes,
        serviced=serviced,
        beneficiary=beneficiary,
        provider=provider,
        amo=amo,
        amc=amc,
        items=items,
        prescription=prescription,
    )


def _insurance(
    reader: BundleReader,
    resource: Mapping[str, Any],
    path: str,
    patient: Entry | None,
    holder: Beneficiary | None,
) -> tuple[Any, Any]:
    insurance = [
        (i, item) for i, item in enumerate(as_list(resource.get("insurance"))) if isinstance(item, dict)
    ]
    if not insurance or len(insurance) > 2:
        reader.error(
            "eligibility-insurance",
            "insurance lists the AMO coverage (focal) and optionally the AMC coverage, in that order",
            f"{path}.insurance",
        )
        return None, None
    amo = amc = None
    for position, (index, item) in enumerate(insurance):
        ipath = f"{path}.insurance[{index}]"
        focal = item.get("focal")
        if (focal is True) != (position == 0):
            reader.error(
                "eligibility-insurance",
                "the AMO coverage (first) is focal; the AMC coverage (second) is not",
                f"{ipath}.focal",
            )
        coverage = reader.follow(
            item.get("coverage"), f"{ipath}.coverage", ("Coverage",), "insurance.coverage"
        )
        if coverage is None:
            continue
        if position == 0:
            amo = read_amo_coverage(reader, coverage, patient, (), holder)
        else:
            amc = read_amc_coverage(reader, coverage, patient, ())
    return amo, amc


def _items(
    reader: BundleReader, resource: Mapping[str, Any], path: str
) -> tuple[EligibilityItem, ...] | None:
    items: list[EligibilityItem] = []
    ok = True
    for index, raw in enumerate(as_list(resource.get("item"))):
        if not isinstance(raw, dict):
            continue
        ipath = f"{path}.item[{index}]"
        code: LppCode | None = None
        coded = False
        for position, coding in codings(raw.get("productOrService")):
            if reader.canon.is_lpp(coding.get("system")):
                coded = True
                code = reader.value(
                    LppCode, coding.get("code"), f"{ipath}.productOrService.coding[{position}].code"
                )
                break
        if not coded:
            reader.error(
                "item-code-missing", "item.productOrService needs an LPP coding", f"{ipath}.productOrService"
            )
        quantity = 1
        raw_quantity = raw.get("quantity")
        if raw_quantity is not None:
            value = to_decimal(raw_quantity.get("value")) if isinstance(raw_quantity, dict) else None
            if value is None or value != value.to_integral_value() or value < 1:
                reader.error(
                    "item-quantity",
                    "item.quantity.value must be a positive integer",
                    f"{ipath}.quantity.value",
                )
                value = None
            quantity = 1 if value is None else int(value)
        price = None
        if raw.get("unitPrice") is not None:
            amount = reader.money(raw.get("unitPrice"), f"{ipath}.unitPrice", "item.unitPrice")
            if amount is not None and amount < 0:
                reader.error(
                    "item-unit-price", "item.unitPrice cannot be negative", f"{ipath}.unitPrice.value"
                )
                amount = None
            price = None if amount is None else Money.of(amount)
        if code is None:
            ok = False
            continue
        items.append(EligibilityItem(sequence=index + 1, lpp_code=code, quantity=quantity, unit_price=price))
    return tuple(items) if ok else None
