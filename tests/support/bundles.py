"""Submission Bundles (docs/conventions.md §2) as FHIR JSON dicts: the fixture scenarios.

The fixture files under ``fixtures/`` are generated from these builders by
``python -m tests.build_fixtures``; tests can also call them directly to get a valid Bundle
and change one thing in it. Everything is deterministic: fullUrls are uuid5 over the case
name and the entry's role, amounts are ``Decimal`` (written as JSON numbers that keep their
two decimals), and datetimes carry a fixed UTC offset, so a rebuild is byte-identical.

A ``Case`` describes what varies between scenarios; ``build_bundle`` writes it out, and
``SCENARIOS`` holds the valid ones by name (``bundle(name)`` for a fresh copy). ``entry_of``
and ``as_bytes`` work on any Bundle dict. Nothing here goes through the adapter's own mapping
(the fixtures test it); ``tests.support.requests.sample_bundle`` is the Bundle that mapping
writes for a domain request.

Identifiers come from ``tests.support.identifiers``: invented but well formed (NIRs carry a
valid key, FINESS and SIRET numbers pass Luhn), so a fixture fails only where a case breaks
it on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from adapter.domain.values import Money
from mappings import systems
from mappings.fhir import jsonio
from tests.support.identifiers import finess, nir, rpps, siret

__all__ = [
    "CANON",
    "CEST",
    "CET",
    "CORSICA_SUBMISSIONS",
    "HOSPITAL_SUBMISSIONS",
    "OTHER_PATIENT",
    "ROLES",
    "SCENARIOS",
    "SUPPLIER_SUBMISSIONS",
    "AmcCover",
    "AmoCover",
    "Card",
    "Case",
    "Line",
    "Person",
    "Prescriber",
    "Provider",
    "as_bytes",
    "build_bundle",
    "build_resource",
    "bundle",
    "case_uuid",
    "entry_index",
    "entry_of",
    "full_url",
    "money",
    "patient_resource",
    "reference",
    "roles",
]

CANON: Final = systems.Canon()
CET: Final = timezone(timedelta(hours=1), "CET")
CEST: Final = timezone(timedelta(hours=2), "CEST")

_FIXTURE_NS: Final = uuid.uuid5(uuid.NAMESPACE_URL, f"{systems.DEFAULT_BASE}/fixtures")

ROLES: Final[tuple[tuple[str, str], ...]] = (
    ("claim", "Claim"),
    ("patient", "Patient"),
    ("prescriber", "Practitioner"),
    ("provider", "Organization"),
    ("amo", "Organization"),
    ("amc", "Organization"),
    ("amo-coverage", "Coverage"),
    ("amc-coverage", "Coverage"),
    ("prescription", "DeviceRequest"),
)
"""Entry roles in Bundle order (conventions.md §2: the Claim first)."""

_RESOURCE_TYPE: Final = dict(ROLES)


# -- case description --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """The patient (or the insured person who opens the rights)."""

    nir: str
    family: str
    given: str
    gender: str
    birth_date: date
    nia: bool = False
    """``nir`` is an INS-NIA (a provisional number, born abroad): identified under its system."""
    foreign: bool = False
    """``nir`` is a CEAM/S1 holder's personal number, ``CC:number``: identified under eu-person."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prescriber:
    """Exactly one of RPPS or ADELI; ``idnat`` writes it as idNatPs (8+RPPS or 0+ADELI)."""

    family: str
    given: str
    rpps: str | None = None
    adeli: str | None = None
    idnat: bool = False

    def identifier(self) -> dict[str, Any]:
        if self.rpps is not None:
            if self.idnat:
                return {"system": systems.IDNATPS, "value": "8" + self.rpps}
            return {"system": systems.RPPS, "value": self.rpps}
        if self.adeli is None:
            raise ValueError("a prescriber needs an RPPS or an ADELI number")
        return {"system": systems.IDNATPS, "value": "0" + self.adeli}


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    """The billing provider: FINESS (bare, or idNatSt 1+FINESS) or SIRET."""

    name: str
    finess: str | None = None
    siret: str | None = None
    idnat: bool = False
    kind: str | None = None
    """The biller's kind stated in Organization.type (establishment, supplier, pharmacist…)."""

    def identifier(self) -> dict[str, Any]:
        if self.finess is not None:
            if self.idnat:
                return {"system": systems.IDNATST, "value": "1" + self.finess}
            return {"system": systems.FINESS, "value": self.finess}
        if self.siret is None:
            raise ValueError("a provider needs a FINESS or a SIRET")
        return {"system": systems.SIRET, "value": self.siret}


@dataclass(frozen=True, slots=True, kw_only=True)
class AmoCover:
    """AMO organisme and the Coverage classes that drive the taux."""

    organisme: str
    name: str
    start: date
    end: date | None = None
    nature: str = "10"
    exoneration: str = "0"
    regime: str | None = None
    insured: Person | None = None
    """The ouvrant droit when it is not the patient (a child on a parent's rights)."""
    dependent: str | None = None
    ame: bool = False
    """The aide médicale de l'État: the class ``scheme`` = ``ame``."""
    card: Card | None = None
    """The CEAM or S1 form of a person insured in another EU/EEA state: no subscriberId then."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    """A CEAM (``ehic``) or an S1 form (``s1``): number, competent institution, expiry."""

    kind: str
    number: str
    institution: str
    expiry: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmcCover:
    """The mutuelle, the member number and the contract id its catalogue knows."""

    number: str
    name: str
    member_id: str
    plan: str
    start: date | None = None
    end: date | None = None
    css: bool = False
    """The complémentaire santé solidaire: the class ``scheme`` = ``css``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One Claim item: a purchase (``serviced_date``) or a rental (``serviced_period``)."""

    code: str
    display: str
    unit_price: Decimal
    quantity: int = 1
    serviced_date: date | None = None
    serviced_period: tuple[date, date] | None = None
    ear: str | None = None
    """``left`` or ``right``: item.bodySite (SNOMED CT) for a per-ear device."""
    gtin: bool = False
    """``code`` is the GTIN of a device off the LPP, not an LPP code."""
    category: str | None = None
    """Claim.item.category (device-category) of a device off the LPP."""

    @property
    def net(self) -> Decimal:
        return Money(self.unit_price).times(self.quantity).amount


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """Everything that varies between valid scenarios; ``build_bundle`` does the rest."""

    name: str
    description: str
    sender: str
    submission: str
    timestamp: datetime
    created: datetime
    patient: Person
    prescriber: Prescriber
    provider: Provider
    amo: AmoCover
    authored_on: date
    lines: tuple[Line, ...]
    amc: AmcCover | None = None
    claim_type: str = "professional"
    use: str = "claim"
    prescribed_quantity: int | None = None
    occurrence: tuple[date, date] | None = None
    ald: bool = False
    pre_auth_ref: str | None = None
    tiers_payant: bool = False
    relative_refs: bool = False
    """Write ``Type/id`` fullUrls and references instead of ``urn:uuid:``."""
    outcome: str = "complete"
    """The outcome of every ClaimResponse the reference payers answer (``error`` for a refusal)."""
    amc_outcome: str | None = None
    """The AMC's outcome where it differs from ``outcome`` (a device off the LPP)."""
    vision_change: bool = False
    """The prescription is for a change of sight (optics renewal interval shortened)."""
    preceded_by: tuple[str, ...] = ()
    """Scenarios to submit first against the same history and ledger (a forfait already spent)."""


# -- references --------------------------------------------------------------------------


def roles(case: Case) -> tuple[str, ...]:
    """The entry roles present in this case, in Bundle order (no AMC entries without a mutuelle)."""
    return tuple(role for role, _ in ROLES if case.amc is not None or not role.startswith("amc"))


def entry_index(case: Case, role: str) -> int:
    """Index of the entry holding ``role`` in ``build_bundle(case)``."""
    return roles(case).index(role)


def case_uuid(case_name: str, label: str) -> str:
    """The deterministic uuid5 of ``label`` (a role, "bundle", or any extra entry) in a case."""
    return str(uuid.uuid5(_FIXTURE_NS, f"{case_name}/{label}"))


def full_url(case: Case, role: str) -> str:
    """``urn:uuid:<uuid5(case, role)>``, or ``Type/role`` for a relative-reference case."""
    if case.relative_refs:
        return f"{_RESOURCE_TYPE[role]}/{role}"
    return f"urn:uuid:{case_uuid(case.name, role)}"


def reference(case: Case, role: str) -> dict[str, Any]:
    """A Reference to the entry holding ``role``: its fullUrl, as the conventions require."""
    return {"reference": full_url(case, role)}


# -- datatypes ---------------------------------------------------------------------------


def money(value: Decimal) -> dict[str, Any]:
    """A FHIR Money in EUR; the Decimal keeps its two decimals in the written JSON."""
    return {"value": Money(value).amount, "currency": "EUR"}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)]}


def _period(start: date | None, end: date | None) -> dict[str, Any]:
    period: dict[str, Any] = {}
    if start is not None:
        period["start"] = start.isoformat()
    if end is not None:
        period["end"] = end.isoformat()
    return period


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("FHIR instants and dateTimes in fixtures carry a UTC offset")
    return moment.isoformat(timespec="seconds")


def _name(family: str, given: str, prefix: str | None = None) -> list[dict[str, Any]]:
    name: dict[str, Any] = {"family": family, "given": [given]}
    if prefix is not None:
        name["prefix"] = [prefix]
    return [name]


# -- resources (keys in the order of the FHIR R4 element definitions) ----------------------


def _claim(case: Case) -> dict[str, Any]:
    insurance: list[dict[str, Any]] = [
        {"sequence": 1, "focal": True, "coverage": reference(case, "amo-coverage")}
    ]
    if case.pre_auth_ref is not None:
        insurance[0]["preAuthRef"] = [case.pre_auth_ref]
    if case.amc is not None:
        insurance.append({"sequence": 2, "focal": False, "coverage": reference(case, "amc-coverage")})
    items: list[dict[str, Any]] = []
    total = Money.zero()
    for sequence, line in enumerate(case.lines, start=1):
        item: dict[str, Any] = {"sequence": sequence}
        if line.category is not None:
            item["category"] = _concept(CANON.device_category, line.category)
        item["productOrService"] = _concept(systems.GTIN if line.gtin else CANON.lpp, line.code, line.display)
        if line.serviced_period is not None:
            item["servicedPeriod"] = _period(*line.serviced_period)
        elif line.serviced_date is not None:
            item["servicedDate"] = line.serviced_date.isoformat()
        item["quantity"] = {"value": line.quantity}
        item["unitPrice"] = money(line.unit_price)
        item["net"] = money(line.net)
        if line.ear is not None:
            item["bodySite"] = _concept(
                systems.SNOMED, _EAR_CODES[line.ear], f"{line.ear.title()} ear structure"
            )
        items.append(item)
        total = total + Money(line.net)
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "status": "active",
        "type": _concept(systems.CLAIM_TYPE, case.claim_type),
        "use": case.use,
        "patient": reference(case, "patient"),
        "created": _instant(case.created),
        "provider": reference(case, "provider"),
        "priority": _concept(systems.PROCESS_PRIORITY, "normal"),
        "prescription": reference(case, "prescription"),
    }
    if case.tiers_payant:
        claim["payee"] = {"type": _concept(systems.PAYEE_TYPE, "provider")}
    claim["insurance"] = insurance
    claim["item"] = items
    claim["total"] = money(total.amount)
    return claim


def _person_system(person: Person) -> str:
    if person.foreign:
        return CANON.eu_person
    return systems.INS_NIA if person.nia else systems.NIR


def _patient(case: Case) -> dict[str, Any]:
    return patient_resource(case.patient)


def patient_resource(person: Person) -> dict[str, Any]:
    """A Patient identified by NIR; also used to add a second patient to a Bundle."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": _person_system(person), "value": person.nir}],
        "name": _name(person.family, person.given),
        "gender": person.gender,
        "birthDate": person.birth_date.isoformat(),
    }


def _practitioner(case: Case) -> dict[str, Any]:
    prescriber = case.prescriber
    return {
        "resourceType": "Practitioner",
        "identifier": [prescriber.identifier()],
        "name": _name(prescriber.family, prescriber.given, "Dr" if prescriber.rpps else None),
    }


_EAR_CODES: Final = {ear: code for code, ear in systems.SNOMED_EARS.items()}


def _provider(case: Case) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [case.provider.identifier()],
    }
    if case.provider.kind is not None:
        resource["type"] = [_concept(CANON.biller_kind, case.provider.kind)]
    resource["name"] = case.provider.name
    return resource


def _amo(case: Case) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": CANON.amo_organisme, "value": case.amo.organisme}],
        "name": case.amo.name,
    }


def _amc(case: Case) -> dict[str, Any]:
    if case.amc is None:
        raise ValueError(f"{case.name} has no mutuelle")
    return {
        "resourceType": "Organization",
        "identifier": [{"system": CANON.amc, "value": case.amc.number}],
        "name": case.amc.name,
    }


def _class(type_system: str, type_code: str, value: str) -> dict[str, Any]:
    return {"type": _concept(type_system, type_code), "value": value}


def _amo_coverage(case: Case) -> dict[str, Any]:
    amo = case.amo
    insured = amo.insured or case.patient
    coverage: dict[str, Any] = {"resourceType": "Coverage"}
    if amo.card is not None:
        card = amo.card
        ident: dict[str, Any] = {
            "system": CANON.ehic_card if card.kind == "ehic" else CANON.s1_form,
            "value": card.number,
        }
        if card.expiry is not None:
            ident["period"] = {"end": card.expiry.isoformat()}
        ident["assigner"] = {"identifier": {"system": CANON.eu_institution, "value": card.institution}}
        coverage["identifier"] = [ident]
    coverage["status"] = "active"
    coverage["type"] = _concept(systems.ACT_CODE, "PUBLICPOL")
    if amo.card is None:
        coverage["subscriberId"] = insured.nir
    coverage["beneficiary"] = reference(case, "patient")
    if amo.dependent is not None:
        coverage["dependent"] = amo.dependent
    coverage["period"] = _period(amo.start, amo.end)
    coverage["payor"] = [reference(case, "amo")]
    classes = [
        _class(CANON.coverage_class, "nature-assurance", amo.nature),
        _class(CANON.coverage_class, "exoneration", amo.exoneration),
    ]
    if amo.regime is not None:
        classes.append(_class(CANON.coverage_class, "regime", amo.regime))
    if amo.ame:
        classes.append(_class(CANON.coverage_class, "scheme", "ame"))
    coverage["class"] = classes
    coverage["order"] = 1
    return coverage


def _amc_coverage(case: Case) -> dict[str, Any]:
    amc = case.amc
    if amc is None:
        raise ValueError(f"{case.name} has no mutuelle")
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "status": "active",
        "type": _concept(systems.ACT_CODE, "EHCPOL"),
        "subscriberId": amc.member_id,
        "beneficiary": reference(case, "patient"),
    }
    if amc.start is not None or amc.end is not None:
        coverage["period"] = _period(amc.start, amc.end)
    coverage["payor"] = [reference(case, "amc")]
    coverage["class"] = [_class(systems.COVERAGE_CLASS_HL7, "plan", amc.plan)]
    if amc.css:
        coverage["class"].append(_class(CANON.coverage_class, "scheme", "css"))
    coverage["order"] = 2
    return coverage


def _device_request(case: Case) -> dict[str, Any]:
    first = case.lines[0]
    request: dict[str, Any] = {"resourceType": "DeviceRequest"}
    extensions = []
    if case.ald:
        extensions.append({"url": CANON.ald, "valueBoolean": True})
    if case.vision_change:
        extensions.append({"url": CANON.vision_change, "valueBoolean": True})
    if extensions:
        request["extension"] = extensions
    request["status"] = "active"
    request["intent"] = "order"
    if first.gtin:
        request["codeCodeableConcept"] = {"text": first.display}
    else:
        request["codeCodeableConcept"] = _concept(CANON.lpp, first.code, first.display)
    if case.prescribed_quantity is not None:
        request["parameter"] = [
            {"code": {"text": "quantity"}, "valueQuantity": {"value": case.prescribed_quantity}}
        ]
    request["subject"] = reference(case, "patient")
    if case.occurrence is not None:
        request["occurrencePeriod"] = _period(*case.occurrence)
    request["authoredOn"] = case.authored_on.isoformat()
    request["requester"] = reference(case, "prescriber")
    return request


_BUILDERS: Final = {
    "claim": _claim,
    "patient": _patient,
    "prescriber": _practitioner,
    "provider": _provider,
    "amo": _amo,
    "amc": _amc,
    "amo-coverage": _amo_coverage,
    "amc-coverage": _amc_coverage,
    "prescription": _device_request,
}


def build_resource(case: Case, role: str) -> dict[str, Any]:
    """The resource playing ``role`` in ``case``; with relative references it carries its id."""
    resource = _BUILDERS[role](case)
    if case.relative_refs:
        resource = {"resourceType": resource.pop("resourceType"), "id": role, **resource}
    return resource


def build_bundle(case: Case) -> dict[str, Any]:
    """The submission Bundle of ``case``: a collection with the Claim first."""
    return {
        "resourceType": "Bundle",
        "id": case_uuid(case.name, "bundle"),
        "identifier": {"system": case.sender, "value": case.submission},
        "type": "collection",
        "timestamp": _instant(case.timestamp),
        "entry": [
            {"fullUrl": full_url(case, role), "resource": build_resource(case, role)} for role in roles(case)
        ],
    }


# -- the scenarios -----------------------------------------------------------------------

HOSPITAL_SUBMISSIONS: Final = "https://hospital.example/fhir/submissions"
SUPPLIER_SUBMISSIONS: Final = "https://supplier.example/fhir/submissions"
CORSICA_SUBMISSIONS: Final = "https://ch-ajaccio.example/fhir/submissions"

_DEMO_BR_100 = ("9900001", "Dispositif de démonstration (demo code)")
_GLUCOSE_METER = ("9900402", "Lecteur de glycémie, adulte (demo code)")
_GLUCOSE_STRIPS = ("9900401", "Bandelettes d'autosurveillance glycémique, boîte de 50 (demo code)")
_BED_RENTAL = ("1241763", "Lit médical, location hebdomadaire")
_BED_PURCHASE = ("6285133", "Lit médical, achat")
_TELE_HEART = ("1612544", "Télésurveillance insuffisance cardiaque chronique, forfait technique")
_TELE_OPERATOR = (
    "9900301",
    "Forfait opérateur de télésurveillance niveau 2 (demo code; billed as TVA/TVB)",
)
_AUDIO_1 = ("9900101", "Aide auditive classe I, adulte, par oreille (demo code)")
_AUDIO_2 = ("9900103", "Aide auditive classe II, adulte, par oreille (demo code)")
_WHEELCHAIR = ("9900501", "Fauteuil roulant électrique, achat (demo code)")
_IMPLANT = ("9900002", "Dispositif implantable facturé en sus (demo code)")

_OXYGEN = ("9900601", "Concentrateur d'oxygène, location hebdomadaire (demo code)")


def _line(
    code: tuple[str, str],
    price: str,
    *,
    on: date | None = None,
    period: tuple[date, date] | None = None,
    quantity: int = 1,
    ear: str | None = None,
) -> Line:
    return Line(
        code=code[0],
        display=code[1],
        unit_price=Decimal(price),
        quantity=quantity,
        serviced_date=on,
        serviced_period=period,
        ear=ear,
    )


_PARIS = "011751234"


def _mutuelle(member_id: str, plan: str) -> AmcCover:
    return AmcCover(number="MUTEX00001", name="Mutuelle Exemple des Essais", member_id=member_id, plan=plan)


_PHARMACY = Provider(name="Pharmacie de l'Exemple", siret=siret("81234567", "0012"))
_RENTAL = Provider(name="Matériel Médical Démo SAS", siret=siret("79876543", "0027"))
_HOSPITAL = Provider(name="Centre hospitalier de Démonstration", finess=finess("75010002"))
_AUDIO = Provider(name="Audition Essai SARL", siret=siret("84455566", "0019"))
_TELE = Provider(name="TéléSuivi Démo SAS", siret=siret("88899911", "0031"))

_DR_RPPS = Prescriber(family="Prescrit", given="Hélène", rpps=rpps("1000345678"))
_DR_ORTHO = Prescriber(family="Ordonnance", given="Marc", rpps=rpps("1000987123"))
_NURSE = Prescriber(family="Soignant", given="Inès", adeli="759912345")
_CARDIO = Prescriber(family="Cardio-Essai", given="Paul", rpps=rpps("1000765432"))
_ENT = Prescriber(family="Audition", given="Sarah", rpps=rpps("1000555666"))


_FORFAIT_PATIENT = Person(
    nir=nir("2620833456021"),
    family="Mannequin",
    given="Alice",
    gender="female",
    birth_date=date(1962, 8, 7),
)
_FORFAIT_AMO = AmoCover(organisme="011331001", name="CPAM de la Gironde", start=date(2025, 1, 1))


def _scenarios() -> Iterator[Case]:
    yield Case(
        name="01-purchase-standard",
        description=(
            "Purchase billed by a community supplier (SIRET), general case: nature 10, no "
            "exonération, AMO 60 %, mutuelle contract DEMO-RESP-150, tiers payant. Demo code "
            "with BR 100.00 billed 150.00 (domain-fr.md §3.4 example 1)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000101",
        timestamp=datetime(2026, 2, 17, 9, 30, 5, tzinfo=CET),
        created=datetime(2026, 2, 17, 9, 30, tzinfo=CET),
        patient=Person(
            nir=nir("2580375114901"),
            family="Exemple",
            given="Jeanne",
            gender="female",
            birth_date=date(1958, 3, 14),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme=_PARIS, name="CPAM de Paris", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0001234", "DEMO-RESP-150"),
        authored_on=date(2026, 1, 12),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 2, 16)),),
        tiers_payant=True,
    )
    yield Case(
        name="02-rental-bed",
        description=(
            "Medical bed rented for 4 weeks (LPP 1241763 at 12.35 per week): servicedPeriod "
            "and quantity 4, net 49.40; the prescription carries the period and the prescribed "
            "quantity (domain-fr.md §3.4 example 7)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000214",
        timestamp=datetime(2026, 3, 30, 10, 0, 12, tzinfo=CEST),
        created=datetime(2026, 3, 30, 10, 0, tzinfo=CEST),
        patient=Person(
            nir=nir("1411169123907"),
            family="Fictif",
            given="Marcel",
            gender="male",
            birth_date=date(1941, 11, 2),
        ),
        prescriber=_DR_RPPS,
        provider=_RENTAL,
        amo=AmoCover(organisme="011691001", name="CPAM du Rhône", start=date(2024, 6, 1)),
        amc=_mutuelle("ADH-0002871", "DEMO-RESP-100"),
        authored_on=date(2026, 2, 26),
        prescribed_quantity=4,
        occurrence=(date(2026, 3, 2), date(2026, 3, 29)),
        lines=(_line(_BED_RENTAL, "12.35", period=(date(2026, 3, 2), date(2026, 3, 29)), quantity=4),),
        tiers_payant=True,
    )
    yield Case(
        name="03-two-lines",
        description=(
            "Two items on one Claim (an adult glucose meter at 43.59, and 2 × 150.00 of the demo "
            "code with BR 100.00), total 343.59; the prescriber is identified by idNatPs "
            "0 + ADELI."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000342",
        timestamp=datetime(2026, 3, 17, 16, 45, 30, tzinfo=CET),
        created=datetime(2026, 3, 17, 16, 45, tzinfo=CET),
        patient=Person(
            nir=nir("2710659350913"),
            family="Essai",
            given="Nadia",
            gender="female",
            birth_date=date(1971, 6, 23),
        ),
        prescriber=_NURSE,
        provider=_PHARMACY,
        amo=AmoCover(organisme="011595001", name="CPAM de Lille-Douai", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0003310", "DEMO-RESP-150"),
        authored_on=date(2026, 3, 9),
        lines=(
            _line(_GLUCOSE_METER, "43.59", on=date(2026, 3, 16)),
            _line(_DEMO_BR_100, "150.00", on=date(2026, 3, 16), quantity=2),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="04-ald",
        description=(
            "Hospital (bare FINESS, institutional) billing for a patient in ALD: exonération 4 "
            "and the prescription flagged ALD-related, so the AMO pays 100 % "
            "(domain-fr.md §3.4 example 4)."
        ),
        sender=HOSPITAL_SUBMISSIONS,
        submission="SUB-2026-000455",
        timestamp=datetime(2026, 4, 14, 11, 20, 40, tzinfo=CEST),
        created=datetime(2026, 4, 14, 11, 20, tzinfo=CEST),
        claim_type="institutional",
        patient=Person(
            nir=nir("1660113055921"),
            family="Modèle",
            given="Karim",
            gender="male",
            birth_date=date(1966, 1, 30),
        ),
        prescriber=_DR_ORTHO,
        provider=_HOSPITAL,
        amo=AmoCover(organisme=_PARIS, name="CPAM de Paris", start=date(2025, 1, 1), exoneration="4"),
        amc=_mutuelle("ADH-0004402", "DEMO-RESP-150"),
        authored_on=date(2026, 4, 6),
        ald=True,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 4, 13)),),
        tiers_payant=True,
    )
    yield Case(
        name="05-maternity",
        description=(
            "Maternity insurance (nature 30, AMO 100 %): glucose meter for gestational diabetes "
            "at its tariff 43.59."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000517",
        timestamp=datetime(2026, 5, 7, 14, 5, 9, tzinfo=CEST),
        created=datetime(2026, 5, 7, 14, 5, tzinfo=CEST),
        patient=Person(
            nir=nir("2940844109934"),
            family="Témoin",
            given="Léa",
            gender="female",
            birth_date=date(1994, 8, 9),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(
            organisme="011441001",
            name="CPAM de Loire-Atlantique",
            start=date(2025, 9, 1),
            nature="30",
        ),
        amc=_mutuelle("ADH-0005178", "DEMO-RESP-100"),
        authored_on=date(2026, 5, 4),
        lines=(_line(_GLUCOSE_METER, "43.59", on=date(2026, 5, 6)),),
        tiers_payant=True,
    )
    yield Case(
        name="06-alsace-moselle",
        description=(
            "Alsace-Moselle local regime (nature 13, taux 90 % assumed): demo code with BR "
            "100.00 billed 150.00, mutuelle DEMO-RESP-100 (domain-fr.md §3.4 example 5)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000626",
        timestamp=datetime(2026, 5, 27, 8, 50, 44, tzinfo=CEST),
        created=datetime(2026, 5, 27, 8, 50, tzinfo=CEST),
        patient=Person(
            nir=nir("1830267482945"),
            family="Maquette",
            given="Théo",
            gender="male",
            birth_date=date(1983, 2, 17),
        ),
        prescriber=_DR_ORTHO,
        provider=_PHARMACY,
        amo=AmoCover(
            organisme="011671001",
            name="CPAM du Bas-Rhin",
            start=date(2025, 1, 1),
            nature="13",
            regime="01",
        ),
        amc=_mutuelle("ADH-0006620", "DEMO-RESP-100"),
        authored_on=date(2026, 5, 18),
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 5, 26)),),
        tiers_payant=True,
    )
    yield Case(
        name="07-at-mp",
        description=(
            "Work accident / occupational disease (nature 41, AMO 100 %): purchase of a medical "
            "bed (LPP 6285133) at 1,030.00."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000733",
        timestamp=datetime(2026, 6, 16, 10, 12, 3, tzinfo=CEST),
        created=datetime(2026, 6, 16, 10, 12, tzinfo=CEST),
        patient=Person(
            nir=nir("1791231555956"),
            family="Brouillon",
            given="Julien",
            gender="male",
            birth_date=date(1979, 12, 5),
        ),
        prescriber=_DR_ORTHO,
        provider=_RENTAL,
        amo=AmoCover(
            organisme="011311001",
            name="CPAM de la Haute-Garonne",
            start=date(2025, 1, 1),
            nature="41",
            regime="01",
        ),
        amc=_mutuelle("ADH-0007345", "DEMO-RESP-100"),
        authored_on=date(2026, 6, 1),
        lines=(_line(_BED_PURCHASE, "1030.00", on=date(2026, 6, 15)),),
    )
    yield Case(
        name="08-no-mutuelle",
        description=(
            "No mutuelle: one insurance entry, no AMC Organization or Coverage; the patient pays "
            "what the AMO does not. This Bundle uses relative Type/id fullUrls and references."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000808",
        timestamp=datetime(2026, 6, 30, 17, 40, 21, tzinfo=CEST),
        created=datetime(2026, 6, 30, 17, 40, tzinfo=CEST),
        patient=Person(
            nir=nir("2880435238968"),
            family="Ébauche",
            given="Sophie",
            gender="female",
            birth_date=date(1988, 4, 27),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme="011351001", name="CPAM d'Ille-et-Vilaine", start=date(2025, 1, 1)),
        authored_on=date(2026, 6, 22),
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 6, 29)),),
        relative_refs=True,
    )
    yield Case(
        name="09-telemonitoring",
        description=(
            "Heart-failure telemonitoring for April 2026: technical forfait (LPP 1612544, 50.00) "
            "and operator forfait level 2 (demo code 9900301, 28.00), total 78.00 "
            "(domain-fr.md §3.4 example 10)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-000911",
        timestamp=datetime(2026, 5, 4, 9, 0, 30, tzinfo=CEST),
        created=datetime(2026, 5, 4, 9, 0, tzinfo=CEST),
        patient=Person(
            nir=nir("1521033063971"),
            family="Prototype",
            given="Bernard",
            gender="male",
            birth_date=date(1952, 10, 19),
        ),
        prescriber=_CARDIO,
        provider=_TELE,
        amo=AmoCover(organisme="011331001", name="CPAM de la Gironde", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0009102", "DEMO-RESP-100"),
        authored_on=date(2026, 3, 20),
        occurrence=(date(2026, 4, 1), date(2026, 9, 30)),
        lines=(
            _line(_TELE_HEART, "50.00", period=(date(2026, 4, 1), date(2026, 4, 30))),
            _line(_TELE_OPERATOR, "28.00", period=(date(2026, 4, 1), date(2026, 4, 30))),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="10-hearing-aid-classe-1",
        description=(
            "Hearing aid classe I (100 % Santé), adult, one ear (the left, in item.bodySite): BR "
            "400.00, billed at the PLV 950.00 (domain-fr.md §3.4 example 8)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001017",
        timestamp=datetime(2026, 8, 18, 15, 30, 2, tzinfo=CEST),
        created=datetime(2026, 8, 18, 15, 30, tzinfo=CEST),
        patient=Person(
            nir=nir("2500521231982"),
            family="Factice",
            given="Monique",
            gender="female",
            birth_date=date(1950, 5, 3),
        ),
        prescriber=_ENT,
        provider=_AUDIO,
        amo=AmoCover(organisme="011211001", name="CPAM de la Côte-d'Or", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0010417", "DEMO-RESP-100"),
        authored_on=date(2026, 7, 6),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_1, "950.00", on=date(2026, 8, 17), ear="left"),),
        tiers_payant=True,
    )
    yield Case(
        name="11-hearing-aid-classe-2",
        description=(
            "Hearing aid classe II, adult, one ear (the right, in item.bodySite): BR 400.00, free "
            "price 1,500.00, mutuelle DEMO-AUDIO-500 (100 % BR + 500 €; domain-fr.md §3.4 example 9)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001124",
        timestamp=datetime(2026, 8, 25, 11, 5, 48, tzinfo=CEST),
        created=datetime(2026, 8, 25, 11, 5, tzinfo=CEST),
        patient=Person(
            nir=nir("1470937261993"),
            family="Simulé",
            given="André",
            gender="male",
            birth_date=date(1947, 9, 28),
        ),
        prescriber=_ENT,
        provider=_AUDIO,
        amo=AmoCover(organisme="011371001", name="CPAM d'Indre-et-Loire", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0011239", "DEMO-AUDIO-500"),
        authored_on=date(2026, 7, 13),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_2, "1500.00", on=date(2026, 8, 24), ear="right"),),
        tiers_payant=True,
    )
    yield Case(
        name="12-corsica-child",
        description=(
            "Child born in Corse-du-Sud (NIR with 2A) covered on the rights of a parent born in "
            "Haute-Corse (subscriberId NIR with 2B, dependent rank 02); Corsican hospital FINESS "
            "2A…; two boxes of glucose test strips (demo code) at 15.00."
        ),
        sender=CORSICA_SUBMISSIONS,
        submission="SUB-2026-001230",
        timestamp=datetime(2026, 9, 10, 13, 15, 7, tzinfo=CEST),
        created=datetime(2026, 9, 10, 13, 15, tzinfo=CEST),
        claim_type="institutional",
        patient=Person(
            nir=nir("115092A004912"),
            family="Santoni-Essai",
            given="Lucca",
            gender="male",
            birth_date=date(2015, 9, 12),
        ),
        prescriber=Prescriber(family="Pediatra", given="Anna", rpps=rpps("1000222333")),
        provider=Provider(name="Centre hospitalier Essai d'Ajaccio", finess=finess("2A000015")),
        amo=AmoCover(
            organisme="011201001",
            name="CPAM de la Corse-du-Sud",
            start=date(2025, 1, 1),
            insured=Person(
                nir=nir("287112B033917"),
                family="Santoni-Essai",
                given="Maria",
                gender="female",
                birth_date=date(1987, 11, 4),
            ),
            dependent="02",
        ),
        amc=_mutuelle("ADH-0012306", "DEMO-RESP-100"),
        authored_on=date(2026, 9, 7),
        lines=(_line(_GLUCOSE_STRIPS, "15.00", on=date(2026, 9, 9), quantity=2),),
        tiers_payant=True,
    )
    yield Case(
        name="13-idnat-identifiers",
        description=(
            "FR Core prefixed identifiers: prescriber as idNatPs 8 + RPPS, hospital as idNatSt "
            "1 + FINESS; demo code with BR 100.00 billed 150.00."
        ),
        sender=HOSPITAL_SUBMISSIONS,
        submission="SUB-2026-001341",
        timestamp=datetime(2026, 9, 29, 10, 40, 16, tzinfo=CEST),
        created=datetime(2026, 9, 29, 10, 40, tzinfo=CEST),
        claim_type="institutional",
        patient=Person(
            nir=nir("2690738185924"),
            family="Gabarit",
            given="Claire",
            gender="female",
            birth_date=date(1969, 7, 15),
        ),
        prescriber=Prescriber(family="Ordonnance", given="Marc", rpps=rpps("1000987123"), idnat=True),
        provider=Provider(name="Centre hospitalier de Démonstration", finess=finess("75010002"), idnat=True),
        amo=AmoCover(organisme=_PARIS, name="CPAM de Paris", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0013418", "DEMO-RESP-150"),
        authored_on=date(2026, 9, 21),
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 9, 28)),),
        tiers_payant=True,
    )
    yield Case(
        name="14-predetermination",
        description=(
            "Estimate (use predetermination) before fitting a classe II hearing aid to the left ear: "
            "servicedDate is the planned delivery date, after the submission; nothing is payable "
            "and nothing is consumed."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001452",
        timestamp=datetime(2026, 10, 12, 9, 55, 33, tzinfo=CEST),
        created=datetime(2026, 10, 12, 9, 55, tzinfo=CEST),
        use="predetermination",
        patient=Person(
            nir=nir("1550306088937"),
            family="Esquisse",
            given="Yves",
            gender="male",
            birth_date=date(1955, 3, 8),
        ),
        prescriber=_ENT,
        provider=_AUDIO,
        amo=AmoCover(organisme="011061001", name="CPAM des Alpes-Maritimes", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0014520", "DEMO-AUDIO-500"),
        authored_on=date(2026, 10, 5),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_2, "1500.00", on=date(2026, 11, 16), ear="left"),),
    )
    yield Case(
        name="15-accord-prealable",
        description=(
            "Electric wheelchair (demo code, BR 3,938.00, entente préalable required) with the accord "
            "préalable number in Claim.insurance[0].preAuthRef."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001563",
        timestamp=datetime(2026, 11, 24, 16, 20, 55, tzinfo=CET),
        created=datetime(2026, 11, 24, 16, 20, tzinfo=CET),
        patient=Person(
            nir=nir("1720176540948"),
            family="Canevas",
            given="Olivier",
            gender="male",
            birth_date=date(1972, 1, 21),
        ),
        prescriber=_DR_ORTHO,
        provider=_RENTAL,
        amo=AmoCover(organisme="011761001", name="CPAM de Rouen-Elbeuf-Dieppe", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0015631", "DEMO-RESP-100"),
        authored_on=date(2026, 10, 19),
        prescribed_quantity=1,
        lines=(_line(_WHEELCHAIR, "3938.00", on=date(2026, 11, 23)),),
        pre_auth_ref="AP-2026-004217",
        tiers_payant=True,
    )
    yield Case(
        name="16-minimal-contract",
        description=(
            "Same purchase as 01-purchase-standard under a minimal contrat responsable "
            "(DEMO-RESP-100, 100 % BR incl. AMO): the mutuelle pays the ticket modérateur only and "
            "the patient the dépassement (domain-fr.md §3.4 example 2)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001602",
        timestamp=datetime(2026, 4, 2, 10, 15, 27, tzinfo=CEST),
        created=datetime(2026, 4, 2, 10, 15, tzinfo=CEST),
        patient=Person(
            nir=nir("2770431555042"),
            family="Spécimen",
            given="Lucie",
            gender="female",
            birth_date=date(1977, 4, 19),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme="011311001", name="CPAM de la Haute-Garonne", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0016027", "DEMO-RESP-100"),
        authored_on=date(2026, 3, 23),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 4, 1)),),
        tiers_payant=True,
    )
    yield Case(
        name="17-excl-amo-wording",
        description=(
            'Same purchase under a contract worded "125 % BR en complément de la Sécurité '
            'sociale" (DEMO-RESP-125-HORS-SS, excl. AMO): the cap of 125.00 is limited by the '
            "remaining cost of 90.00 (domain-fr.md §3.4 example 3)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001703",
        timestamp=datetime(2026, 4, 29, 14, 40, 51, tzinfo=CEST),
        created=datetime(2026, 4, 29, 14, 40, tzinfo=CEST),
        patient=Person(
            nir=nir("1850969123087"),
            family="Échantillon",
            given="Hugo",
            gender="male",
            birth_date=date(1985, 9, 2),
        ),
        prescriber=_DR_ORTHO,
        provider=_PHARMACY,
        amo=AmoCover(organisme="011691001", name="CPAM du Rhône", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0017038", "DEMO-RESP-125-HORS-SS"),
        authored_on=date(2026, 4, 20),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 4, 28)),),
        tiers_payant=True,
    )
    yield Case(
        name="18-forfait-first-use",
        description=(
            'First claim of the year under "TM + 100 € forfait per year" (DEMO-RESP-FORFAIT): '
            "demo code with BR 100.00 billed 170.00, the mutuelle pays the ticket modérateur 40.00 "
            "and the 70.00 dépassement from the forfait, leaving 30.00 of it for "
            "19-forfait-partly-used (the consumption that precedes domain-fr.md §3.4 example 6)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001804",
        timestamp=datetime(2026, 2, 10, 11, 25, 9, tzinfo=CET),
        created=datetime(2026, 2, 10, 11, 25, tzinfo=CET),
        patient=_FORFAIT_PATIENT,
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=_FORFAIT_AMO,
        amc=_mutuelle("ADH-0018049", "DEMO-RESP-FORFAIT"),
        authored_on=date(2026, 1, 26),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "170.00", on=date(2026, 2, 9)),),
        tiers_payant=True,
    )
    yield Case(
        name="19-forfait-partly-used",
        description=(
            "Annual forfait partly used: the patient of 18-forfait-first-use, later the same year, "
            "buys the demo code (BR 100.00) at 150.00; with 70.00 of the 100.00 forfait already "
            "spent the mutuelle pays 40.00 + min(30.00, 50.00) = 70.00 (domain-fr.md §3.4 "
            "example 6). Submit 18-forfait-first-use first, against the same ledger."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-001905",
        timestamp=datetime(2026, 6, 16, 9, 10, 44, tzinfo=CEST),
        created=datetime(2026, 6, 16, 9, 10, tzinfo=CEST),
        patient=_FORFAIT_PATIENT,
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=_FORFAIT_AMO,
        amc=_mutuelle("ADH-0018049", "DEMO-RESP-FORFAIT"),
        authored_on=date(2026, 6, 1),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 6, 15)),),
        tiers_payant=True,
        preceded_by=("18-forfait-first-use",),
    )
    yield Case(
        name="20-telemonitoring-ald",
        description=(
            "Heart-failure telemonitoring for May 2026 (technical forfait 50.00 and operator "
            "forfait level 2 28.00) for a patient in ALD: exonération 4 and the prescription "
            "flagged ALD-related, so the AMO pays the whole 78.00 and the mutuelle nothing "
            "(domain-fr.md §3.4 example 10b)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002006",
        timestamp=datetime(2026, 6, 2, 8, 45, 18, tzinfo=CEST),
        created=datetime(2026, 6, 2, 8, 45, tzinfo=CEST),
        patient=Person(
            nir=nir("1490559350112"),
            family="Pastiche",
            given="Roger",
            gender="male",
            birth_date=date(1949, 5, 24),
        ),
        prescriber=_CARDIO,
        provider=_TELE,
        amo=AmoCover(organisme="011591001", name="CPAM du Hainaut", start=date(2025, 1, 1), exoneration="4"),
        amc=_mutuelle("ADH-0020060", "DEMO-RESP-100"),
        authored_on=date(2026, 4, 15),
        ald=True,
        occurrence=(date(2026, 5, 1), date(2026, 10, 31)),
        lines=(
            _line(_TELE_HEART, "50.00", period=(date(2026, 5, 1), date(2026, 5, 31))),
            _line(_TELE_OPERATOR, "28.00", period=(date(2026, 5, 1), date(2026, 5, 31))),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="21-hospital-rounding",
        description=(
            "Hospital rounding check: an implant billed on top of the stay (demo code, PU "
            "1,234.56) × 2 at the tariff, BR 2,469.12, AMO 60 % = 1,481.47 rounded half-up, ticket "
            "modérateur 987.65 paid by the C2S acting as AMC (DEMO-C2S; domain-fr.md §3.4, "
            "rounding check for hospital LPP)."
        ),
        sender=HOSPITAL_SUBMISSIONS,
        submission="SUB-2026-002107",
        timestamp=datetime(2026, 10, 20, 15, 35, 2, tzinfo=CEST),
        created=datetime(2026, 10, 20, 15, 35, tzinfo=CEST),
        claim_type="institutional",
        patient=Person(
            nir=nir("2920613055077"),
            family="Calque",
            given="Denise",
            gender="female",
            birth_date=date(1992, 6, 11),
        ),
        prescriber=_DR_ORTHO,
        provider=_HOSPITAL,
        amo=AmoCover(organisme="011131001", name="CPAM des Bouches-du-Rhône", start=date(2025, 1, 1)),
        amc=AmcCover(
            number="C2SESSAI01",
            name="Organisme gestionnaire de la C2S des Essais",
            member_id="C2S-0021077",
            plan="DEMO-C2S",
        ),
        authored_on=date(2026, 10, 5),
        prescribed_quantity=2,
        lines=(_line(_IMPLANT, "1234.56", on=date(2026, 10, 14), quantity=2),),
        tiers_payant=True,
    )

    yield Case(
        name="50-ins-nia-patient",
        description=(
            "A patient born abroad (Spain, INSEE country 99134) who awaits her NIR: Patient.identifier "
            "is her INS-NIA (system urn:oid:1.2.250.1.213.1.4.9, 13 characters and the NIR's key, "
            "sex digit 8 for a provisional number), and the AMO Coverage's subscriberId the same "
            "number; adjudicated as the standard purchase of 01 (AMO 60.00, mutuelle 90.00), the "
            "ClaimResponses naming the patient by her INS-NIA."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-005001",
        timestamp=datetime(2026, 3, 9, 10, 15, 4, tzinfo=CET),
        created=datetime(2026, 3, 9, 10, 15, tzinfo=CET),
        patient=Person(
            nir=nir("8850599134217"),
            family="Ejemplo",
            given="Lucía",
            gender="female",
            birth_date=date(1985, 5, 21),
            nia=True,
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme=_PARIS, name="CPAM de Paris", start=date(2026, 1, 15)),
        amc=_mutuelle("ADH-0050011", "DEMO-RESP-150"),
        authored_on=date(2026, 2, 23),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 3, 6)),),
        tiers_payant=True,
    )


_AUDIO_PATIENT = Person(
    nir=nir("2480264123045"),
    family="Écoute-Essai",
    given="Odette",
    gender="female",
    birth_date=date(1948, 2, 21),
)
_AUDIO_AMO = AmoCover(organisme="011641001", name="CPAM de Pau", start=date(2025, 1, 1))
_HOSPITAL_LATE = Provider(name="Centre hospitalier de Démonstration", finess=finess("75010002"))
_PHARMACY_FINESS = Provider(name="Pharmacie Essai du Port", finess=finess("13001234"), kind="pharmacist")
_CSS = AmcCover(
    number="CSSESSAI01",
    name="Organisme gestionnaire de la CSS des Essais",
    member_id="CSS-0029001",
    plan="CSS",
    css=True,
)
_AT_MP_AMO = AmoCover(
    organisme="011311001", name="CPAM de la Haute-Garonne", start=date(2025, 1, 1), nature="41", regime="01"
)


def _second_pass() -> Iterator[Case]:
    """Scenarios 22–34: hearing aids per ear, billing deadlines, CSS, AME, AT/MP, rentals."""
    yield Case(
        name="22-hearing-aid-left-ear",
        description=(
            "Hearing aid classe I for the left ear (item.bodySite SNOMED CT 89644007): BR 400.00, "
            "PLV 950.00, AMO 240.00, the contrat responsable pays 710.00 (100 % Santé). The "
            "delivery is recorded for the left ear."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002201",
        timestamp=datetime(2026, 3, 10, 10, 0, 4, tzinfo=CET),
        created=datetime(2026, 3, 10, 10, 0, tzinfo=CET),
        patient=_AUDIO_PATIENT,
        prescriber=_ENT,
        provider=_AUDIO,
        amo=_AUDIO_AMO,
        amc=_mutuelle("ADH-0022010", "DEMO-RESP-100"),
        authored_on=date(2026, 2, 16),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_1, "950.00", on=date(2026, 3, 9), ear="left"),),
        tiers_payant=True,
    )
    yield Case(
        name="23-hearing-aids-both-ears",
        description=(
            "Two classe I hearing aids, one per ear (bodySite left and right), on one Claim: each "
            "line BR 400.00, AMO 240.00, mutuelle 710.00; 1,900.00 billed, nothing left to pay."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002302",
        timestamp=datetime(2026, 3, 24, 15, 12, 40, tzinfo=CET),
        created=datetime(2026, 3, 24, 15, 12, tzinfo=CET),
        patient=Person(
            nir=nir("1531175114067"),
            family="Tympan-Essai",
            given="Gérard",
            gender="male",
            birth_date=date(1953, 11, 8),
        ),
        prescriber=_ENT,
        provider=_AUDIO,
        amo=AmoCover(organisme=_PARIS, name="CPAM de Paris", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0023020", "DEMO-RESP-100"),
        authored_on=date(2026, 3, 2),
        prescribed_quantity=2,
        lines=(
            _line(_AUDIO_1, "950.00", on=date(2026, 3, 23), ear="left"),
            _line(_AUDIO_1, "950.00", on=date(2026, 3, 23), ear="right"),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="24-hearing-aid-same-ear-renewal",
        description=(
            "The patient of 22-hearing-aid-left-ear gets another left-ear aid in September 2026: "
            "one per ear per 4 years, so the AMO rejects it (renewal-too-early at item.bodySite) "
            "and the mutuelle pays nothing. Submit 22-hearing-aid-left-ear first."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002403",
        timestamp=datetime(2026, 9, 15, 9, 30, 11, tzinfo=CEST),
        created=datetime(2026, 9, 15, 9, 30, tzinfo=CEST),
        patient=_AUDIO_PATIENT,
        prescriber=_ENT,
        provider=_AUDIO,
        amo=_AUDIO_AMO,
        amc=_mutuelle("ADH-0022010", "DEMO-RESP-100"),
        authored_on=date(2026, 9, 1),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_1, "950.00", on=date(2026, 9, 14), ear="left"),),
        tiers_payant=True,
        outcome="error",
        preceded_by=("22-hearing-aid-left-ear",),
    )
    yield Case(
        name="25-hearing-aid-other-ear",
        description=(
            "The patient of 22-hearing-aid-left-ear gets an aid for the right ear in October 2026: "
            "the other ear's renewal is free, so it is paid like 22 (AMO 240.00, mutuelle 710.00). "
            "Submit 22-hearing-aid-left-ear first."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002504",
        timestamp=datetime(2026, 10, 6, 11, 45, 27, tzinfo=CEST),
        created=datetime(2026, 10, 6, 11, 45, tzinfo=CEST),
        patient=_AUDIO_PATIENT,
        prescriber=_ENT,
        provider=_AUDIO,
        amo=_AUDIO_AMO,
        amc=_mutuelle("ADH-0022010", "DEMO-RESP-100"),
        authored_on=date(2026, 9, 21),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_1, "950.00", on=date(2026, 10, 5), ear="right"),),
        tiers_payant=True,
        preceded_by=("22-hearing-aid-left-ear",),
    )
    yield Case(
        name="26-supplier-two-year-deadline",
        description=(
            "A supplier (SIRET) bills on 2/11/2026 a purchase delivered on 15/4/2025, 18 months "
            "earlier: within its two years from the quarter after the care (L.332-1 CSS), so the "
            "line is paid (demo code, BR 100.00 billed 150.00, mutuelle DEMO-RESP-100)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002605",
        timestamp=datetime(2026, 11, 2, 10, 5, 33, tzinfo=CET),
        created=datetime(2026, 11, 2, 10, 5, tzinfo=CET),
        patient=Person(
            nir=nir("2660312055088"),
            family="Retard-Essai",
            given="Agnès",
            gender="female",
            birth_date=date(1966, 3, 30),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme="011131001", name="CPAM des Bouches-du-Rhône", start=date(2024, 1, 1)),
        amc=_mutuelle("ADH-0026050", "DEMO-RESP-100"),
        authored_on=date(2025, 4, 7),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2025, 4, 15)),),
        tiers_payant=True,
    )
    yield Case(
        name="27-establishment-late",
        description=(
            "A hospital (FINESS only, so an establishment) bills on 2/11/2026 an implant delivered "
            "on 15/10/2025: more than a year after the care (L.162-25 CSS), so the AMO rejects "
            "the line (billing-deadline) and the mutuelle pays nothing."
        ),
        sender=HOSPITAL_SUBMISSIONS,
        submission="SUB-2026-002706",
        timestamp=datetime(2026, 11, 2, 14, 20, 8, tzinfo=CET),
        created=datetime(2026, 11, 2, 14, 20, tzinfo=CET),
        claim_type="institutional",
        patient=Person(
            nir=nir("1700983137021"),
            family="Tardif-Essai",
            given="Pascal",
            gender="male",
            birth_date=date(1970, 9, 12),
        ),
        prescriber=_DR_ORTHO,
        provider=_HOSPITAL_LATE,
        amo=AmoCover(organisme="011131001", name="CPAM des Bouches-du-Rhône", start=date(2024, 1, 1)),
        amc=_mutuelle("ADH-0027060", "DEMO-RESP-100"),
        authored_on=date(2025, 10, 1),
        lines=(_line(_DEMO_BR_100, "100.00", on=date(2025, 10, 15)),),
        tiers_payant=True,
        outcome="error",
    )
    yield Case(
        name="28-pharmacist-stated-kind",
        description=(
            "A pharmacy known by its FINESS states its kind in Organization.type (project "
            "biller-kind system, code pharmacist): billing on 2/11/2026 a glucose meter delivered "
            "on 3/9/2025 is within its two years, where a FINESS alone would mean an establishment "
            "and one year."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002807",
        timestamp=datetime(2026, 11, 2, 16, 40, 51, tzinfo=CET),
        created=datetime(2026, 11, 2, 16, 40, tzinfo=CET),
        patient=Person(
            nir=nir("2750613055134"),
            family="Officine-Essai",
            given="Chantal",
            gender="female",
            birth_date=date(1975, 6, 4),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY_FINESS,
        amo=AmoCover(organisme="011131001", name="CPAM des Bouches-du-Rhône", start=date(2024, 1, 1)),
        amc=_mutuelle("ADH-0028070", "DEMO-RESP-100"),
        authored_on=date(2025, 9, 1),
        lines=(_line(_GLUCOSE_METER, "43.59", on=date(2025, 9, 3)),),
        tiers_payant=True,
    )
    yield Case(
        name="29-css-hearing-aid",
        description=(
            "Complémentaire santé solidaire (AMC Coverage with class scheme = css): a classe I "
            "hearing aid for the right ear at its PLV 950.00; AMO 240.00, the CSS pays up to the "
            "PLV, 710.00, nothing left to pay."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-002908",
        timestamp=datetime(2026, 5, 12, 10, 25, 19, tzinfo=CEST),
        created=datetime(2026, 5, 12, 10, 25, tzinfo=CEST),
        patient=Person(
            nir=nir("1590769123088"),
            family="Solidaire-Essai",
            given="Ahmed",
            gender="male",
            birth_date=date(1959, 7, 17),
        ),
        prescriber=_ENT,
        provider=_AUDIO,
        amo=AmoCover(organisme="011691001", name="CPAM du Rhône", start=date(2025, 1, 1)),
        amc=_CSS,
        authored_on=date(2026, 4, 27),
        prescribed_quantity=1,
        lines=(_line(_AUDIO_1, "950.00", on=date(2026, 5, 11), ear="right"),),
        tiers_payant=True,
    )
    yield Case(
        name="30-css-price-above-tariff",
        description=(
            "Complémentaire santé solidaire, a code without a PLV (demo code, BR 100.00) billed "
            "150.00: a dépassement the CSS forbids, flagged css-price-above-tariff (a warning); "
            "AMO 60.00, the CSS pays up to the tariff, 40.00, and 50.00 is left unpaid."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003009",
        timestamp=datetime(2026, 5, 19, 14, 2, 37, tzinfo=CEST),
        created=datetime(2026, 5, 19, 14, 2, tzinfo=CEST),
        patient=Person(
            nir=nir("2820569123099"),
            family="Solidaire-Essai",
            given="Fatou",
            gender="female",
            birth_date=date(1982, 5, 9),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme="011691001", name="CPAM du Rhône", start=date(2025, 1, 1)),
        amc=AmcCover(
            number="CSSESSAI01",
            name="Organisme gestionnaire de la CSS des Essais",
            member_id="CSS-0030002",
            plan="CSS",
            css=True,
        ),
        authored_on=date(2026, 5, 4),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 5, 18)),),
        tiers_payant=True,
    )
    yield Case(
        name="31-ame",
        description=(
            "Aide médicale de l'État (AMO Coverage with class scheme = ame), no AMC: the caisse "
            "pays 100 % of the tariff; the demo code (BR 100.00) billed 150.00 leaves the 50.00 "
            "above the tariff to the patient. The beneficiary has a provisional NIR."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003110",
        timestamp=datetime(2026, 6, 9, 11, 15, 42, tzinfo=CEST),
        created=datetime(2026, 6, 9, 11, 15, tzinfo=CEST),
        patient=Person(
            nir=nir("7910399123045"),
            family="Aide-Essai",
            given="Samuel",
            gender="male",
            birth_date=date(1991, 3, 15),
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(organisme=_PARIS, name="CPAM de Paris", start=date(2026, 1, 12), ame=True),
        authored_on=date(2026, 6, 1),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 6, 8)),),
        tiers_payant=True,
    )
    yield Case(
        name="32-at-mp-above-tariff",
        description=(
            "AT/MP (nature 41): the demo code (BR 100.00, no PLV) billed 120.00 is covered at "
            "150 % of the tariff within the price: the AMO pays the 120.00 billed, the mutuelle "
            "nothing (L.432-3 CSS; ameli)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003211",
        timestamp=datetime(2026, 7, 7, 9, 50, 6, tzinfo=CEST),
        created=datetime(2026, 7, 7, 9, 50, tzinfo=CEST),
        patient=Person(
            nir=nir("1810731555123"),
            family="Chantier-Essai",
            given="Loïc",
            gender="male",
            birth_date=date(1981, 7, 22),
        ),
        prescriber=_DR_ORTHO,
        provider=_RENTAL,
        amo=_AT_MP_AMO,
        amc=_mutuelle("ADH-0032110", "DEMO-RESP-100"),
        authored_on=date(2026, 6, 29),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "120.00", on=date(2026, 7, 6)),),
        tiers_payant=True,
    )
    yield Case(
        name="33-at-mp-above-ceiling",
        description=(
            "AT/MP, the same code billed 180.00: the AMO pays 150 % of the tariff, 150.00; the "
            "contrat responsable (100 % BR incl. AMO) adds nothing and 30.00 is left to pay."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003312",
        timestamp=datetime(2026, 7, 14, 16, 30, 55, tzinfo=CEST),
        created=datetime(2026, 7, 14, 16, 30, tzinfo=CEST),
        patient=Person(
            nir=nir("2870931555134"),
            family="Atelier-Essai",
            given="Maëlle",
            gender="female",
            birth_date=date(1987, 9, 3),
        ),
        prescriber=_DR_ORTHO,
        provider=_RENTAL,
        amo=_AT_MP_AMO,
        amc=_mutuelle("ADH-0033120", "DEMO-RESP-100"),
        authored_on=date(2026, 7, 1),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "180.00", on=date(2026, 7, 13)),),
        tiers_payant=True,
    )
    yield Case(
        name="34-rental-tariff-change",
        description=(
            "Oxygen concentrator rented for 4 weeks from 16/6/2026 (demo code 9900601, 20.00 a "
            "week until 30/6/2026, 18.50 from 1/7/2026) billed 20.00 a week: weeks starting 16/6, "
            "23/6 and 30/6 at 20.00, the week of 7/7 at 18.50, BR 78.50; AMO 47.10, mutuelle "
            "31.40, 1.50 left to pay."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003413",
        timestamp=datetime(2026, 7, 15, 8, 40, 24, tzinfo=CEST),
        created=datetime(2026, 7, 15, 8, 40, tzinfo=CEST),
        patient=Person(
            nir=nir("1450269123111"),
            family="Souffle-Essai",
            given="René",
            gender="male",
            birth_date=date(1945, 2, 26),
        ),
        prescriber=_DR_RPPS,
        provider=_RENTAL,
        amo=AmoCover(organisme="011691001", name="CPAM du Rhône", start=date(2025, 1, 1)),
        amc=_mutuelle("ADH-0034130", "DEMO-RESP-100"),
        authored_on=date(2026, 6, 10),
        prescribed_quantity=4,
        occurrence=(date(2026, 6, 16), date(2026, 7, 13)),
        lines=(_line(_OXYGEN, "20.00", period=(date(2026, 6, 16), date(2026, 7, 13)), quantity=4),),
        tiers_payant=True,
    )

    yield Case(
        name="51-ehic-visitor",
        description=(
            "A visitor insured in Germany shows her European Health Insurance Card (CEAM): no NIR, "
            "Patient.identifier is the card's personal identification number under the project's "
            "eu-person system (DE:…), and the AMO Coverage carries the card (ehic-card number, the "
            "competent institution DE:… in assigner, the expiry in period.end) and no subscriberId. "
            "The French caisse pays at the French taux: 60 % of the BR, 60.00; no mutuelle."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-005101",
        timestamp=datetime(2026, 7, 15, 11, 5, 3, tzinfo=CEST),
        created=datetime(2026, 7, 15, 11, 5, tzinfo=CEST),
        patient=Person(
            nir="DE:X123456789",
            family="Beispiel",
            given="Anna",
            gender="female",
            birth_date=date(1979, 4, 2),
            foreign=True,
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(
            organisme=_PARIS,
            name="CPAM de Paris",
            start=date(2026, 7, 1),
            card=Card(
                kind="ehic",
                number="80276000010000012345",
                institution="DE:101575519",
                expiry=date(2028, 12, 31),
            ),
        ),
        amc=None,
        authored_on=date(2026, 7, 10),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 7, 13)),),
        tiers_payant=True,
    )

    yield Case(
        name="52-s1-pensioner",
        description=(
            "A Belgian pensioner living in France, registered with the caisse on an S1 form and "
            "not yet given a French number: Patient.identifier is his personal number (BE:…), the "
            "AMO Coverage carries the S1 "
            "(s1-form, competent institution BE:…, no expiry) and no subscriberId; his French "
            "mutuelle pays as for anyone else: AMO 60.00, mutuelle 90.00."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-005201",
        timestamp=datetime(2026, 3, 9, 14, 15, 4, tzinfo=CET),
        created=datetime(2026, 3, 9, 14, 15, tzinfo=CET),
        patient=Person(
            nir="BE:51.02.14-123.45",
            family="Voorbeeld",
            given="Jan",
            gender="male",
            birth_date=date(1951, 2, 14),
            foreign=True,
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(
            organisme=_PARIS,
            name="CPAM de Paris",
            start=date(2024, 9, 1),
            card=Card(kind="s1", number="S1-75-2024-000123", institution="BE:0411702543"),
        ),
        amc=_mutuelle("ADH-0052011", "DEMO-RESP-150"),
        authored_on=date(2026, 2, 23),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 3, 6)),),
        tiers_payant=True,
    )

    yield Case(
        name="53-ehic-expired",
        description=(
            "The visitor of 51-ehic-visitor shows a CEAM that expired on 30 June 2026, before the "
            "delivery of 13 July: the card no longer opens rights, so the AMO refuses the item as "
            "for closed rights (rights-closed) and the claim is adjudicated with outcome error."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-005301",
        outcome="error",
        timestamp=datetime(2026, 7, 15, 11, 35, 3, tzinfo=CEST),
        created=datetime(2026, 7, 15, 11, 35, tzinfo=CEST),
        patient=Person(
            nir="DE:X123456789",
            family="Beispiel",
            given="Anna",
            gender="female",
            birth_date=date(1979, 4, 2),
            foreign=True,
        ),
        prescriber=_DR_RPPS,
        provider=_PHARMACY,
        amo=AmoCover(
            organisme=_PARIS,
            name="CPAM de Paris",
            start=date(2026, 1, 1),
            card=Card(
                kind="ehic",
                number="80276000010000012345",
                institution="DE:101575519",
                expiry=date(2026, 6, 30),
            ),
        ),
        amc=None,
        authored_on=date(2026, 7, 10),
        prescribed_quantity=1,
        lines=(_line(_DEMO_BR_100, "150.00", on=date(2026, 7, 13)),),
        tiers_payant=True,
    )


def _all_scenarios() -> Iterator[Case]:
    from tests.support.bundles_second_pass import second_pass_scenarios  # it imports this module

    yield from _scenarios()
    yield from _second_pass()
    yield from second_pass_scenarios()


SCENARIOS: Final[Mapping[str, Case]] = {case.name: case for case in _all_scenarios()}
"""The valid scenarios written to ``fixtures/valid/``, by name."""

OTHER_PATIENT: Final = Person(
    nir=nir("1900275115955"),
    family="Autre",
    given="Paul",
    gender="male",
    birth_date=date(1990, 2, 11),
)
"""A second, unrelated patient (for a prescription made out to someone else)."""


def bundle(name: str) -> dict[str, Any]:
    """A freshly built Bundle of the valid scenario ``name``, safe to modify."""
    return build_bundle(SCENARIOS[name])


# -- working on any Bundle dict ----------------------------------------------------------


def as_bytes(bundle: dict[str, Any]) -> bytes:
    """A Bundle dict as the FHIR JSON bytes a client would send."""
    return jsonio.dumps(bundle)


def entry_of(bundle: dict[str, Any], resource_type: str, nth: int = 0) -> tuple[int, dict[str, Any]]:
    """(index, resource) of the nth entry of a type."""
    found = [
        (i, e["resource"])
        for i, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] == resource_type
    ]
    return found[nth]
