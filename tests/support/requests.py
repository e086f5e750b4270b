"""Domain ``ReimbursementRequest`` builders: the sample hospital claim and a request with knobs.

Two builders, because tests want two different things:

- ``sample_request(**changes)``: one fixed, complete claim (a purchase and a rental, AMO and
  AMC coverage, a hospital billing by FINESS) with any field replaced by keyword; intake, API
  and benchmark tests start from it. ``sample_bundle`` is the same claim written as a FHIR
  JSON Bundle by the adapter's own mapping.
- ``request(*lines, ...)``: a claim by a community supplier (SIRET) for ``PATIENT``, whose
  adjudication-relevant parts (nature, exonération, ALD, contract, rights, dates, use...) are
  keyword knobs; the rules and payer tests use it with ``line(...)``.

Both are built from the same pieces (``line``, ``nir``), on synthetic people only.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any

from adapter.domain import (
    AmcCoverage,
    AmcNumber,
    AmoCoverage,
    AmoOrganisme,
    Beneficiary,
    BillingProvider,
    BusinessIdentifier,
    ClaimType,
    ClaimUse,
    DateRange,
    Ear,
    Exoneration,
    Finess,
    Gender,
    Line,
    LppCode,
    Money,
    NatureAssurance,
    Nir,
    Prescriber,
    Prescription,
    ReimbursementRequest,
    Rpps,
    Siret,
)
from mappings.inbound import to_bundle
from tests.support.identifiers import luhn_complete, nir

__all__ = [
    "NOW",
    "OTHER_PATIENT",
    "OTHER_SUPPLIER",
    "PARIS",
    "PATIENT",
    "PATIENT_NIR",
    "PRESCRIBER",
    "SUPPLIER",
    "euros",
    "line",
    "request",
    "sample_bundle",
    "sample_request",
]

PARIS = timezone(timedelta(hours=1))
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)
"""When ``request`` claims are created, and the clock the engines are run at (``tests.support.rules``)."""


def euros(value: str) -> Money:
    """An amount in euros, to compare with what the decisions hold."""
    return Money.of(value)


def line(
    seq: int = 1,
    code: str = "9900001",
    price: str = "150.00",
    *,
    qty: int = 1,
    day: date = date(2026, 3, 2),
    rental: tuple[date, date] | None = None,
    ear: Ear | None = None,
) -> Line:
    """A purchase line (or a rental when ``rental`` gives its first and last day)."""
    if rental is not None:
        return Line(
            sequence=seq,
            lpp_code=LppCode(code),
            quantity=qty,
            unit_price=Money.of(price),
            rental=DateRange(start=rental[0], end=rental[1]),
            ear=ear,
        )
    return Line(
        sequence=seq,
        lpp_code=LppCode(code),
        quantity=qty,
        unit_price=Money.of(price),
        delivery_date=day,
        ear=ear,
    )


# -- the sample hospital claim -----------------------------------------------------------

PATIENT_NIR = Nir(nir("2840375123456"))
"""The patient (and insured person) of ``sample_request``."""


def sample_request(**changes: Any) -> ReimbursementRequest:
    """A two-line purchase with an AMO and an AMC coverage; override any field by keyword."""
    fields: dict[str, Any] = {
        "submission": BusinessIdentifier(system="https://hospital.example/submissions", value="SUB-0001"),
        "submitted_at": datetime(2026, 3, 10, 9, 30, tzinfo=PARIS),
        "created": datetime(2026, 3, 10, 9, 0, tzinfo=PARIS),
        "use": ClaimUse.CLAIM,
        "claim_type": ClaimType.INSTITUTIONAL,
        "beneficiary": Beneficiary(nir=PATIENT_NIR, birth_date=date(1984, 3, 12), gender=Gender.FEMALE),
        "provider": BillingProvider(finess=Finess("750712184"), name="Hôpital Démo"),
        "amo": AmoCoverage(
            organisme=AmoOrganisme("011751234"),
            nature=NatureAssurance.MALADIE,
            exoneration=Exoneration.NONE,
            insured=PATIENT_NIR,
            rights=DateRange(start=date(2026, 1, 1), end=date(2026, 12, 31)),
        ),
        "lines": (
            line(1, "9900001", "150.00", day=date(2026, 3, 9)),
            line(2, "1241763", "12.35", qty=4, rental=(date(2026, 3, 9), date(2026, 4, 5))),
        ),
        "prescription": Prescription(
            authored_on=date(2026, 2, 20),
            prescriber=Prescriber(rpps=Rpps("10000123454")),
            lpp_code=LppCode("9900001"),
            quantity=1,
        ),
        "amc": AmcCoverage(amc_number=AmcNumber("75500001"), member_id="MBR-42", contract_id="DEMO-RESP-150"),
    }
    fields.update(changes)
    return ReimbursementRequest(**fields)


def sample_bundle(**changes: Any) -> dict[str, Any]:
    """``sample_request`` written as a FHIR-JSON Bundle dict (a fresh deep copy each call)."""
    return copy.deepcopy(to_bundle(sample_request(**changes)))


# -- a request with knobs, for adjudication ----------------------------------------------

PATIENT = Nir(nir("1840175123456"))
OTHER_PATIENT = Nir(nir("2920613004321"))
PRESCRIBER = Prescriber(rpps=Rpps(luhn_complete("1000012345")))
SUPPLIER = BillingProvider(siret=Siret(luhn_complete("1234567800012")), name="Fournisseur Démo")
OTHER_SUPPLIER = BillingProvider(siret=Siret(luhn_complete("9876543200015")), name="Autre Démo")


def request(
    *lines: Line,
    nature: NatureAssurance = NatureAssurance.MALADIE,
    exoneration: Exoneration = Exoneration.NONE,
    ald: bool = False,
    contract: str | None = "DEMO-RESP-150",
    use: ClaimUse = ClaimUse.CLAIM,
    claim_type: ClaimType = ClaimType.PROFESSIONAL,
    created: datetime = NOW,
    authored: date = date(2026, 2, 20),
    birth: date | None = date(1984, 1, 15),
    rights: DateRange | None = None,
    amc_rights: DateRange | None = None,
    pre_auth: tuple[str, ...] = (),
    submission: str = "SUB-1",
    beneficiary: Nir = PATIENT,
    provider: BillingProvider = SUPPLIER,
    prescriber: Prescriber = PRESCRIBER,
    prescription_id: str | None = None,
    ame: bool = False,
    css: bool = False,
) -> ReimbursementRequest:
    """A request for the synthetic patient; one line of the demo code BR 100.00 by default.

    ``ame`` puts the AMO Coverage under the aide médicale de l'État; ``css`` makes the AMC the
    complémentaire santé solidaire.
    """
    amc = (
        AmcCoverage(
            amc_number=AmcNumber("DEMOAMC01"),
            member_id="M-1",
            contract_id=contract,
            rights=amc_rights,
            css=css,
        )
        if contract is not None
        else None
    )
    identifier = (
        BusinessIdentifier(system="https://prescriber.example/rx", value=prescription_id)
        if prescription_id is not None
        else None
    )
    return ReimbursementRequest(
        submission=BusinessIdentifier(system="https://supplier.example/submissions", value=submission),
        submitted_at=created,
        created=created,
        use=use,
        claim_type=claim_type,
        beneficiary=Beneficiary(nir=beneficiary, birth_date=birth),
        provider=provider,
        amo=AmoCoverage(
            organisme=AmoOrganisme("011751234"),
            nature=nature,
            exoneration=exoneration,
            insured=beneficiary,
            rights=rights,
            pre_auth_refs=pre_auth,
            ame=ame,
        ),
        lines=lines or (line(),),
        prescription=Prescription(
            authored_on=authored, prescriber=prescriber, text="dispositif", ald=ald, identifier=identifier
        ),
        amc=amc,
    )
