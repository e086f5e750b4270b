"""Practitioner (or PractitionerRole) ⇄ Prescriber: RPPS bare, or idNatPs ``8``+RPPS / ``0``+ADELI."""

from __future__ import annotations

from typing import Any

from adapter.domain import Adeli, Prescriber, Rpps
from mappings import systems
from mappings.fhir import identifiers
from mappings.inbound._reader import BundleReader, Entry

__all__ = ["read_prescriber", "to_practitioner"]


def read_prescriber(reader: BundleReader, entry: Entry) -> Prescriber | None:
    """The prescriber's RPPS or ADELI from a Practitioner, following a PractitionerRole."""
    if entry.type == "PractitionerRole":
        practitioner = reader.follow(
            entry.resource.get("practitioner"),
            f"{entry.path}.practitioner",
            ("Practitioner",),
            "PractitionerRole.practitioner",
        )
        if practitioner is None:
            reader.error(
                "prescriber-missing",
                "the PractitionerRole must reference the prescriber's Practitioner",
                f"{entry.path}.practitioner",
            )
            return None
        entry = practitioner
    for index, ident in identifiers(entry.resource):
        system, value = ident.get("system"), ident.get("value")
        path = f"{entry.path}.identifier[{index}].value"
        if system == systems.RPPS:
            rpps = reader.value(Rpps, value, path)
            return None if rpps is None else Prescriber(rpps=rpps)
        if system == systems.IDNATPS and isinstance(value, str):
            if value.startswith("8"):
                rpps = reader.value(Rpps, value[1:], path)
                return None if rpps is None else Prescriber(rpps=rpps)
            if value.startswith("0"):
                adeli = reader.value(Adeli, value[1:], path)
                return None if adeli is None else Prescriber(adeli=adeli)
            reader.error(
                "idnat-prefix",
                "an idNatPs prescriber identifier starts with 8 (RPPS) or 0 (ADELI)",
                path,
            )
            return None
    reader.error(
        "prescriber-missing",
        f"the prescriber needs an RPPS ({systems.RPPS}) or idNatPs ({systems.IDNATPS}) identifier",
        f"{entry.path}.identifier",
    )
    return None


def to_practitioner(prescriber: Prescriber, resource_id: str) -> dict[str, Any]:
    if prescriber.rpps is not None:
        identifier = {"system": systems.RPPS, "value": prescriber.rpps.value}
    else:
        identifier = {"system": systems.IDNATPS, "value": f"0{prescriber.adeli}"}
    return {"resourceType": "Practitioner", "id": resource_id, "identifier": [identifier]}
