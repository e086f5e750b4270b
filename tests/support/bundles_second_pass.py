"""Valid scenarios 35–49: optics, devices off the LPP, PECAN, telemonitoring majorations and
fraud findings (the French rules' second pass, part B). Built like ``bundles._scenarios``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from tests.support.bundles import (
    CEST,
    CET,
    SUPPLIER_SUBMISSIONS,
    AmcCover,
    AmoCover,
    Case,
    Line,
    Person,
    Prescriber,
    Provider,
)
from tests.support.identifiers import nir, rpps, siret

__all__ = ["second_pass_scenarios"]

_OPTICIAN = Provider(name="Optique Démonstration SARL", siret=siret("85266677", "0014"))
_OTHER_OPTICIAN = Provider(name="Lunettes Essai SAS", siret=siret("87711122", "0025"))
_CONNECTED = Provider(name="Santé Connectée Démo SAS", siret=siret("89933344", "0036"))
_DTX = Provider(name="Thérapie Numérique Essai SAS", siret=siret("90155566", "0047"))
_TELE = Provider(name="TéléSuivi Démo SAS", siret=siret("88899911", "0031"))
_PHARMACY = Provider(name="Pharmacie de l'Exemple", siret=siret("81234567", "0012"))

_OPHTALMO = Prescriber(family="Vision-Essai", given="Claire", rpps=rpps("1000246810"))
_DR = Prescriber(family="Prescrit", given="Hélène", rpps=rpps("1000345678"))
_CARDIO = Prescriber(family="Cardio-Essai", given="Paul", rpps=rpps("1000765432"))

_FRAME_A = ("7206130", "Monture adulte classe A, code temporaire (tarif demo)")
_LENS_A = ("9900711", "Verre unifocal classe A, sphère de −6 à +6, par verre (demo code)")
_LENS_B_SIMPLE = ("9900712", "Verre unifocal classe B, simple, par verre (demo code)")
_LENS_B_PROGRESSIVE = ("9900713", "Verre progressif classe B, très complexe, par verre (demo code)")
_FRAME_B = ("9900714", "Monture classe B, par monture (demo code)")
_PECAN_FIRST = ("9900611", "PECAN thérapie numérique, forfait de première période (trimestre) (demo code)")
_PECAN_MONTHLY = ("9900612", "PECAN thérapie numérique, forfait mensuel (demo code)")
_TELE_HEART = ("1612544", "Télésurveillance insuffisance cardiaque chronique, forfait technique")
_TELE_MAJORE = ("9900303", "Forfait opérateur de télésurveillance majoré 1 (demo code; billed as TVA/TVB)")
_ELECTRODES = ("9900801", "Électrodes de neurostimulation transcutanée, sachet de 4 (demo code)")
_BP_MONITOR = ("03760000010016", "Tensiomètre connecté (hors LPP)")
_SCALE = ("03760000010023", "Balance connectée pour insuffisant cardiaque (hors LPP)")
_OXIMETER = ("03760000010030", "Oxymètre connecté (hors LPP)")

_AMO: Final = AmoCover(organisme="011751234", name="CPAM de Paris", start=date(2025, 1, 1))


def _mutuelle(member_id: str, plan: str) -> AmcCover:
    return AmcCover(number="MUTEX00001", name="Mutuelle Exemple des Essais", member_id=member_id, plan=plan)


def _line(
    code: tuple[str, str],
    price: str,
    *,
    on: date | None = None,
    period: tuple[date, date] | None = None,
    quantity: int = 1,
    gtin: bool = False,
    category: str | None = None,
) -> Line:
    return Line(
        code=code[0],
        display=code[1],
        unit_price=Decimal(price),
        quantity=quantity,
        serviced_date=on,
        serviced_period=period,
        gtin=gtin,
        category=category,
    )


def _at(day: date, hour: int, minute: int) -> datetime:
    zone = CEST if 4 <= day.month <= 10 else CET
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


_ADULT_OPTICS = Person(
    nir=nir("2950233063078"), family="Lorgnon", given="Sophie", gender="female", birth_date=date(1995, 2, 3)
)
_CHILD_OPTICS = Person(
    nir=nir("1160544109012"), family="Lorgnon", given="Hugo", gender="male", birth_date=date(2016, 5, 10)
)
_CONNECTED_PATIENT = Person(
    nir=nir("2850713055101"), family="Capteur", given="Inès", gender="female", birth_date=date(1985, 7, 7)
)
_PECAN_PATIENT = Person(
    nir=nir("1700369123056"), family="Numérique", given="Yves", gender="male", birth_date=date(1970, 3, 18)
)


def second_pass_scenarios() -> Iterator[Case]:
    yield Case(
        name="35-optics-class-a",
        description=(
            "Optics 100 % Santé (class A) for an adult: a class A frame at its PLV 30.00 (BR 9.00) "
            "and two class A lenses at their PLV 32.50 (BR 19.50 each); a contrat responsable "
            "(DEMO-RESP-100) pays the whole remaining cost, nothing is left to the patient "
            "(domain-fr.md §3.4 example 11)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003501",
        timestamp=_at(date(2026, 3, 10), 10, 5),
        created=_at(date(2026, 3, 10), 10, 4),
        patient=Person(
            nir=nir("2750475112034"),
            family="Monture",
            given="Agnès",
            gender="female",
            birth_date=date(1975, 4, 12),
        ),
        prescriber=_OPHTALMO,
        provider=_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0035001", "DEMO-RESP-100"),
        authored_on=date(2025, 11, 20),
        lines=(
            _line(_FRAME_A, "30.00", on=date(2026, 3, 9)),
            _line(_LENS_A, "32.50", on=date(2026, 3, 9), quantity=2),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="36-optics-class-b-ceilings",
        description=(
            "Optics class B, free prices: a frame at 180.00 and two very complex progressive "
            "lenses at 400.00 each (BR 0.05 each). A frais-réels optics guarantee (DEMO-OPTIQUE) is "
            "held by the contrat-responsable ceilings of R.871-2 CSS: the frame at 100.00 and the "
            "lenses at 350.00 each, AMO included, 800.00 for the equipment "
            "(domain-fr.md §3.4 example 12)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003602",
        timestamp=_at(date(2026, 4, 14), 15, 21),
        created=_at(date(2026, 4, 14), 15, 20),
        patient=Person(
            nir=nir("1800969123045"),
            family="Verre",
            given="Olivier",
            gender="male",
            birth_date=date(1980, 9, 20),
        ),
        prescriber=_OPHTALMO,
        provider=_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0036002", "DEMO-OPTIQUE"),
        authored_on=date(2024, 6, 3),
        lines=(
            _line(_FRAME_B, "180.00", on=date(2026, 4, 13)),
            _line(_LENS_B_PROGRESSIVE, "400.00", on=date(2026, 4, 13), quantity=2),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="37-optics-floor",
        description=(
            "Two class B simple lenses at 90.00 each (BR 0.05 each) for an adult of 30: the "
            "contract pays 100 % BR (0.04), below the contrat-responsable floor, which raises it "
            "to 25.00 per lens (R.871-2 CSS, assumed split of the 50.00 equipment floor; "
            "domain-fr.md §3.4 example 13). A prescription of January 2024 is still valid: 5 "
            "years between 16 and 42 (decree 2016-1381)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2025-003703",
        timestamp=_at(date(2025, 9, 16), 11, 31),
        created=_at(date(2025, 9, 16), 11, 30),
        patient=_ADULT_OPTICS,
        prescriber=_OPHTALMO,
        provider=_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0037003", "DEMO-RESP-100"),
        authored_on=date(2024, 1, 15),
        lines=(_line(_LENS_B_SIMPLE, "90.00", on=date(2025, 9, 15), quantity=2),),
        tiers_payant=True,
    )
    yield Case(
        name="38-optics-vision-change",
        description=(
            "The same adult renews her lenses 13 months later, at another optician, on a new "
            "prescription for a change of sight (DeviceRequest extension vision-change): the "
            "renewal interval is then 12 months instead of 24, so the renewal is paid as in "
            "37-optics-floor."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-003804",
        timestamp=_at(date(2026, 10, 21), 9, 16),
        created=_at(date(2026, 10, 21), 9, 15),
        patient=_ADULT_OPTICS,
        prescriber=_OPHTALMO,
        provider=_OTHER_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0037003", "DEMO-RESP-100"),
        authored_on=date(2026, 10, 1),
        vision_change=True,
        lines=(_line(_LENS_B_SIMPLE, "90.00", on=date(2026, 10, 20), quantity=2),),
        tiers_payant=True,
        preceded_by=("37-optics-floor",),
    )
    yield Case(
        name="39-optics-child-first",
        description=(
            "A child of 8 gets class A lenses (BR 19.50, PLV 32.50 each) on a prescription of "
            "the week before; a contrat responsable pays the rest (100 % Santé)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2025-003905",
        timestamp=_at(date(2025, 10, 7), 17, 1),
        created=_at(date(2025, 10, 7), 17, 0),
        patient=_CHILD_OPTICS,
        prescriber=_OPHTALMO,
        provider=_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0039005", "DEMO-RESP-100"),
        authored_on=date(2025, 9, 29),
        lines=(_line(_LENS_A, "32.50", on=date(2025, 10, 6), quantity=2),),
        tiers_payant=True,
    )
    yield Case(
        name="40-optics-child-renewal",
        description=(
            "The same child renews the lenses 12 months and 2 days later on a new prescription: "
            "under 16 the renewal interval is 1 year (2 years for adults), so the renewal is paid."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004006",
        timestamp=_at(date(2026, 10, 9), 16, 41),
        created=_at(date(2026, 10, 9), 16, 40),
        patient=_CHILD_OPTICS,
        prescriber=_OPHTALMO,
        provider=_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0039005", "DEMO-RESP-100"),
        authored_on=date(2026, 9, 30),
        lines=(_line(_LENS_A, "32.50", on=date(2026, 10, 8), quantity=2),),
        tiers_payant=True,
        preceded_by=("39-optics-child-first",),
    )
    yield Case(
        name="41-optics-prescription-expired",
        description=(
            "An optics prescription of 40 months for a patient of 62: over 42 it is valid 3 "
            "years (decree 2016-1381; it would be 5 years between 16 and 42), so the AMO rejects "
            "the lenses (prescription-expired) and the mutuelle pays nothing."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004107",
        timestamp=_at(date(2026, 5, 19), 10, 11),
        created=_at(date(2026, 5, 19), 10, 10),
        patient=Person(
            nir=nir("1631131555089"),
            family="Presbyte",
            given="Gérard",
            gender="male",
            birth_date=date(1963, 11, 25),
        ),
        prescriber=_OPHTALMO,
        provider=_OPTICIAN,
        amo=_AMO,
        amc=_mutuelle("ADH-0041007", "DEMO-RESP-100"),
        authored_on=date(2023, 1, 10),
        lines=(_line(_LENS_B_SIMPLE, "60.00", on=date(2026, 5, 18), quantity=2),),
        tiers_payant=True,
        outcome="error",
    )
    yield Case(
        name="42-non-listed-forfait",
        description=(
            "A connected scale for heart failure, not on the LPP, billed with its GTIN and the "
            "category connected-device (Claim.item.category): the AMO does not reimburse it "
            "(amo-not-listed) and the mutuelle (DEMO-CONNECTE) pays it from its yearly 150.00 "
            "forfait for connected devices (domain-fr.md §3.4 example 14)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004208",
        timestamp=_at(date(2026, 3, 24), 14, 1),
        created=_at(date(2026, 3, 24), 14, 0),
        patient=_CONNECTED_PATIENT,
        prescriber=_CARDIO,
        provider=_CONNECTED,
        amo=_AMO,
        amc=_mutuelle("ADH-0042008", "DEMO-CONNECTE"),
        authored_on=date(2026, 3, 2),
        lines=(_line(_SCALE, "120.00", on=date(2026, 3, 23), gtin=True, category="connected-device"),),
        tiers_payant=True,
        outcome="error",
        amc_outcome="complete",
    )
    yield Case(
        name="43-non-listed-product",
        description=(
            "A connected blood-pressure monitor off the LPP, named by its GTIN in the contract's "
            "product list (DEMO-CONNECTE: 50 % of the price): the AMO refuses it, the mutuelle "
            "pays 45.00 of 90.00 (domain-fr.md §3.4 example 15)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004309",
        timestamp=_at(date(2026, 4, 7), 9, 31),
        created=_at(date(2026, 4, 7), 9, 30),
        patient=_CONNECTED_PATIENT,
        prescriber=_CARDIO,
        provider=_CONNECTED,
        amo=_AMO,
        amc=_mutuelle("ADH-0042008", "DEMO-CONNECTE"),
        authored_on=date(2026, 3, 30),
        lines=(_line(_BP_MONITOR, "90.00", on=date(2026, 4, 6), gtin=True),),
        tiers_payant=True,
        outcome="error",
        amc_outcome="complete",
        preceded_by=("42-non-listed-forfait",),
    )
    yield Case(
        name="44-non-listed-no-guarantee",
        description=(
            "A connected oximeter off the LPP (GTIN, no category) under a contract with no "
            "guarantee for devices off the LPP (DEMO-RESP-150): the AMO refuses it and so does "
            "the mutuelle (amc-no-guarantee); the patient pays 75.00."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004410",
        timestamp=_at(date(2026, 5, 12), 11, 6),
        created=_at(date(2026, 5, 12), 11, 5),
        patient=Person(
            nir=nir("1901069123078"),
            family="Saturé",
            given="Bruno",
            gender="male",
            birth_date=date(1990, 10, 2),
        ),
        prescriber=_DR,
        provider=_CONNECTED,
        amo=_AMO,
        amc=_mutuelle("ADH-0044010", "DEMO-RESP-150"),
        authored_on=date(2026, 5, 4),
        lines=(_line(_OXIMETER, "75.00", on=date(2026, 5, 11), gtin=True),),
        tiers_payant=True,
        outcome="error",
    )
    yield Case(
        name="45-pecan-first-period",
        description=(
            "A digital therapy under PECAN: the first-period forfait, 435.00 for the first "
            "quarter, AMO 60 % and the ticket modérateur paid by a contrat responsable "
            "(domain-fr.md §3.4 example 16)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004511",
        timestamp=_at(date(2026, 1, 16), 8, 1),
        created=_at(date(2026, 1, 16), 8, 0),
        patient=_PECAN_PATIENT,
        prescriber=_DR,
        provider=_DTX,
        amo=_AMO,
        amc=_mutuelle("ADH-0045011", "DEMO-RESP-100"),
        authored_on=date(2026, 1, 8),
        lines=(_line(_PECAN_FIRST, "435.00", on=date(2026, 1, 15)),),
        tiers_payant=True,
    )
    yield Case(
        name="46-pecan-monthly",
        description=(
            "The same therapy after its first quarter: 9 monthly forfaits of 38.30 from 15 April "
            "2026 (344.70), which bring the year to 779.70, within the 780.00 cap."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004612",
        timestamp=_at(date(2026, 4, 16), 8, 1),
        created=_at(date(2026, 4, 16), 8, 0),
        patient=_PECAN_PATIENT,
        prescriber=_DR,
        provider=_DTX,
        amo=_AMO,
        amc=_mutuelle("ADH-0045011", "DEMO-RESP-100"),
        authored_on=date(2026, 1, 8),
        lines=(_line(_PECAN_MONTHLY, "38.30", on=date(2026, 4, 15), quantity=9),),
        tiers_payant=True,
        preceded_by=("45-pecan-first-period",),
    )
    yield Case(
        name="47-pecan-cap",
        description=(
            "One more monthly forfait in December 2026 would take the PECAN year to 818.00, above "
            "its 780.00 cap: the AMO rejects it (pecan-cap) and the mutuelle pays nothing."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004713",
        timestamp=_at(date(2026, 12, 2), 8, 1),
        created=_at(date(2026, 12, 2), 8, 0),
        patient=_PECAN_PATIENT,
        prescriber=_DR,
        provider=_DTX,
        amo=_AMO,
        amc=_mutuelle("ADH-0045011", "DEMO-RESP-100"),
        authored_on=date(2026, 11, 24),
        lines=(_line(_PECAN_MONTHLY, "38.30", on=date(2026, 12, 1)),),
        tiers_payant=True,
        outcome="error",
        preceded_by=("45-pecan-first-period", "46-pecan-monthly"),
    )
    yield Case(
        name="48-telemonitoring-majoration",
        description=(
            "Heart-failure telemonitoring for a complex patient in September 2026: the operator's "
            "forfait majoré 1 (56.00, arrêté 21/12/2023) and the technical forfait (50.00), AMO "
            "60 %, the ticket modérateur paid by a contrat responsable "
            "(domain-fr.md §3.4 example 17)."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004814",
        timestamp=_at(date(2026, 10, 2), 8, 46),
        created=_at(date(2026, 10, 2), 8, 45),
        patient=Person(
            nir=nir("2520859350134"),
            family="Cardiaque",
            given="Odette",
            gender="female",
            birth_date=date(1952, 8, 30),
        ),
        prescriber=_CARDIO,
        provider=_TELE,
        amo=_AMO,
        amc=_mutuelle("ADH-0048014", "DEMO-RESP-100"),
        authored_on=date(2026, 8, 20),
        occurrence=(date(2026, 9, 1), date(2027, 2, 28)),
        lines=(
            _line(_TELE_HEART, "50.00", period=(date(2026, 9, 1), date(2026, 9, 30))),
            _line(_TELE_MAJORE, "56.00", period=(date(2026, 9, 1), date(2026, 9, 30))),
        ),
        tiers_payant=True,
    )
    yield Case(
        name="49-fraud-warnings",
        description=(
            "Electrodes billed twice by one pharmacy two days apart, the second time 8 sachets "
            "where 2 are usual: the second line carries two warnings (near-duplicate-delivery "
            "and quantity-unusual) and is paid, as the findings only warn by default."
        ),
        sender=SUPPLIER_SUBMISSIONS,
        submission="SUB-2026-004915",
        timestamp=_at(date(2026, 6, 4), 18, 1),
        created=_at(date(2026, 6, 4), 18, 0),
        patient=Person(
            nir=nir("2680313055156"),
            family="Stimulée",
            given="Martine",
            gender="female",
            birth_date=date(1968, 3, 9),
        ),
        prescriber=_DR,
        provider=_PHARMACY,
        amo=_AMO,
        amc=_mutuelle("ADH-0049015", "DEMO-RESP-100"),
        authored_on=date(2026, 5, 25),
        lines=(
            _line(_ELECTRODES, "10.00", on=date(2026, 6, 1), quantity=2),
            _line(_ELECTRODES, "10.00", on=date(2026, 6, 3), quantity=8),
        ),
        tiers_payant=True,
    )
