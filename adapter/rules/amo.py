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
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from adapter.domain.decision import Finding, LineDecision, Note, PayerDecision, PayerKind
from adapter.domain.request import ClaimUse, Line, ReimbursementRequest
from adapter.domain.values import Money
from adapter.rules import at_mp
from adapter.rules.amo_checks import LineChecks
from adapter.rules.config import RulesConfig
from adapter.rules.fraud import fraud_findings
from adapter.rules.history import DeliveryLog, DeliveryRecord, prescription_key
from adapter.rules.integrity import LineIntegrity, request_findings
from adapter.rules.lpp import LppEntry, LppTable
from adapter.rules.non_listed import not_listed_refusal
from adapter.rules.notes import (
    Refusal,
    amo_line_note,
    amo_line_wording,
    disposition,
    line_note,
    refusal,
    rejected_line_note,
    taux_note,
)
from adapter.rules.outcome import outcome_for
from adapter.rules.pecan import pecan_findings
from adapter.rules.rentals import RentalPricing, rental_pricing
from adapter.rules.taux import Taux, amo_taux
from adapter.rules.telemonitoring import modulated

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
    taux = amo_taux(request.amo, request.prescription, config.rates, config.at_mp_above_tariff)
    ordered = sorted(enumerate(request.lines), key=_sequence)  # (position in Claim.item, line)
    days = [line.reference_date for _, line in ordered]
    entries = [
        table.lookup(line.lpp_code, day) if line.lpp_code is not None else None
        for (_, line), day in zip(ordered, days, strict=True)
    ]
    if config.technical_forfait_tariffs:
        entries = [modulated(entry, request.provider.identifier, config) for entry in entries]
    generic = next(
        (
            line.sequence
            for (_, line), day, entry in zip(ordered, days, entries, strict=True)
            if entry is not None and entry.deactivated(day)
        ),
        None,
    )
    flags = request_findings(request, config)
    request_blocks = [flag.refusal() for flag in flags if flag.finding.blocking]
    key = prescription_key(request.prescription)
    checks = LineChecks(request, config)
    integrity = LineIntegrity(request, config)
    log = DeliveryLog(history, table)
    nir, provider, submission = request.beneficiary.nir, request.provider.identifier, request.submission.value
    birth, vision_change = request.beneficiary.birth_date, request.prescription.vision_change
    lines: list[LineDecision] = []
    notes: list[Note] = [taux_note(taux.rate, taux.basis)]
    for (index, line), day, entry in zip(ordered, days, entries, strict=True):
        code = line.lpp_code
        if code is None:  # a device off the LPP: the AMO does not reimburse it
            refused = not_listed_refusal(line)
            lines.append(_rejected(line, [refused]))
            notes.append(rejected_line_note(line.sequence, [refused.reason]))
            continue
        first = not log.delivered_before(key, day)
        rental = None
        if entry is not None and config.rental_units_at_own_tariff:
            rental = rental_pricing(line, entry, table)
        if rental is not None and rental.missing is not None:
            entry = None
            refusals = [refusal("lpp-code-unknown", code=line.lpp_code, day=rental.missing)]
        else:
            refusals = checks.rejections(line, day, entry, first)
        if generic is not None and generic != line.sequence:
            refusals.append(refusal("invoice-generic-line", other=generic))
        found = integrity.findings(line, index, day, entry, log)
        found += fraud_findings(
            line,
            index,
            day,
            entry,
            log,
            provider=provider,
            birth=birth,
            vision_change=vision_change,
            config=config,
        )
        found += pecan_findings(line, index, day, entry, log, table, config)
        refusals.extend(request_blocks)
        if found:
            flags.extend(found)
            refusals.extend(flag.refusal() for flag in found if flag.finding.blocking)
        if refusals or entry is None:
            lines.append(_rejected(line, refusals))
            notes.append(rejected_line_note(line.sequence, [r.reason for r in refusals]))
            continue
        decision, note = _paid(line, day, entry, taux, config, rental)
        lines.append(decision)
        notes.append(note)
        log.add(
            DeliveryRecord(
                nir=nir,
                code=code,
                day=day,
                quantity=line.quantity,
                provider=provider,
                submission=submission,
                prescription=key,
                ear=None if line.ear is None else line.ear.value,
            )
        )
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


def _sequence(item: tuple[int, Line]) -> int:
    return item[1].sequence


def _paid(
    line: Line,
    day: date,
    entry: LppEntry,
    taux: Taux,
    config: RulesConfig,
    rental: RentalPricing | None = None,
) -> tuple[LineDecision, Note]:
    quantity, rate = line.quantity, taux.rate
    net = line.unit_price if quantity == 1 else line.unit_price.times(quantity)
    if not config.deductions and taux.above_tariff is None and rental is None:
        tariffed, gross, tm, fr, en = _at_tariff(entry.tarif.amount, quantity, rate)
        if tariffed.amount <= net.amount:  # the usual case: the BR is the tariff
            decision = LineDecision(
                sequence=line.sequence,
                submitted=net,
                eligible=tariffed,
                benefit=gross,
                rate=rate,
                ticket_moderateur=tm,
                depassement=net - tariffed if net.amount != tariffed.amount else _ZERO,
            )
            return decision, line_note(line.sequence, fr, en)
    tarif = entry.tarif
    tariffed = tarif if quantity == 1 else tarif.times(quantity)
    if rental is not None:
        tariffed = rental.total
    br = tariffed if tariffed.amount <= net.amount else net
    rate = at_mp.above_tariff_rate(entry, rate, taux.above_tariff)
    gross = br.percent(rate)
    above = rate > Decimal(100)
    limited = False
    if above:
        capped = at_mp.within_price(gross, net)
        limited = capped is not gross
        gross = capped
    deduction = config.deduction_for(day=day, titre=entry.titre, quantity=quantity)
    if deduction.amount > gross.amount:
        deduction = gross
    decision = LineDecision(
        sequence=line.sequence,
        submitted=net,
        eligible=br,
        benefit=gross - deduction if deduction.amount else gross,
        rate=rate,
        ticket_moderateur=(br - gross).clamp_min_zero(),
        depassement=net - br,
    )
    note = amo_line_note(
        decision,
        quantity=1 if rental is not None else quantity,
        tarif=tariffed if rental is not None else tarif,
        tariffed=tariffed,
        gross=gross,
        deduction=deduction,
    )
    extra = [rental.wording()] if rental is not None else []
    if above:
        extra.append(at_mp.wording(rate, limited))
    if extra:
        note = Note(
            fr=note.fr + "".join(f" ({fr})" for fr, _ in extra),
            en=note.en + "".join(f" ({en})" for _, en in extra),
        )
    return decision, note


@lru_cache(maxsize=4096)
def _at_tariff(tarif: Decimal, quantity: int, rate: Decimal) -> tuple[Money, Money, Money, str, str]:
    """A line paid at the tariff: (BR, AMO share, ticket modérateur, note wording fr/en).

    They depend on the tariff, the quantity and the taux only, which repeat from claim to
    claim, so they are computed once per combination (bounded: least recently used first out).
    """
    unit = Money._cents_exact(tarif)
    br = unit if quantity == 1 else unit.times(quantity)
    gross = br.percent(rate)
    fr, en = amo_line_wording(br, quantity=quantity, tarif=unit, tariffed=br, rate=rate, gross=gross)
    return br, gross, br - gross, fr, en


def _rejected(line: Line, refusals: list[Refusal]) -> LineDecision:
    return LineDecision(
        sequence=line.sequence,
        submitted=line.net,
        eligible=_ZERO,
        benefit=_ZERO,
        rejections=tuple(r.rejection() for r in refusals),
    )


def _pre_auth_ref(request: ReimbursementRequest, lines: tuple[LineDecision, ...]) -> str | None:
    """A stable accord-préalable reference for a granted preauthorization."""
    if request.use is not ClaimUse.PREAUTHORIZATION or all(line.rejected for line in lines):
        return None
    key = f"{request.submission.system}|{request.submission.value}".encode()
    return "AP" + hashlib.sha256(key).hexdigest()[:12].upper()
