"""Eligibility: the AMO and AMC engines run as an estimate, plus what is left of the limits.

Pure. The planned devices are adjudicated exactly as a claim would be on the planned day
(the same engines, so an eligibility answer never disagrees with the claim that follows),
but as a request for an accord préalable: an estimate, which pays and records nothing, and
which reports an entente préalable as needed rather than refusing the line for lack of one.
The history and ledger are read, never written. The renewal allowances and yearly forfaits
are read from them as the engines count them (domain-fr §1, §3.2, §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from adapter.domain.decision import LineDecision, Note, Outcome, PayerDecision, PayerKind
from adapter.domain.eligibility import (
    Allowance,
    EligibilityAnswer,
    EligibilityItem,
    EligibilityRequest,
    Forfait,
    ItemEligibility,
)
from adapter.domain.request import (
    ClaimType,
    ClaimUse,
    DateRange,
    Line,
    Prescriber,
    Prescription,
    ReimbursementRequest,
)
from adapter.domain.values import LppCode, Money, Rpps
from adapter.rules.amc import adjudicate_amc
from adapter.rules.amo import adjudicate_amo
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import ContractCatalogue
from adapter.rules.history import DeliveryLog, DeliveryRecord
from adapter.rules.ledger import Ledger, LedgerEntry
from adapter.rules.lpp import LppTable
from adapter.rules.taux import amo_taux

__all__ = ["ASSUMED_PRESCRIBER", "amc_eligibility", "amo_eligibility", "as_claim"]

_DEFAULT_CONFIG = RulesConfig()
_ZERO = Money.zero()

#: The prescriber of the prescription assumed when the question carries none: it only keys the
#: prescription in the history (a valid RPPS with its Luhn key, so that no finding fires on it).
ASSUMED_PRESCRIBER = Prescriber(rpps=Rpps("10000000009"))


def as_claim(request: EligibilityRequest, table: LppTable) -> ReimbursementRequest | None:
    """The claim the question describes, as an accord préalable request on the planned day;
    None when it names no device. A device without a price is assumed sold at its tariff."""
    if not request.items:
        return None
    day = request.serviced
    lines = tuple(_line(item, day, table) for item in request.items)
    prescription = request.prescription or Prescription(
        authored_on=day, prescriber=ASSUMED_PRESCRIBER, lpp_code=request.items[0].lpp_code
    )
    return ReimbursementRequest(
        submission=request.identifier,
        submitted_at=request.submitted_at,
        created=request.created,
        use=ClaimUse.PREAUTHORIZATION,
        claim_type=ClaimType.PROFESSIONAL,
        beneficiary=request.beneficiary,
        provider=request.provider,
        amo=request.amo,
        lines=lines,
        prescription=prescription,
        amc=request.amc,
    )


def _line(item: EligibilityItem, day: date, table: LppTable) -> Line:
    price = item.unit_price
    if price is None:
        entry = table.lookup(item.lpp_code, day)
        price = _ZERO if entry is None else entry.tarif
    return Line(
        sequence=item.sequence,
        lpp_code=item.lpp_code,
        quantity=item.quantity,
        unit_price=price,
        delivery_date=day,
    )


def _rights(rights: DateRange | None, day: date) -> bool:
    """Rights are open on ``day`` within the Coverage's period; a Coverage without a period is
    taken as open (the card read gave no end)."""
    return rights is None or rights.contains(day)


def amo_eligibility(
    request: EligibilityRequest,
    *,
    table: LppTable,
    history: Iterable[DeliveryRecord],
    now: datetime,
    config: RulesConfig = _DEFAULT_CONFIG,
) -> EligibilityAnswer:
    """The AMO's answer: rights on the planned day, the taux and why, each device's BR, AMO share,
    reste à charge before the mutuelle, accord préalable, and the renewal and yearly allowances."""
    day = request.serviced
    past = list(history)
    rights_open = _rights(request.amo.open_rights, day)
    taux = amo_taux(request.amo, request.prescription, config.rates)
    claim = as_claim(request, table)
    items: tuple[ItemEligibility, ...] = ()
    if claim is not None:
        decision = adjudicate_amo(claim, table=table, history=past, now=now, config=config).decision
        log = DeliveryLog(past, table)
        items = tuple(_amo_item(claim.line(line.sequence), line, table, log, day) for line in decision.lines)
    return EligibilityAnswer(
        payer=PayerKind.AMO,
        insurer=request.amo.organisme.value,
        created=now,
        serviced=day,
        rights_open=rights_open,
        rights=request.amo.rights,
        disposition=_disposition("AMO", rights_open, day, items),
        rate=taux.rate,
        basis=taux.basis,
        items=items,
        notes=_assumptions(request),
    )


def _listed(line: Line) -> LppCode:
    """The line's LPP code: an eligibility question names listed devices only, and ``as_claim``
    builds its lines from them."""
    if line.lpp_code is None:
        raise TypeError(f"eligibility line {line.sequence} has no LPP code")
    return line.lpp_code


def _amo_item(
    line: Line, decided: LineDecision, table: LppTable, log: DeliveryLog, day: date
) -> ItemEligibility:
    code = _listed(line)
    entry = table.lookup(code, day)
    renewal = yearly = None
    if entry is not None and entry.renewal_months is not None:
        renewal = Allowance(
            allowed=entry.renewal_quantity,
            used=log.units_within(entry.cap_group, day, entry.renewal_months),
            months=entry.renewal_months,
        )
    if entry is not None and entry.max_per_year is not None:
        yearly = Allowance(allowed=entry.max_per_year, used=log.units_in_year(entry.cap_group, day.year))
    return ItemEligibility(
        sequence=line.sequence,
        lpp_code=code,
        covered=not decided.rejected,
        submitted=decided.submitted,
        eligible=decided.eligible,
        benefit=decided.benefit,
        reste_a_charge=decided.submitted - decided.benefit,
        rate=decided.rate,
        accord_prealable=entry is not None and entry.entente_prealable,
        reasons=decided.rejections,
        renewal=renewal,
        yearly=yearly,
    )


def amc_eligibility(
    request: EligibilityRequest,
    amo: EligibilityAnswer,
    *,
    catalogue: ContractCatalogue,
    table: LppTable,
    ledger: Iterable[LedgerEntry],
    now: datetime,
    config: RulesConfig = _DEFAULT_CONFIG,
) -> EligibilityAnswer | None:
    """The mutuelle's answer on top of the AMO's; None without an AMC coverage."""
    coverage = request.amc
    if coverage is None:
        return None
    day = request.serviced
    entries = list(ledger)
    rights_open = _rights(coverage.rights, day)
    claim = as_claim(request, table)
    items: tuple[ItemEligibility, ...] = ()
    if claim is not None:
        result = adjudicate_amc(
            claim,
            amo_decision(amo, now),
            catalogue=catalogue,
            table=table,
            ledger=entries,
            now=now,
            config=config,
        )
        book = Ledger(entries)
        if result is not None:
            items = tuple(
                _amc_item(claim.line(line.sequence), line, request, catalogue, table, book, day)
                for line in result.decision.lines
            )
    return EligibilityAnswer(
        payer=PayerKind.AMC,
        insurer=coverage.amc_number.value,
        created=now,
        serviced=day,
        rights_open=rights_open,
        rights=coverage.rights,
        disposition=_disposition("Mutuelle", rights_open, day, items),
        items=items,
    )


def amo_decision(amo: EligibilityAnswer, now: datetime) -> PayerDecision:
    """The AMO answer as the decision the AMC engine coordinates with (the same figures)."""
    lines = tuple(
        LineDecision(
            sequence=item.sequence,
            submitted=item.submitted,
            eligible=item.eligible,
            benefit=item.benefit,
            rate=item.rate,
            ticket_moderateur=None if item.reasons else item.eligible - item.benefit,
            depassement=None if item.reasons else item.submitted - item.eligible,
            rejections=item.reasons,
        )
        for item in amo.items
    )
    return PayerDecision(
        payer=PayerKind.AMO,
        insurer=amo.insurer,
        created=now,
        outcome=Outcome.COMPLETE,
        disposition=amo.disposition,
        lines=lines,
        estimate=True,
    )


def _amc_item(
    line: Line,
    decided: LineDecision,
    request: EligibilityRequest,
    catalogue: ContractCatalogue,
    table: LppTable,
    book: Ledger,
    day: date,
) -> ItemEligibility:
    forfait = renewal = None
    code = _listed(line)
    entry = table.lookup(code, day)
    contract = None if request.amc is None else catalogue.get(request.amc.contract_id)
    guarantee = None
    if contract is not None and entry is not None:
        guarantee = catalogue.guarantee_for(contract, code, entry.category)
    if contract is not None and guarantee is not None:
        if guarantee.forfait_per_year is not None:
            forfait = Forfait(
                allowed=guarantee.forfait_per_year, used=book.consumed(contract.id, guarantee.id, day.year)
            )
        if guarantee.renewal_months is not None:
            renewal = Allowance(
                allowed=guarantee.renewal_units,
                used=book.units_within(contract.id, guarantee.id, day, guarantee.renewal_months),
                months=guarantee.renewal_months,
            )
    rest = decided.reste_a_charge
    return ItemEligibility(
        sequence=line.sequence,
        lpp_code=code,
        covered=not decided.rejected and decided.benefit.amount > 0,
        submitted=decided.submitted,
        eligible=decided.eligible,
        benefit=decided.benefit,
        reste_a_charge=rest if rest is not None else decided.submitted - decided.benefit,
        reasons=decided.rejections,
        forfait=forfait,
        renewal=renewal,
    )


def _disposition(payer: str, rights_open: bool, day: date, items: tuple[ItemEligibility, ...]) -> str:
    rights = "rights open" if rights_open else "rights closed"
    if not items:
        return f"{payer}: {rights} on {day.isoformat()}."
    covered = sum(1 for item in items if item.covered)
    total = Money.zero()
    for item in items:
        total = total + item.benefit
    return (
        f"{payer}: {rights} on {day.isoformat()}; {covered} of {len(items)} devices covered; "
        f"{payer} would pay {total.en()}."
    )


def _assumptions(request: EligibilityRequest) -> tuple[Note, ...]:
    if request.prescription is not None or not request.items:
        return ()
    return (
        Note(
            fr="Sans prescription jointe : prescrit le jour prévu, hors partie ALD de l'ordonnance.",
            en="No prescription given: taken as prescribed on the planned day, outside the ALD part.",
        ),
    )
