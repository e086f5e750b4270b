"""Submission Bundle ⇄ ReimbursementRequest.

``read_bundle`` checks the envelope (conventions.md §2: collection, identifier, timestamp,
Claim first, unique fullUrls, no entry.request, every reference resolved inside the Bundle
to an allowed type, required codes) and reads every resource the Claim reaches, reporting
every issue at once. ``to_bundle`` writes a request back as a Bundle that reads the same.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from adapter.domain import IdentityKind, ReimbursementRequest
from adapter.domain.request import BusinessIdentifier
from adapter.errors import ConventionError, Issue
from mappings.fhir import FoundReference, as_list, walk
from mappings.inbound._claim import read_claim, to_claim
from mappings.inbound._coverage import read_amc_coverage, read_amo_coverage, to_amc_coverage, to_amo_coverage
from mappings.inbound._devicerequest import read_prescription, to_device_request
from mappings.inbound._organization import (
    read_provider,
    to_amc_organization,
    to_amo_organization,
    to_provider,
)
from mappings.inbound._patient import read_patient, to_patient
from mappings.inbound._practitioner import to_practitioner
from mappings.inbound._reader import BundleReader, Entry
from mappings.systems import Canon

__all__ = [
    "CLAIM_LEAD",
    "Lead",
    "Reading",
    "envelope",
    "from_bundle",
    "read_bundle",
    "reference_issues",
    "to_bundle",
]

_UUID_URN = re.compile(
    r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_URL_TYPE_ID = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True, slots=True)
class Reading:
    """The outcome of reading a Bundle: the request when it is valid, and every issue found."""

    request: ReimbursementRequest | None
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.is_error)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if not issue.is_error)


def read_bundle(
    bundle: Mapping[str, Any],
    *,
    canon: Canon | None = None,
    references: list[FoundReference] | None = None,
) -> Reading:
    """Read a structurally valid submission Bundle (see the module docstring).

    ``references`` are the Reference elements found by ``mappings.fhir.walk``; pass them when
    the caller already walked the Bundle (intake does), else the Bundle is walked here.
    """
    reader = BundleReader(canon or Canon())
    if references is None:
        walked = walk(bundle)
        reader.issues.extend(walked.codes)
        references = walked.references
    envelope(reader, bundle)
    reader.issues.extend(reference_issues(reader, references))
    request = _request(reader, bundle)
    if reader.has_errors:
        request = None
    return Reading(request=request, issues=tuple(reader.issues))


def from_bundle(bundle: Mapping[str, Any], *, canon: Canon | None = None) -> ReimbursementRequest:
    """The internal request from a submission Bundle; raises ConventionError with every issue."""
    reading = read_bundle(bundle, canon=canon)
    if reading.request is None:
        raise ConventionError(list(reading.errors))
    return reading.request


@dataclass(frozen=True, slots=True)
class Lead:
    """The resource a Bundle must open with, and how its absence or repetition is reported."""

    type: str
    not_first: tuple[str, str]
    multiple: tuple[str, str]


CLAIM_LEAD = Lead(
    "Claim",
    ("claim-not-first", "the first entry of a submission is its Claim"),
    ("claim-multiple", "a submission Bundle carries exactly one Claim"),
)


def envelope(reader: BundleReader, bundle: Mapping[str, Any], lead: Lead = CLAIM_LEAD) -> None:
    """The checks every submitted ``collection`` Bundle passes, whatever resource leads it."""
    kind = bundle.get("type")
    if kind != "collection" and isinstance(kind, str):
        reader.error("bundle-type", f"a submission is a 'collection' Bundle, not {kind!r}", "Bundle.type")
    identifier = bundle.get("identifier")
    if not (isinstance(identifier, dict) and identifier.get("system") and identifier.get("value")):
        reader.error(
            "bundle-identifier-missing",
            "Bundle.identifier with system and value is the idempotency key",
            "Bundle.identifier",
        )
    if not bundle.get("timestamp"):
        reader.error("bundle-timestamp-missing", "Bundle.timestamp is required", "Bundle.timestamp")
    entries = as_list(bundle.get("entry"))
    if not entries:
        reader.error("bundle-empty", "the Bundle has no entries", "Bundle.entry")
        return
    seen: set[str] = set()
    claims: list[Entry] = []  # found in the same pass, reported after the entries' own issues
    for index, raw in enumerate(entries):
        path = f"Bundle.entry[{index}]"
        if not isinstance(raw, dict):
            continue
        for forbidden in ("request", "response"):
            if raw.get(forbidden) is not None:
                reader.error(
                    "entry-request-forbidden",
                    f"entry.{forbidden} is not allowed in a collection",
                    f"{path}.{forbidden}",
                )
        resource = raw.get("resource")
        if not isinstance(resource, dict):
            reader.error("entry-resource-missing", "every entry carries a resource", f"{path}.resource")
            continue
        full_url = raw.get("fullUrl")
        if not isinstance(full_url, str):
            reader.error("fullurl-missing", "every entry needs a fullUrl", f"{path}.fullUrl")
        elif full_url in seen:
            reader.error(
                "fullurl-duplicate",
                f"fullUrl {full_url!r} is used by an earlier entry",
                f"{path}.fullUrl",
            )
            full_url = None
        else:
            seen.add(full_url)
            if not _full_url_ok(full_url, resource):
                reader.error(
                    "fullurl-invalid",
                    "fullUrl is urn:uuid:<uuid>, or a URL ending in <resourceType>/<id> of this resource",
                    f"{path}.fullUrl",
                )
        entry = Entry(index, full_url, resource)
        reader.add(entry)
        if entry.type == lead.type:
            claims.append(entry)
    if not reader.entries or reader.entries[0].type != lead.type or reader.entries[0].index != 0:
        reader.error(*lead.not_first, "Bundle.entry[0]")
    for extra in claims[1:]:
        reader.error(*lead.multiple, f"Bundle.entry[{extra.index}]")


def _full_url_ok(full_url: str, resource: Mapping[str, Any]) -> bool:
    if full_url.startswith("urn:"):
        return bool(_UUID_URN.match(full_url)) or full_url.startswith("urn:oid:")
    found = _URL_TYPE_ID.search(full_url)
    return (
        found is not None
        and found.group(1) == resource.get("resourceType")
        and found.group(2) == resource.get("id")
    )


def reference_issues(reader: BundleReader, references: list[FoundReference]) -> list[Issue]:
    """Every Reference must resolve inside the Bundle (or to a contained resource) and to an allowed type."""
    issues: list[Issue] = []
    for found in references:
        target = found.value.get("reference")
        assert isinstance(target, str)  # noqa: S101 - the walk collects string references only
        path = f"{found.path}.reference"
        if target.startswith("#"):
            contained = found.container.get("contained") if found.container is not None else None
            match = [r for r in as_list(contained) if isinstance(r, dict) and r.get("id") == target[1:]]
            if not match:
                issues.append(
                    Issue(
                        "reference-unresolved",
                        f"no contained resource with id {target[1:]!r}",
                        path,
                    )
                )
            continue
        entry = reader.lookup(found.value)
        if entry is None:
            issues.append(Issue("reference-unresolved", f"{target!r} matches no entry of the Bundle", path))
            continue
        allowed = found.targets
        declared = found.value.get("type")
        if isinstance(declared, str) and declared != entry.type:
            issues.append(
                Issue(
                    "reference-target-type",
                    f"Reference.type says {declared} but the entry is a {entry.type}",
                    f"{found.path}.type",
                )
            )
        elif allowed and "Resource" not in allowed and entry.type not in allowed:
            issues.append(
                Issue(
                    "reference-target-type",
                    f"this reference may point to {', '.join(allowed)}, not to a {entry.type}",
                    path,
                )
            )
        else:
            named = _URL_TYPE_ID.search(target)
            if named and not target.startswith("urn:") and named.group(1) != entry.type:
                issues.append(
                    Issue(
                        "reference-target-type",
                        f"{target!r} names a {named.group(1)} but resolves to a {entry.type}",
                        path,
                    )
                )
    return issues


def _request(reader: BundleReader, bundle: Mapping[str, Any]) -> ReimbursementRequest | None:
    if not reader.entries or reader.entries[0].type != "Claim":
        return None
    parts = read_claim(reader, reader.entries[0])
    beneficiary = read_patient(reader, parts.patient) if parts.patient is not None else None
    provider = read_provider(reader, parts.provider) if parts.provider is not None else None
    prescription = None
    if parts.prescription is not None:
        prescription = read_prescription(reader, parts.prescription, parts.patient)
    amo = amc = None
    if parts.amo is not None and parts.amo.coverage is not None:
        amo = read_amo_coverage(
            reader, parts.amo.coverage, parts.patient, parts.amo.pre_auth_refs, beneficiary
        )
        if amo is not None and amo.card is not None and beneficiary is not None and beneficiary.foreign_id:
            beneficiary = replace(beneficiary, identity=IdentityKind(amo.card.kind.value))
    if parts.amc is not None and parts.amc.coverage is not None:
        amc = read_amc_coverage(reader, parts.amc.coverage, parts.patient, parts.amc.pre_auth_refs)
        if amo is not None and amo.ame:
            reader.error(
                "ame-with-amc",
                "the aide médicale de l'État pays alone: a Claim under AME has no AMC insurance",
                parts.amc.path,
            )
    submitted_at = reader.datetime(bundle.get("timestamp"), "Bundle.timestamp", "Bundle.timestamp")
    identifier = bundle.get("identifier")
    if (
        reader.has_errors
        or beneficiary is None
        or provider is None
        or amo is None
        or prescription is None
        or parts.use is None
        or parts.claim_type is None
        or parts.created is None
        or parts.lines is None
        or submitted_at is None
        or (parts.amc is not None and amc is None)
        or not isinstance(identifier, dict)
    ):
        return None
    claim_identifier = None
    if parts.identifier is not None:
        claim_identifier = BusinessIdentifier(system=parts.identifier[0], value=parts.identifier[1])
    return ReimbursementRequest(
        submission=BusinessIdentifier(system=str(identifier["system"]), value=str(identifier["value"])),
        submitted_at=submitted_at,
        created=parts.created,
        use=parts.use,
        claim_type=parts.claim_type,
        beneficiary=beneficiary,
        provider=provider,
        amo=amo,
        lines=parts.lines,
        prescription=prescription,
        amc=amc,
        tiers_payant=parts.tiers_payant,
        claim_identifier=claim_identifier,
    )


_NAMESPACE = uuid.UUID("0b6f1f6e-2c1d-5b8e-9a55-4c2f7e0d1a11")


def _id(request: ReimbursementRequest, role: str) -> str:
    """Deterministic resource id: uuid5 over the submission identifier and the role."""
    return str(uuid.uuid5(_NAMESPACE, f"{request.submission.system}|{request.submission.value}|{role}"))


def to_bundle(request: ReimbursementRequest, *, canon: Canon | None = None) -> dict[str, Any]:
    """A submission Bundle that ``from_bundle`` reads back as ``request`` (ids are deterministic)."""
    canon = canon or Canon()
    ids = {
        role: _id(request, role)
        for role in (
            "claim",
            "patient",
            "prescriber",
            "provider",
            "amo-org",
            "amc-org",
            "amo-cov",
            "amc-cov",
            "prescription",
        )
    }
    urls = {role: f"urn:uuid:{value}" for role, value in ids.items()}
    amo_insurance: dict[str, Any] = {
        "sequence": 1,
        "focal": True,
        "coverage": {"reference": urls["amo-cov"]},
    }
    if request.amo.pre_auth_refs:
        amo_insurance["preAuthRef"] = list(request.amo.pre_auth_refs)
    insurance = [amo_insurance]
    if request.amc is not None:
        amc_insurance: dict[str, Any] = {
            "sequence": 2,
            "focal": False,
            "coverage": {"reference": urls["amc-cov"]},
        }
        if request.amc.pre_auth_refs:
            amc_insurance["preAuthRef"] = list(request.amc.pre_auth_refs)
        insurance.append(amc_insurance)
    claim = to_claim(
        resource_id=ids["claim"],
        use=request.use,
        claim_type=request.claim_type,
        created=request.created.isoformat(),
        patient_url=urls["patient"],
        provider_url=urls["provider"],
        prescription_url=urls["prescription"],
        insurance=insurance,
        lines=request.lines,
        category_system=canon.device_category,
        tiers_payant=request.tiers_payant,
        identifier=(request.claim_identifier.system, request.claim_identifier.value)
        if request.claim_identifier is not None
        else None,
        lpp_system=canon.lpp,
    )
    resources: list[tuple[str, dict[str, Any]]] = [
        ("claim", claim),
        ("patient", to_patient(request.beneficiary, ids["patient"], canon)),
        ("provider", to_provider(request.provider, ids["provider"], canon.biller_kind)),
        (
            "amo-org",
            to_amo_organization(request.amo.organisme, ids["amo-org"], canon.amo_organisme),
        ),
        (
            "amo-cov",
            to_amo_coverage(
                request.amo, ids["amo-cov"], urls["patient"], urls["amo-org"], canon.coverage_class, canon
            ),
        ),
    ]
    if request.amc is not None:
        resources.append(("amc-org", to_amc_organization(request.amc.amc_number, ids["amc-org"], canon.amc)))
        resources.append(
            (
                "amc-cov",
                to_amc_coverage(
                    request.amc, ids["amc-cov"], urls["patient"], urls["amc-org"], canon.coverage_class
                ),
            )
        )
    prescriber = to_practitioner(request.prescription.prescriber, ids["prescriber"])
    device_request = to_device_request(
        request.prescription,
        ids["prescription"],
        urls["patient"],
        urls["prescriber"],
        canon.lpp,
        canon.ald,
        canon.vision_change,
    )
    resources += [("prescriber", prescriber), ("prescription", device_request)]
    return {
        "resourceType": "Bundle",
        "id": _id(request, "bundle"),
        "identifier": {"system": request.submission.system, "value": request.submission.value},
        "type": "collection",
        "timestamp": request.submitted_at.isoformat(),
        "entry": [{"fullUrl": urls[role], "resource": resource} for role, resource in resources],
    }
