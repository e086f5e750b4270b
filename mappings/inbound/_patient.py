"""Patient ⇄ Beneficiary: the NIR (with key) is the identifier the conventions require, or the
INS-NIA (the provisional number of a person awaiting a NIR, built and keyed like one), or, for a
person insured in another EU/EEA state or Switzerland (CEAM, S1), the personal identification
number the card carries, from which the history key is derived."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.domain import Beneficiary, ForeignId, Gender, IdentityKind, Nir
from mappings import systems
from mappings.fhir import identifiers
from mappings.inbound._reader import BundleReader, Entry

__all__ = ["identifier_system", "patient_identifier", "read_patient", "to_patient"]


def identifier_system(beneficiary: Beneficiary) -> str:
    """The system of the beneficiary's number: the INS-NIA's, or the NIR's (a card holder's
    personal number is written by :func:`patient_identifier`, which knows the canonical base)."""
    return systems.INS_NIA if beneficiary.identity is IdentityKind.NIA else systems.NIR


def patient_identifier(beneficiary: Beneficiary, canon: systems.Canon) -> dict[str, str]:
    """The Patient's identifier as received: the card holder's personal number, or the NIR/NIA."""
    if beneficiary.foreign_id is not None:
        return {"system": canon.eu_person, "value": beneficiary.foreign_id.value}
    return {"system": identifier_system(beneficiary), "value": beneficiary.nir.value}


def read_patient(reader: BundleReader, entry: Entry) -> Beneficiary | None:
    """The beneficiary from a Patient entry; None (with issues) when its NIR is missing or bad.

    A NIR is read first; without one, an INS-NIA is read in its place (the definitive number
    wins when a Patient carries both); without either, a CEAM/S1 holder's personal number, whose
    identity the AMO Coverage's card settles (``EHIC`` until then)."""
    resource = entry.resource
    nir: Nir | None = None
    foreign: ForeignId | None = None
    rank = {systems.NIR: 0, systems.INS_NIA: 1, reader.canon.eu_person: 2}
    found: tuple[int, Mapping[str, Any], str] | None = None
    for index, ident in identifiers(resource):
        system = ident.get("system")
        if system in rank and (found is None or rank[system] < rank[found[2]]):
            found = (index, ident, system)
    identity: IdentityKind | None = None
    if found is None:
        reader.error(
            "nir-missing",
            f"the Patient needs an identifier with system {systems.NIR} (NIR with key), "
            f"{systems.INS_NIA} (INS-NIA), or {reader.canon.eu_person} (the personal number of a "
            "CEAM or S1 holder, CC:number)",
            f"{entry.path}.identifier",
        )
    elif found[2] == reader.canon.eu_person:
        index, ident, _ = found
        path = f"{entry.path}.identifier[{index}].value"
        foreign = reader.value(ForeignId, ident.get("value"), path)
        if foreign is not None:
            nir, identity = foreign.key, IdentityKind.EHIC
    else:
        index, ident, system = found
        identity = IdentityKind.NIA if system == systems.INS_NIA else None
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
        foreign_id=foreign,
    )


def to_patient(beneficiary: Beneficiary, resource_id: str, canon: systems.Canon) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": resource_id,
        "identifier": [patient_identifier(beneficiary, canon)],
    }
    if beneficiary.gender is not None:
        resource["gender"] = beneficiary.gender.value
    if beneficiary.birth_date is not None:
        resource["birthDate"] = beneficiary.birth_date.isoformat()
    return resource
