"""The AMC engine: coordination of benefits on top of the AMO decision.

Pure: it reads the request, the AMO decision, the contract catalogue, the LPP table (for
categories, PLV and 100 % Santé classes) and the beneficiary's ledger, and returns the AMC
decision with the ledger entries to store (none for an estimate). Lines are taken in
sequence order, so yearly forfaits are consumed in that order. Reste à charge = price −
AMO − AMC, set on each AMC line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from adapter.domain.decision import LineDecision, Note, PayerDecision, PayerKind
from adapter.domain.request import AmcCoverage, ClaimUse, Line, ReimbursementRequest
from adapter.domain.values import Money
from adapter.rules.amc_share import line_share
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import Contract, ContractCatalogue
from adapter.rules.ledger import Ledger, LedgerEntry
from adapter.rules.lpp import LppTable
from adapter.rules.non_listed import non_listed_line
from adapter.rules.notes import Refusal, amc_note, disposition, refusal, rejected_line_note
from adapter.rules.outcome import outcome_for
from adapter.rules.schemes import css_share

__all__ = ["AmcResult", "adjudicate_amc"]

_DEFAULT_CONFIG = RulesConfig()
_ZERO = Money.zero()


@dataclass(frozen=True, slots=True, kw_only=True)
class AmcResult:
    """The AMC decision and the ledger entries to store (none for an estimate)."""

    decision: PayerDecision
    ledger: tuple[LedgerEntry, ...]


def adjudicate_amc(
    request: ReimbursementRequest,
    amo: PayerDecision,
    *,
    catalogue: ContractCatalogue,
    table: LppTable,
    ledger: Iterable[LedgerEntry],
    now: datetime,
    config: RulesConfig = _DEFAULT_CONFIG,
) -> AmcResult | None:
    """The AMC decision for ``request`` given the AMO's; None without an AMC coverage."""
    coverage = request.amc
    if coverage is None or request.amo.ame:  # the AME pays alone (rules.schemes)
        return None
    contract = None if coverage.css else catalogue.get(coverage.contract_id)
    amo_lines = {line.sequence: line for line in amo.lines}
    book = Ledger(ledger)
    lines: list[LineDecision] = []
    notes: list[Note] = [_contract_note(coverage, contract)]
    for line in sorted(request.lines, key=_sequence):
        day = line.reference_date
        amo_line = amo_lines.get(line.sequence)
        # the CSS pays within the AMO's tariffs only: a device off the LPP gets nothing from it
        listed = line.lpp_code is not None or coverage.css
        refused = _refusal(coverage, contract, day, amo_line, listed=listed)
        if refused is None and contract is not None and line.lpp_code is None:
            decision, note, used = non_listed_line(request, catalogue, contract, line, book, config)
            lines.append(decision)
            notes.append(note)
            if used is not None:
                book.add(used)
            continue
        if refused is None and amo_line is not None and coverage.css and line.lpp_code is not None:
            decision, note = _css_covered(line, day, amo_line, table)
            lines.append(decision)
            notes.append(note)
            continue
        if refused is not None or contract is None or amo_line is None:
            decision = _rejected(line, amo_line, refused)
            lines.append(decision)
            notes.append(rejected_line_note(line.sequence, [refused.reason] if refused else []))
            continue
        decision, note, used = _covered(
            request, catalogue, contract, line, day, amo_line, table, book, config
        )
        lines.append(decision)
        notes.append(note)
        if used is not None:
            book.add(used)
    estimate = request.use is not ClaimUse.CLAIM
    outcome = outcome_for(lines)
    decided = tuple(lines)
    return AmcResult(
        decision=PayerDecision(
            payer=PayerKind.AMC,
            insurer=str(coverage.amc_number),
            created=now,
            outcome=outcome,
            disposition=disposition("AMC", outcome, decided, estimate=estimate),
            lines=decided,
            notes=tuple(notes),
            estimate=estimate,
        ),
        ledger=() if estimate else tuple(book.added),
    )


def _contract_note(coverage: AmcCoverage, contract: Contract | None) -> Note:
    if coverage.css:
        return Note(fr="Complémentaire santé solidaire", en="Complémentaire santé solidaire (CSS)")
    if contract is None:
        return Note(
            fr=f"Contrat {coverage.contract_id} inconnu", en=f"Contract {coverage.contract_id} unknown"
        )
    if contract.responsable:
        return Note(fr=f"Contrat {contract.id} (responsable)", en=f"Contract {contract.id} (responsable)")
    return Note(fr=f"Contrat {contract.id} (non responsable)", en=f"Contract {contract.id} (not responsable)")


def _sequence(line: Line) -> int:
    return line.sequence


def _refusal(
    coverage: AmcCoverage,
    contract: Contract | None,
    day: date,
    amo_line: LineDecision | None,
    *,
    listed: bool = True,
) -> Refusal | None:
    if contract is None and not coverage.css:
        return refusal("amc-contract-unknown", contract=coverage.contract_id)
    if listed and (amo_line is None or amo_line.rejections):
        return refusal("amc-amo-rejected")
    if coverage.rights is not None and not coverage.rights.contains(day):
        return refusal("amc-rights-closed", day=day)
    return None


def _rejected(line: Line, amo_line: LineDecision | None, refused: Refusal | None) -> LineDecision:
    price = amo_line.submitted if amo_line is not None else line.net
    amo_paid = amo_line.benefit if amo_line is not None else _ZERO
    paid_by_amo = amo_line is not None and not amo_line.rejected
    return LineDecision(
        sequence=line.sequence,
        submitted=price,
        eligible=amo_line.eligible if paid_by_amo and amo_line is not None else _ZERO,
        benefit=_ZERO,
        reste_a_charge=(price - amo_paid).clamp_min_zero() if amo_paid.amount else price,
        rejections=(refused.rejection(),) if refused is not None else (),
    )


def _covered(
    request: ReimbursementRequest,
    catalogue: ContractCatalogue,
    contract: Contract,
    line: Line,
    day: date,
    amo_line: LineDecision,
    table: LppTable,
    book: Ledger,
    config: RulesConfig,
) -> tuple[LineDecision, Note, LedgerEntry | None]:
    code = line.lpp_code
    assert code is not None  # noqa: S101 - lines off the LPP take non_listed_line
    entry = table.lookup(code, day)
    guarantee = catalogue.guarantee_for(contract, code, entry.category if entry else "")
    if guarantee is None and not contract.responsable:
        refused = refusal("amc-no-guarantee", contract=contract.id, code=line.lpp_code)
        return (
            _rejected(line, amo_line, refused),
            rejected_line_note(line.sequence, [refused.reason]),
            None,
        )
    eligible = amo_line.eligible
    tm = amo_line.ticket_moderateur
    if tm is None:  # an AMO decision from elsewhere may omit it: derive it from the taux
        rate = amo_line.rate
        gross = eligible.percent(rate) if rate is not None else amo_line.benefit
        tm = (eligible - gross).clamp_min_zero()
    price = amo_line.submitted
    forfait_left = _ZERO
    renewal_spent = False
    if guarantee is not None:
        if guarantee.forfait_per_year is not None:
            forfait_left = book.remaining(contract.id, guarantee.id, day.year, guarantee.forfait_per_year)
        if guarantee.renewal_months is not None:
            used = book.units_within(contract.id, guarantee.id, day, guarantee.renewal_months)
            renewal_spent = used + line.quantity > guarantee.renewal_units
            if not renewal_spent and guarantee.renewal_per_ear is not None and line.ear is not None:
                used = book.units_within(
                    contract.id, guarantee.id, day, guarantee.renewal_months, line.ear.value
                )
                renewal_spent = used + line.quantity > guarantee.renewal_per_ear
    amo_gross = eligible - tm
    if amo_line.benefit.amount > amo_gross.amount:  # AT/MP: the AMO paid above the tariff
        amo_gross = amo_line.benefit
    amount, consumed, basis_fr, basis_en = line_share(
        price,
        eligible,
        amo_gross,
        tm,
        line.quantity,
        line.unit_price,
        entry=entry,
        guarantee=guarantee,
        responsable=contract.responsable,
        forfait_left=forfait_left,
        renewal_spent=renewal_spent,
        config=config,
    )
    rest = price.amount - amo_line.benefit.amount - amount.amount
    rac = Money._cents_exact(rest) if rest >= 0 else _ZERO
    decision = LineDecision(
        sequence=line.sequence, submitted=price, eligible=eligible, benefit=amount, reste_a_charge=rac
    )
    note = amc_note(line.sequence, basis_fr, basis_en, benefit=amount, rac=rac)
    used_entry = None
    if (
        guarantee is not None
        and not renewal_spent
        and (consumed.amount or guarantee.renewal_months is not None)
        and amount.amount
    ):
        used_entry = LedgerEntry(
            nir=request.beneficiary.nir,
            contract_id=contract.id,
            guarantee_id=guarantee.id,
            day=day,
            consumed=consumed,
            units=line.quantity,
            submission=request.submission.value,
            ear=None if line.ear is None else line.ear.value,
        )
    return decision, note, used_entry


def _css_covered(line: Line, day: date, amo_line: LineDecision, table: LppTable) -> tuple[LineDecision, Note]:
    """The complémentaire santé solidaire's share: up to the PLV, else the tariff (rules.schemes)."""
    entry = table.lookup(line.lpp_code, day) if line.lpp_code is not None else None
    price = amo_line.submitted
    gross = amo_line.benefit  # before any deduction, which the CSS does not refund either
    if amo_line.ticket_moderateur is not None:
        before = amo_line.eligible - amo_line.ticket_moderateur
        gross = before if before.amount > gross.amount else gross
    amount, fr, en = css_share(price, amo_line.eligible, gross, line.quantity, entry)
    rest = price.amount - amo_line.benefit.amount - amount.amount
    rac = Money._cents_exact(rest) if rest >= 0 else _ZERO
    decision = LineDecision(
        sequence=line.sequence,
        submitted=price,
        eligible=amo_line.eligible,
        benefit=amount,
        reste_a_charge=rac,
    )
    return decision, amc_note(line.sequence, fr, en, benefit=amount, rac=rac)
