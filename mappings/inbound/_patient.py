"""Patient ⇄ Beneficiary: the NIR (with key) is the identifier the conventions require."""

from __future__ import annotations

from typing import Any

from adapter.domain import Beneficiary, Gender, Nir
from mappings import systems
from mappings.fhir import identifiers
from mappings.inbound._reader import BundleReader, Entry

__all__ = ["read_patient", "to_patient"]


def read_patient(reader: BundleReader, entry: Entry) -> Beneficiary | None:
    """The beneficiary from a Patient entry; None (with issues) when its NIR is missing or bad."""
    resource = entry.resource
    nir: Nir | None = None
    found = False
    for index, ident in identifiers(resource):
        if ident.get("system") == systems.NIR:
            found = True
            nir = reader.value(Nir, ident.get("value"), f"{entry.path}.identifier[{index}].value")
            break
    if not found:
        reader.error(
            "nir-missing",
            f"the Patient needs an identifier with system {systems.NIR} (NIR with key)",
            f"{entry.path}.identifier",
        )
    birth = reader.date(resource.get("birthDate"), f"{entry.path}.birthDate", "Patient.birthDate")
    gender = resource.get("gender")
    if nir is None:
        return None
    return Beneficiary(
        nir=nir,
        birth_date=birth,
        gender=Gender(gender) if isinstance(gender, str) and gender in Gender._value2member_map_ else None,
    )


def to_patient(beneficiary: Beneficiary, resource_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": resource_id,
        "identifier": [{"system": systems.NIR, "value": beneficiary.nir.value}],
    }
    if beneficiary.gender is not None:
        resource["gender"] = beneficiary.gender.value
    if beneficiary.birth_date is not None:
        resource["birthDate"] = beneficiary.birth_date.isoformat()
    return resource
