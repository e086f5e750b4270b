"""Coverage ⇄ AMO coverage (PUBLICPOL) and AMC coverage (EHCPOL).

AMO classes (project coverage-class system): ``nature-assurance`` and ``exoneration``
(required), ``regime`` (optional). AMC: the HL7 ``plan`` class carries the contract id.
Either may carry the project class ``scheme``: ``ame`` on the AMO Coverage (aide médicale de
l'État), ``css`` on the AMC Coverage (complémentaire santé solidaire), conventions.md §6. The AMO
Coverage of a person insured in another EU/EEA state or Switzerland carries the CEAM or the S1
form as an identifier (conventions.md, "CEAM and S1").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from adapter.domain import (
    AmcCoverage,
    AmoCoverage,
    Beneficiary,
    CardKind,
    DateRange,
    Exoneration,
    ForeignCard,
    ForeignId,
    NatureAssurance,
    Nir,
)
from mappings import systems
from mappings.fhir import as_list, codings, has_code, identifiers
from mappings.inbound._organization import read_amc_number, read_amo_organisme
from mappings.inbound._reader import BundleReader, Entry

_E = TypeVar("_E", NatureAssurance, Exoneration)

__all__ = [
    "read_amc_coverage",
    "read_amo_coverage",
    "read_period",
    "to_amc_coverage",
    "to_amo_coverage",
    "to_period",
]


def read_period(
    reader: BundleReader, raw: Any, path: str, what: str, code: str = "period-invalid"
) -> DateRange | None:
    if not isinstance(raw, dict):
        return None
    start = reader.date(_day(raw.get("start")), f"{path}.start", f"{what}.start")
    end = reader.date(_day(raw.get("end")), f"{path}.end", f"{what}.end")
    if start is None:
        if raw.get("start") is None:
            reader.error("period-invalid", f"{what} needs a start", f"{path}.start")
        return None
    if end is not None and end < start:
        reader.error(code, f"{what} ends before it starts", f"{path}.end")
        return None
    return DateRange(start=start, end=end)


def _day(raw: Any) -> Any:
    """The date part of a dateTime (Period bounds are dateTimes in FHIR)."""
    return raw[:10] if isinstance(raw, str) and len(raw) > 10 and raw[10] == "T" else raw


def to_period(period: DateRange) -> dict[str, str]:
    out = {"start": period.start.isoformat()}
    if period.end is not None:
        out["end"] = period.end.isoformat()
    return out


def _check_common(reader: BundleReader, entry: Entry, patient: Entry | None, type_code: str) -> None:
    resource = entry.resource
    if not has_code(resource.get("type"), systems.ACT_CODE, type_code):
        reader.error(
            "coverage-type",
            f"this Coverage must have type {systems.ACT_CODE}#{type_code}",
            f"{entry.path}.type",
        )
    beneficiary = reader.lookup(resource.get("beneficiary"))
    if patient is not None and beneficiary is not None and beneficiary is not patient:
        reader.error(
            "coverage-beneficiary",
            "Coverage.beneficiary is not the Claim's patient",
            f"{entry.path}.beneficiary",
        )


def _payor(reader: BundleReader, entry: Entry) -> Entry | None:
    payors = as_list(entry.resource.get("payor"))
    if not payors:
        return None
    return reader.follow(payors[0], f"{entry.path}.payor[0]", ("Organization",), "Coverage.payor")


def _classes(reader: BundleReader, entry: Entry, system: str) -> dict[str, tuple[str, str]]:
    """class code → (value, FHIRPath of the value) for classes typed in ``system``."""
    found: dict[str, tuple[str, str]] = {}
    for index, item in enumerate(as_list(entry.resource.get("class"))):
        if not isinstance(item, dict):
            continue
        for _, coding in codings(item.get("type")):
            code = coding.get("code")
            if coding.get("system") == system and isinstance(code, str):
                value = item.get("value")
                if isinstance(value, str):
                    found.setdefault(code, (value, f"{entry.path}.class[{index}].value"))
    return found


def read_amo_coverage(
    reader: BundleReader,
    entry: Entry,
    patient: Entry | None,
    pre_auth_refs: tuple[str, ...],
    holder: Beneficiary | None = None,
) -> AmoCoverage | None:
    """The AMO coverage; ``holder`` (the beneficiary read from the Patient) tells whether the
    patient is a CEAM/S1 holder, whose Coverage needs the card and may omit subscriberId."""
    _check_common(reader, entry, patient, "PUBLICPOL")
    resource = entry.resource
    seen, card = _card(reader, entry)
    foreign = holder is not None and holder.foreign_id is not None
    if foreign and not seen:
        reader.error(
            "coverage-card",
            "a patient identified by a CEAM/S1 personal number needs the card or form on the AMO "
            f"Coverage: an identifier with system {reader.canon.ehic_card} or {reader.canon.s1_form}",
            f"{entry.path}.identifier",
        )
    insured = None
    subscriber = resource.get("subscriberId")
    if subscriber is None and (foreign or seen):
        # The card holder is the insured person, keyed alike (an unreadable Patient is reported there).
        insured = holder.nir if holder is not None else None
    elif subscriber is None:
        reader.error(
            "coverage-subscriber",
            "the AMO Coverage needs subscriberId = the insured person's NIR",
            f"{entry.path}.subscriberId",
        )
    elif foreign:
        insured_id = reader.value(ForeignId, subscriber, f"{entry.path}.subscriberId")
        insured = insured_id.key if insured_id is not None else None
    else:
        insured = reader.value(Nir, subscriber, f"{entry.path}.subscriberId")
    organisme = None
    payor = _payor(reader, entry)
    if payor is not None:
        organisme = read_amo_organisme(reader, payor)
    classes = _classes(reader, entry, reader.canon.coverage_class)
    nature = _enum(reader, entry, classes, "nature-assurance", NatureAssurance)
    exoneration = _enum(reader, entry, classes, "exoneration", Exoneration)
    regime = classes.get("regime", (None, ""))[0]
    ame = _scheme(reader, classes, "ame")
    rights = read_period(
        reader, resource.get("period"), f"{entry.path}.period", "Coverage.period", "coverage-period"
    )
    rank = resource.get("dependent")
    if insured is None or organisme is None or nature is None or exoneration is None:
        return None
    if seen and card is None:
        return None
    return AmoCoverage(
        organisme=organisme,
        nature=nature,
        exoneration=exoneration,
        insured=insured,
        rights=rights,
        regime=regime,
        beneficiary_rank=rank if isinstance(rank, str) else None,
        pre_auth_refs=pre_auth_refs,
        ame=ame,
        card=card,
    )


def _card(reader: BundleReader, entry: Entry) -> tuple[bool, ForeignCard | None]:
    """(a card was given, the card when it is whole): the first CEAM/S1 identifier, with its
    number, its competent institution (``assigner.identifier``) and its expiry (``period.end``)."""
    kinds = {reader.canon.ehic_card: CardKind.EHIC, reader.canon.s1_form: CardKind.S1}
    for index, ident in identifiers(entry.resource):
        kind = kinds.get(str(ident.get("system")))
        if kind is None:
            continue
        path = f"{entry.path}.identifier[{index}]"
        number = ident.get("value")
        if not isinstance(number, str) or not number.strip():
            reader.error("coverage-card", "the card or form needs its number", f"{path}.value")
        institution = _institution(reader, ident, path)
        period = ident.get("period")
        raw_end = period.get("end") if isinstance(period, Mapping) else None
        expiry = reader.date(_day(raw_end), f"{path}.period.end", "the card's expiry")
        if kind is CardKind.EHIC and raw_end is None:
            reader.error(
                "coverage-card",
                "a CEAM states its expiry date (card field 9) in identifier.period.end",
                f"{path}.period.end",
            )
            return True, None
        if not isinstance(number, str) or not number.strip() or institution is None:
            return True, None
        if raw_end is not None and expiry is None:
            return True, None
        return True, ForeignCard(kind=kind, number=number.strip(), institution=institution, expiry=expiry)
    return False, None


def _institution(reader: BundleReader, ident: Mapping[str, Any], path: str) -> ForeignId | None:
    assigner = ident.get("assigner")
    institution = assigner.get("identifier") if isinstance(assigner, Mapping) else None
    if not isinstance(institution, Mapping) or institution.get("system") != reader.canon.eu_institution:
        reader.error(
            "coverage-card",
            "the card or form names its competent institution (card field 7) in "
            f"assigner.identifier, system {reader.canon.eu_institution}, value CC:number",
            f"{path}.assigner.identifier",
        )
        return None
    return reader.value(ForeignId, institution.get("value"), f"{path}.assigner.identifier.value")


def _scheme(reader: BundleReader, classes: dict[str, tuple[str, str]], expected: str) -> bool:
    """True when the ``scheme`` class says ``expected``; another value is an error."""
    if "scheme" not in classes:
        return False
    value, path = classes["scheme"]
    if value != expected:
        reader.error("coverage-class", f"scheme {value!r} is not allowed here (only {expected!r})", path)
        return False
    return True


def _enum(
    reader: BundleReader, entry: Entry, classes: dict[str, tuple[str, str]], code: str, kind: type[_E]
) -> _E | None:
    if code not in classes:
        reader.error(
            "coverage-class",
            f"the AMO Coverage needs a class of type {code}",
            f"{entry.path}.class",
        )
        return None
    value, path = classes[code]
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        reader.error("coverage-class", f"{code} {value!r} is not one of {allowed}", path)
        return None


def read_amc_coverage(
    reader: BundleReader, entry: Entry, patient: Entry | None, pre_auth_refs: tuple[str, ...]
) -> AmcCoverage | None:
    _check_common(reader, entry, patient, "EHCPOL")
    resource = entry.resource
    member = resource.get("subscriberId")
    if not isinstance(member, str):
        reader.error(
            "coverage-subscriber",
            "the AMC Coverage needs subscriberId = the member number",
            f"{entry.path}.subscriberId",
        )
    number = None
    payor = _payor(reader, entry)
    if payor is not None:
        number = read_amc_number(reader, payor)
    plan = _classes(reader, entry, systems.COVERAGE_CLASS_HL7).get("plan")
    if plan is None:
        reader.error(
            "coverage-class",
            f"the AMC Coverage needs a class {systems.COVERAGE_CLASS_HL7}#plan carrying the contract id",
            f"{entry.path}.class",
        )
    css = _scheme(reader, _classes(reader, entry, reader.canon.coverage_class), "css")
    rights = read_period(
        reader, resource.get("period"), f"{entry.path}.period", "Coverage.period", "coverage-period"
    )
    if number is None or plan is None or not isinstance(member, str):
        return None
    return AmcCoverage(
        amc_number=number,
        member_id=member,
        contract_id=plan[0],
        rights=rights,
        pre_auth_refs=pre_auth_refs,
        css=css,
    )


def _class(system: str, code: str, value: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": system, "code": code}]}, "value": value}


def to_amo_coverage(
    coverage: AmoCoverage,
    resource_id: str,
    patient_url: str,
    payor_url: str,
    system: str,
    canon: systems.Canon | None = None,
) -> dict[str, Any]:
    classes = [
        _class(system, "nature-assurance", coverage.nature.value),
        _class(system, "exoneration", coverage.exoneration.value),
    ]
    if coverage.regime is not None:
        classes.append(_class(system, "regime", coverage.regime))
    if coverage.ame:
        classes.append(_class(system, "scheme", "ame"))
    resource: dict[str, Any] = {"resourceType": "Coverage", "id": resource_id}
    card = coverage.card
    if card is not None:
        resource["identifier"] = [_card_identifier(card, canon or systems.Canon())]
    resource["status"] = "active"
    resource["type"] = {"coding": [{"system": systems.ACT_CODE, "code": "PUBLICPOL"}]}
    if card is None:  # a card holder is the insured person: no subscriberId (no NIR)
        resource["subscriberId"] = coverage.insured.value
    resource["beneficiary"] = {"reference": patient_url}
    if coverage.beneficiary_rank is not None:
        resource["dependent"] = coverage.beneficiary_rank
    if coverage.rights is not None:
        resource["period"] = to_period(coverage.rights)
    resource["payor"] = [{"reference": payor_url}]
    resource["class"] = classes
    resource["order"] = 1
    return resource


def _card_identifier(card: ForeignCard, canon: systems.Canon) -> dict[str, Any]:
    ident: dict[str, Any] = {
        "system": canon.ehic_card if card.kind is CardKind.EHIC else canon.s1_form,
        "value": card.number,
    }
    if card.expiry is not None:
        ident["period"] = {"end": card.expiry.isoformat()}
    ident["assigner"] = {"identifier": {"system": canon.eu_institution, "value": card.institution.value}}
    return ident


def to_amc_coverage(
    coverage: AmcCoverage, resource_id: str, patient_url: str, payor_url: str, system: str
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": resource_id,
        "status": "active",
        "type": {"coding": [{"system": systems.ACT_CODE, "code": "EHCPOL"}]},
        "subscriberId": coverage.member_id,
        "beneficiary": {"reference": patient_url},
    }
    if coverage.rights is not None:
        resource["period"] = to_period(coverage.rights)
    resource["payor"] = [{"reference": payor_url}]
    resource["class"] = [_class(systems.COVERAGE_CLASS_HL7, "plan", coverage.contract_id)]
    if coverage.css:
        resource["class"].append(_class(system, "scheme", "css"))
    resource["order"] = 2
    return resource
