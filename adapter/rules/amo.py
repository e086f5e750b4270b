"""The AMO engine: BR × taux per line, the AMO's rejections, and the integrity findings.

Pure: it reads the request, the LPP table, the beneficiary's delivery history and the
clock value it is given, and returns the decision, the findings and the delivery records
to store. BR = tarif in force on the reference date × quantity, limited to the billed
price (the AMO never pays more than was spent); AMO = BR × taux, half-up to the cent,
minus any configured deduction (none applies to devices today).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from adapter.domain.decision import Finding, LineDecision, Note, PayerDecision, PayerKind
from adapter.domain.request import ClaimUse, Line, ReimbursementRequest
from adapter.domain.values import Money
from adapter.rules.amo_checks import line_rejections
from adapter.rules.config import RulesConfig
from adapter.rules.history import DeliveryLog, DeliveryRecord, prescription_key
from adapter.rules.integrity import line_findings, request_findings
from adapter.rules.lpp import LppEntry, LppTable
from adapter.rules.notes import (
    Refusal,
    amo_line_note,
    disposition,
    refusal,
    rejected_line_note,
    taux_note,
)
from adapter.rules.outcome import outcome_for
from adapter.rules.taux import Taux, amo_taux

__all__ = ["AmoResult", "adjudicate_amo"]

_DEFAULT_CONFIG = RulesConfig()
_ZERO = Money.zero()


@dataclass(frozen=True, slots=True, kw_only=True)
class AmoResult:
    """The AMO decision, the integrity findings, and the deliveries to add to the history
    (none for a predetermination or a preauthorization)."""

    decision: PayerDecision
    findings: tuple[Finding, ...]
    deliveries: tuple[DeliveryRecord, ...]


def adjudicate_amo(
    request: ReimbursementRequest,
    *,
    table: LppTable,
    history: Iterable[DeliveryRecord],
    now: datetime,
    config: RulesConfig = _DEFAULT_CONFIG,
) -> AmoResult:
    """Adjudicate every line for the AMO; lines are taken in sequence order."""
    taux = amo_taux(request.amo, request.prescription, config.rates)
    positions = {line.sequence: index for index, line in enumerate(request.lines)}
    ordered = sorted(request.lines, key=lambda line: line.sequence)
    entries = {line.sequence: table.lookup(line.lpp_code, line.reference_date) for line in ordered}
    generic = next(
        (
            line.sequence
            for line in ordered
            if (entry := entries[line.sequence]) is not None and entry.deactivated(line.reference_date)
        ),
        None,
    )
    flags = request_findings(request, config)
    request_blocks = [flag.refusal() for flag in flags if flag.finding.blocking]
    key = prescription_key(request.prescription)
    log = DeliveryLog(history, table)
    lines: list[LineDecision] = []
    notes: list[Note] = [taux_note(taux.rate, taux.basis)]
    for line in ordered:
        entry = entries[line.sequence]
        first = not log.delivered_before(key, line.reference_date)
        refusals = line_rejections(request, line, entry, first_delivery=first, config=config)
        if generic is not None and generic != line.sequence:
            refusals.append(refusal("invoice-generic-line", other=generic))
        found = line_findings(request, line, positions[line.sequence], entry, log, config)
        flags.extend(found)
        refusals.extend(request_blocks)
        refusals.extend(flag.refusal() for flag in found if flag.finding.blocking)
        if refusals or entry is None:
            lines.append(_rejected(line, refusals))
            notes.append(rejected_line_note(line.sequence, [r.reason for r in refusals]))
            continue
        decision, note = _paid(line, entry, taux, config)
        lines.append(decision)
        notes.append(note)
        log.add(_record(request, line, entry, key))
    estimate = request.use is not ClaimUse.CLAIM
    outcome = outcome_for(lines)
    decided = tuple(lines)
    return AmoResult(
        decision=PayerDecision(
            payer=PayerKind.AMO,
            insurer=str(request.amo.organisme),
            created=now,
            outcome=outcome,
            disposition=disposition("AMO", outcome, decided, estimate=estimate),
            lines=decided,
            notes=tuple(notes),
            estimate=estimate,
            pre_auth_ref=_pre_auth_ref(request, decided),
        ),
        findings=tuple(flag.finding for flag in flags),
        deliveries=() if estimate else tuple(log.added),
    )


def _paid(line: Line, entry: LppEntry, taux: Taux, config: RulesConfig) -> tuple[LineDecision, Note]:
    net = line.net
    tariffed = entry.tarif if line.quantity == 1 else entry.tarif.times(line.quantity)
    br = tariffed if tariffed <= net else net
    gross = br.percent(taux.rate)
    deduction = config.deduction_for(day=line.reference_date, titre=entry.titre, quantity=line.quantity)
    if deduction > gross:
        deduction = gross
    decision = LineDecision(
        sequence=line.sequence,
        submitted=net,
        eligible=br,
        benefit=gross - deduction if deduction.amount else gross,
        rate=taux.rate,
        ticket_moderateur=br - gross,
        depassement=net - br,
    )
    note = amo_line_note(
        decision,
        quantity=line.quantity,
        tarif=entry.tarif,
        tariffed=tariffed,
        gross=gross,
        deduction=deduction,
    )
    return decision, note


def _rejected(line: Line, refusals: list[Refusal]) -> LineDecision:
    return LineDecision(
        sequence=line.sequence,
        submitted=line.net,
        eligible=_ZERO,
        benefit=_ZERO,
        rejections=tuple(r.rejection() for r in refusals),
    )


def _record(request: ReimbursementRequest, line: Line, entry: LppEntry, prescription: str) -> DeliveryRecord:
    return DeliveryRecord(
        nir=request.beneficiary.nir,
        code=line.lpp_code,
        day=line.reference_date,
        quantity=line.quantity,
        provider=request.provider.identifier,
        submission=request.submission.value,
        prescription=prescription,
    )


def _pre_auth_ref(request: ReimbursementRequest, lines: tuple[LineDecision, ...]) -> str | None:
    """A stable accord-préalable reference for a granted preauthorization."""
    if request.use is not ClaimUse.PREAUTHORIZATION or all(line.rejected for line in lines):
        return None
    key = f"{request.submission.system}|{request.submission.value}".encode()
    return "AP" + hashlib.sha256(key).hexdigest()[:12].upper()
