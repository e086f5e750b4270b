"""A lone DeviceRequest → PrescriptionToCheck (conventions.md, prescriptions checked on their own).

The DeviceRequest travels without a Bundle, so what it refers to travels with it: the patient
and the prescriber are contained resources (``subject`` = ``#id`` of a contained Patient with
its NIR and birth date, ``requester`` = ``#id`` of a contained Practitioner or PractitionerRole
with its RPPS), or logical references carrying the identifier itself (then the patient's age
cannot be checked). An optional contained Coverage named in ``insurance`` gives the exonération,
against which the ALD part is checked. The readers of the submission Bundle read them, with
every issue named by its FHIRPath from ``DeviceRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapter.domain import Exoneration
from adapter.domain.prescription import PrescriptionToCheck
from adapter.errors import Issue
from mappings.fhir import FoundReference, as_list, codings
from mappings.inbound._bundle import reference_issues
from mappings.inbound._devicerequest import read_prescription
from mappings.inbound._patient import read_patient
from mappings.inbound._reader import BundleReader, Entry
from mappings.systems import Canon

__all__ = ["PrescriptionReading", "read_lone_prescription"]

_ROOT = "DeviceRequest"


@dataclass(frozen=True, slots=True)
class PrescriptionReading:
    """What could be read (None when an error stops the checks) and every issue found."""

    prescription: PrescriptionToCheck | None
    issues: tuple[Issue, ...]


def _entry(index: int, url: str, resource: Mapping[str, Any], path: str) -> Entry:
    entry = Entry(index, url, resource)
    entry.path = path
    return entry


def read_lone_prescription(
    resource: Mapping[str, Any],
    *,
    today: date,
    canon: Canon | None = None,
    references: list[FoundReference] | None = None,
) -> PrescriptionReading:
    """Read a structurally valid DeviceRequest; ``today`` dates a prescription that says nothing."""
    reader = BundleReader(canon or Canon())
    for index, contained in enumerate(as_list(resource.get("contained"))):
        if isinstance(contained, dict) and isinstance(contained.get("id"), str):
            reader.add(_entry(index + 1, f"#{contained['id']}", contained, f"{_ROOT}.contained[{index}]"))
    if references:
        reader.issues.extend(reference_issues(reader, [r for r in references if _is_local(r)]))
    working = dict(resource)
    paths = {"code": f"{_ROOT}.codeCodeableConcept", "occurrence": f"{_ROOT}.occurrencePeriod"}
    patient = _party(reader, working, "subject", "Patient", ("Patient",))
    if patient is None and not reader.has_errors:
        reader.error(
            "prescription-patient-missing",
            "DeviceRequest.subject must be a contained Patient (#id) or a reference carrying the NIR",
            f"{_ROOT}.subject",
        )
    _party(reader, working, "requester", "Practitioner", ("Practitioner", "PractitionerRole"))
    beneficiary = read_patient(reader, patient) if patient is not None else None
    prescription = read_prescription(reader, _entry(0, "#", working, _ROOT), patient)
    for index, parameter in enumerate(as_list(resource.get("parameter"))):
        code = parameter.get("code") if isinstance(parameter, dict) else None
        if isinstance(code, dict) and code.get("text") == "quantity":
            paths["quantity"] = f"{_ROOT}.parameter[{index}].valueQuantity.value"
            break
    for index, extension in enumerate(as_list(resource.get("extension"))):
        if isinstance(extension, dict) and extension.get("url") == reader.canon.ald:
            paths["ald"] = f"{_ROOT}.extension[{index}]"
    paths["subject"] = f"{_ROOT}.subject"
    paths["requester"] = f"{_ROOT}.requester"
    exoneration = _exoneration(reader, resource, paths)
    occurrence = _occurrence(reader, resource, paths)
    if prescription is None or reader.has_errors:
        return PrescriptionReading(prescription=None, issues=tuple(reader.issues))
    day = (
        occurrence or (prescription.period.start if prescription.period else None) or prescription.authored_on
    )
    return PrescriptionReading(
        prescription=PrescriptionToCheck(
            prescription=prescription,
            day=day if day is not None else today,
            beneficiary=beneficiary,
            exoneration=exoneration,
            paths=paths,
        ),
        issues=tuple(reader.issues),
    )


def _is_local(found: FoundReference) -> bool:
    target = found.value.get("reference")
    return isinstance(target, str) and target.startswith("#")


def _party(
    reader: BundleReader, working: dict[str, Any], element: str, kind: str, allowed: tuple[str, ...]
) -> Entry | None:
    """The entry ``element`` names: a contained resource, or one built from a logical reference's
    identifier (and ``working`` then points at it, so that the Bundle readers can follow it)."""
    raw = working.get(element)
    if not isinstance(raw, dict):
        return None
    target = raw.get("reference")
    if isinstance(target, str):
        entry = reader.lookup(raw)
        if entry is None or not target.startswith("#"):
            if entry is None and not target.startswith("#"):
                reader.error(
                    "reference-unresolved",
                    f"DeviceRequest.{element} of a prescription sent alone is a contained resource (#id) "
                    "or a reference carrying its identifier",
                    f"{_ROOT}.{element}.reference",
                )
            return None
        return entry if entry.type in allowed else None
    identifier = raw.get("identifier")
    if not isinstance(identifier, dict):
        return None
    url = f"#{element}-identifier"
    entry = _entry(0, url, {"resourceType": kind, "identifier": [identifier]}, f"{_ROOT}.{element}")
    reader.add(entry)
    working[element] = {"reference": url}
    return entry


def _exoneration(
    reader: BundleReader, resource: Mapping[str, Any], paths: dict[str, str]
) -> Exoneration | None:
    for index, insurance in enumerate(as_list(resource.get("insurance"))):
        entry = reader.lookup(insurance)
        if entry is None or entry.type != "Coverage":
            continue
        paths["insurance"] = f"{_ROOT}.insurance[{index}]"
        for position, item in enumerate(as_list(entry.resource.get("class"))):
            if not isinstance(item, dict):
                continue
            for _, coding in codings(item.get("type")):
                if (
                    coding.get("system") == reader.canon.coverage_class
                    and coding.get("code") == "exoneration"
                ):
                    value = item.get("value")
                    if isinstance(value, str) and value in Exoneration._value2member_map_:
                        paths["exoneration"] = f"{entry.path}.class[{position}].value"
                        return Exoneration(value)
                    reader.error(
                        "coverage-class",
                        f"exoneration {value!r} is not a known code",
                        f"{entry.path}.class[{position}].value",
                    )
                    return None
    return None


def _occurrence(reader: BundleReader, resource: Mapping[str, Any], paths: dict[str, str]) -> date | None:
    raw = resource.get("occurrenceDateTime")
    if isinstance(raw, str):
        paths["occurrence"] = f"{_ROOT}.occurrenceDateTime"
        return reader.date(raw[:10], f"{_ROOT}.occurrenceDateTime", "DeviceRequest.occurrenceDateTime")
    return None
