"""Organization ⇄ billing provider (FINESS / SIRET), AMO organisme and AMC number."""

from __future__ import annotations

from typing import Any

from adapter.domain import AmcNumber, AmoOrganisme, BillerKind, BillingProvider, Finess, Siret
from mappings import systems
from mappings.fhir import as_list, codings, identifiers
from mappings.inbound._reader import BundleReader, Entry

__all__ = [
    "read_amc_number",
    "read_amo_organisme",
    "read_provider",
    "to_amc_organization",
    "to_amo_organization",
    "to_provider",
]


def read_provider(reader: BundleReader, entry: Entry) -> BillingProvider | None:
    """FINESS (bare or idNatSt ``1``+FINESS) and/or SIRET (bare or idNatSt ``3``+SIRET)."""
    if entry.type == "PractitionerRole":
        organization = reader.follow(
            entry.resource.get("organization"),
            f"{entry.path}.organization",
            ("Organization",),
            "PractitionerRole.organization",
        )
        if organization is None:
            reader.error(
                "provider-identifier-missing",
                "the provider PractitionerRole must reference its Organization",
                f"{entry.path}.organization",
            )
            return None
        entry = organization
    finess: Finess | None = None
    siret: Siret | None = None
    bad = False
    for index, ident in identifiers(entry.resource):
        system, value = ident.get("system"), ident.get("value")
        path = f"{entry.path}.identifier[{index}].value"
        if not isinstance(value, str):
            continue
        if system == systems.IDNATST and value[:1] in ("1", "3"):
            system = systems.FINESS if value[0] == "1" else systems.SIRET
            value = value[1:]
        if system == systems.FINESS and finess is None:
            finess = reader.value(Finess, value, path)
            bad = bad or finess is None
            if finess is not None and not finess.key_valid:
                reader.warn("finess-key", "the FINESS check digit fails Luhn", path)
        elif system == systems.SIRET and siret is None:
            siret = reader.value(Siret, value, path)
            bad = bad or siret is None
    if finess is None and siret is None:
        if not bad:
            reader.error(
                "provider-identifier-missing",
                "the provider Organization needs a FINESS or a SIRET identifier",
                f"{entry.path}.identifier",
            )
        return None
    name = entry.resource.get("name")
    return BillingProvider(
        finess=finess,
        siret=siret,
        name=name if isinstance(name, str) else None,
        kind=_kind(reader, entry),
    )


def _kind(reader: BundleReader, entry: Entry) -> BillerKind | None:
    """The biller's kind stated in Organization.type (project biller-kind system), if any."""
    system = reader.canon.biller_kind
    for index, concept in enumerate(as_list(entry.resource.get("type"))):
        for position, coding in codings(concept):
            if coding.get("system") != system:
                continue
            code = coding.get("code")
            if isinstance(code, str) and code in BillerKind._value2member_map_:
                return BillerKind(code)
            allowed = ", ".join(kind.value for kind in BillerKind)
            reader.error(
                "provider-kind",
                f"{code!r} is not a biller kind ({allowed})",
                f"{entry.path}.type[{index}].coding[{position}].code",
            )
            return None
    return None


def _naming(reader: BundleReader, entry: Entry, system: str, build: type[Any], what: str) -> Any:
    for index, ident in identifiers(entry.resource):
        if ident.get("system") == system:
            return reader.value(build, ident.get("value"), f"{entry.path}.identifier[{index}].value")
    reader.error(
        "payor-identifier",
        f"the {what} Organization needs an identifier with system {system}",
        f"{entry.path}.identifier",
    )
    return None


def read_amo_organisme(reader: BundleReader, entry: Entry) -> AmoOrganisme | None:
    result: AmoOrganisme | None = _naming(reader, entry, reader.canon.amo_organisme, AmoOrganisme, "AMO")
    return result


def read_amc_number(reader: BundleReader, entry: Entry) -> AmcNumber | None:
    result: AmcNumber | None = _naming(reader, entry, reader.canon.amc, AmcNumber, "AMC")
    return result


def to_provider(provider: BillingProvider, resource_id: str, kind_system: str) -> dict[str, Any]:
    idents = []
    if provider.finess is not None:
        idents.append({"system": systems.FINESS, "value": provider.finess.value})
    if provider.siret is not None:
        idents.append({"system": systems.SIRET, "value": provider.siret.value})
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": resource_id,
        "identifier": idents,
    }
    if provider.kind is not None:
        resource["type"] = [{"coding": [{"system": kind_system, "code": provider.kind.value}]}]
    if provider.name is not None:
        resource["name"] = provider.name
    return resource


def to_amo_organization(organisme: AmoOrganisme, resource_id: str, system: str) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": resource_id,
        "identifier": [{"system": system, "value": organisme.value}],
    }


def to_amc_organization(number: AmcNumber, resource_id: str, system: str) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": resource_id,
        "identifier": [{"system": system, "value": number.value}],
    }
