"""Integrity checks an insurer applies and the adapter pre-flags (domain-fr §6).

Each check yields a :class:`Finding` with the FHIRPath of the element at fault. A finding
blocks its line (which the AMO then rejects with the finding's code) unless its code is in
``RulesConfig.warning_findings``. Lines are checked in sequence order against the history
plus the lines already accepted, so a request is checked against itself too.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapter.domain.decision import Finding, Note
from adapter.domain.request import Line, ReimbursementRequest
from adapter.domain.values import luhn_valid
from adapter.rules.config import RulesConfig
from adapter.rules.dates import month_index
from adapter.rules.expressions import item_expression, serviced_expression
from adapter.rules.history import DeliveryLog
from adapter.rules.lpp import LppEntry, Telemonitoring
from adapter.rules.notes import Refusal, reason

__all__ = ["Flag", "line_findings", "request_findings"]

_FORFAIT_KINDS = {
    Telemonitoring.OPERATOR: Note(fr="opérateur", en="operator"),
    Telemonitoring.TECHNICAL: Note(fr="technique", en="technical"),
}


@dataclass(frozen=True, slots=True)
class Flag:
    """A finding and its reason in both languages (the finding's text is the English one)."""

    finding: Finding
    reason: Note

    def refusal(self) -> Refusal:
        return Refusal(self.finding.code, self.reason)


def _finding(
    code: str,
    config: RulesConfig,
    /,
    *,
    expression: str,
    sequence: int | None = None,
    **params: object,
) -> Flag:
    note = reason(code, **params)
    finding = Finding(
        code=code,
        text=note.en,
        expression=expression,
        blocking=code not in config.warning_findings,
        sequence=sequence,
    )
    return Flag(finding, note)


def request_findings(request: ReimbursementRequest, config: RulesConfig) -> list[Flag]:
    """Findings about the whole request: today, the prescriber's identifier."""
    rpps = request.prescription.prescriber.rpps
    if rpps is not None and not luhn_valid(rpps.value):
        return [
            _finding(
                "prescriber-identifier-suspect",
                config,
                expression="DeviceRequest.requester",
                rpps=rpps.value,
            )
        ]
    return []


def line_findings(
    request: ReimbursementRequest,
    line: Line,
    index: int,
    entry: LppEntry | None,
    log: DeliveryLog,
    config: RulesConfig,
) -> list[Flag]:
    """Findings about one line: duplicates, caps, renewals, forfaits, dates."""
    findings: list[Flag] = []
    day, seq = line.reference_date, line.sequence
    serviced = serviced_expression(index, line)
    if log.is_duplicate(line.lpp_code, day, request.provider.identifier):
        findings.append(
            _finding(
                "duplicate-delivery",
                config,
                expression=serviced,
                sequence=seq,
                code=line.lpp_code,
                day=day,
            )
        )
    prescription = request.prescription
    if day < prescription.authored_on:
        findings.append(
            _finding(
                "delivery-before-prescription",
                config,
                expression=serviced,
                sequence=seq,
                day=day,
                authored=prescription.authored_on,
            )
        )
    if entry is None:
        return findings
    quantity = item_expression(index, "quantity")
    if entry.max_per_delivery is not None and line.quantity > entry.max_per_delivery:
        findings.append(
            _finding(
                "quantity-delivery-cap",
                config,
                expression=quantity,
                sequence=seq,
                quantity=line.quantity,
                cap=entry.max_per_delivery,
            )
        )
    if entry.max_per_year is not None:
        total = log.units_in_year(entry.cap_group, day.year) + line.quantity
        if total > entry.max_per_year:
            findings.append(
                _finding(
                    "quantity-yearly-cap",
                    config,
                    expression=quantity,
                    sequence=seq,
                    total=total,
                    year=day.year,
                    cap=entry.max_per_year,
                )
            )
    if entry.renewal_months is not None:
        total = log.units_within(entry.cap_group, day, entry.renewal_months) + line.quantity
        if total > entry.renewal_quantity:
            findings.append(
                _finding(
                    "renewal-too-early",
                    config,
                    expression=serviced,
                    sequence=seq,
                    months=entry.renewal_months,
                    total=total,
                    allowed=entry.renewal_quantity,
                )
            )
    if entry.telemonitoring is not None:
        first = month_index(day)
        taken = log.forfait_months(entry.telemonitoring)
        if taken.intersection(range(first, first + line.quantity)):
            findings.append(
                _finding(
                    "telemonitoring-cumulative",
                    config,
                    expression=serviced,
                    sequence=seq,
                    kind=_FORFAIT_KINDS[entry.telemonitoring],
                )
            )
    return findings
