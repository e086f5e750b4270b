"""Patient ⇄ Beneficiary: the NIR (with key) is the identifier the conventions require, or the
INS-NIA (the provisional number of a person awaiting a NIR, built and keyed like one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.domain import Beneficiary, Gender, IdentityKind, Nir
from mappings import systems
from mappings.fhir import identifiers
from mappings.inbound._reader import BundleReader, Entry

__all__ = ["identifier_system", "read_patient", "to_patient"]


def identifier_system(beneficiary: Beneficiary) -> str:
    """The system of the beneficiary's number: the INS-NIA's, or the NIR's."""
    return systems.INS_NIA if beneficiary.identity is IdentityKind.NIA else systems.NIR


def read_patient(reader: BundleReader, entry: Entry) -> Beneficiary | None:
    """The beneficiary from a Patient entry; None (with issues) when its NIR is missing or bad.

    A NIR is read first; without one, an INS-NIA is read in its place (the definitive number
    wins when a Patient carries both)."""
    resource = entry.resource
    nir: Nir | None = None
    found: tuple[int, Mapping[str, Any], IdentityKind | None] | None = None
    for index, ident in identifiers(resource):
        system = ident.get("system")
        if system == systems.NIR:
            found = (index, ident, None)
            break
        if system == systems.INS_NIA and found is None:
            found = (index, ident, IdentityKind.NIA)
    identity: IdentityKind | None = None
    if found is None:
        reader.error(
            "nir-missing",
            f"the Patient needs an identifier with system {systems.NIR} (NIR with key) "
            f"or {systems.INS_NIA} (INS-NIA)",
            f"{entry.path}.identifier",
        )
    else:
        index, ident, identity = found
        nir = reader.value(Nir, ident.get("value"), f"{entry.path}.identifier[{index}].value")
    birth = reader.date(resource.get("birthDate"), f"{entry.path}.birthDate", "Patient.birthDate")
    gender = resource.get("gender")
    if nir is None:
        return None
    return Beneficiary(
        nir=nir,
        birth_date=birth,
        gender=Gender(gender) if isinstance(gender, str) and gender in Gender._value2member_map_ else None,
        identity=identity,
    )


def to_patient(beneficiary: Beneficiary, resource_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": resource_id,
        "identifier": [{"system": identifier_system(beneficiary), "value": beneficiary.nir.value}],
    }
    if beneficiary.gender is not None:
        resource["gender"] = beneficiary.gender.value
    if beneficiary.birth_date is not None:
        resource["birthDate"] = beneficiary.birth_date.isoformat()
    return resource
