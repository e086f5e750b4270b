"""Builders for adjudication tests: synthetic beneficiaries, lines and requests on the demo data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone

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
    Exoneration,
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
from adapter.domain.values import luhn_valid, nir_key
from adapter.rules import (
    AmcResult,
    AmoResult,
    DeliveryRecord,
    LedgerEntry,
    RulesConfig,
    adjudicate_amc,
    adjudicate_amo,
    load_contracts,
    load_lpp_table,
)

PARIS = timezone(timedelta(hours=1))
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)
TABLE = load_lpp_table()
CATALOGUE = load_contracts()


def nir(body13: str) -> Nir:
    """A synthetic NIR with its computed key."""
    return Nir(f"{body13}{nir_key(body13):02d}")


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the digit that makes it pass Luhn."""
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


PATIENT = nir("1840175123456")
OTHER_PATIENT = nir("2920613004321")
PRESCRIBER = Prescriber(rpps=Rpps(luhn_complete("1000012345")))
SUPPLIER = BillingProvider(siret=Siret(luhn_complete("1234567800012")), name="Fournisseur Démo")
OTHER_SUPPLIER = BillingProvider(siret=Siret(luhn_complete("9876543200015")), name="Autre Démo")


def line(
    seq: int = 1,
    code: str = "9900001",
    price: str = "150.00",
    *,
    qty: int = 1,
    day: date = date(2026, 3, 2),
    rental: tuple[date, date] | None = None,
) -> Line:
    """A purchase line (or a rental when ``rental`` gives its first and last day)."""
    if rental is not None:
        return Line(
            sequence=seq,
            lpp_code=LppCode(code),
            quantity=qty,
            unit_price=Money.of(price),
            rental=DateRange(start=rental[0], end=rental[1]),
        )
    return Line(
        sequence=seq, lpp_code=LppCode(code), quantity=qty, unit_price=Money.of(price), delivery_date=day
    )


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
) -> ReimbursementRequest:
    """A request for the synthetic patient; one line of the demo code BR 100.00 by default."""
    amc = (
        AmcCoverage(
            amc_number=AmcNumber("DEMOAMC01"), member_id="M-1", contract_id=contract, rights=amc_rights
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
        ),
        lines=lines or (line(),),
        prescription=Prescription(
            authored_on=authored, prescriber=prescriber, text="dispositif", ald=ald, identifier=identifier
        ),
        amc=amc,
    )


def run(
    req: ReimbursementRequest,
    *,
    history: Iterable[DeliveryRecord] = (),
    ledger: Iterable[LedgerEntry] = (),
    config: RulesConfig | None = None,
) -> tuple[AmoResult, AmcResult | None]:
    """Both engines on the demo data, the AMC on the AMO's decision."""
    config = config or RulesConfig()
    amo = adjudicate_amo(req, table=TABLE, history=history, now=NOW, config=config)
    amc = adjudicate_amc(
        req, amo.decision, catalogue=CATALOGUE, table=TABLE, ledger=ledger, now=NOW, config=config
    )
    return amo, amc


def euros(value: str) -> Money:
    return Money.of(value)
