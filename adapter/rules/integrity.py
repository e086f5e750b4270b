"""Integrity checks an insurer applies and the adapter pre-flags (domain-fr §6).

Each check yields a :class:`Finding` with the FHIRPath of the element at fault. A finding
blocks its line (which the AMO then rejects with the finding's code) unless its code is in
``RulesConfig.warning_findings``. Lines are checked in sequence order against the history
plus the lines already accepted, so a request is checked against itself too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapter.domain.decision import Finding, Note
from adapter.domain.request import Line, ReimbursementRequest
from adapter.domain.values import luhn_valid
from adapter.rules.config import RulesConfig
from adapter.rules.dates import month_index
from adapter.rules.expressions import item_expression, serviced_expression
from adapter.rules.hearing import ear_findings
from adapter.rules.history import DeliveryLog
from adapter.rules.lpp import LppEntry, Telemonitoring
from adapter.rules.notes import Refusal, reason
from adapter.rules.optics import is_optics, optics_renewal_months
from adapter.rules.schemes import css_findings, is_css

__all__ = ["Flag", "LineIntegrity", "flag", "line_findings", "request_findings"]

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


def flag(
    code: str,
    config: RulesConfig,
    /,
    *,
    expression: str,
    sequence: int | None = None,
    **params: object,
) -> Flag:
    """A finding ``code`` at ``expression``, blocking unless the configuration makes it a warning."""
    return _finding(code, config, expression=expression, sequence=sequence, **params)


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
    return LineIntegrity(request, config).findings(line, index, line.reference_date, entry, log)


class LineIntegrity:
    """The integrity checks for the lines of one request, with the request's own facts
    (provider, prescription date) read once."""

    __slots__ = ("_authored", "_birth", "_config", "_css", "_provider", "_vision_change")

    def __init__(self, request: ReimbursementRequest, config: RulesConfig) -> None:
        self._provider = request.provider.identifier
        self._css = is_css(request)
        self._authored = request.prescription.authored_on
        self._birth = request.beneficiary.birth_date
        self._vision_change = request.prescription.vision_change
        self._config = config

    def findings(
        self, line: Line, index: int, day: date, entry: LppEntry | None, log: DeliveryLog
    ) -> list[Flag]:
        """Findings about ``line``, at position ``index`` in the request, dated ``day``."""
        findings: list[Flag] = []
        config, seq = self._config, line.sequence
        code = line.lpp_code
        if code is None:  # a device off the LPP: the AMO refuses it without checks
            return findings
        if log.is_duplicate(code, day, self._provider, None if line.ear is None else line.ear.value):
            findings.append(
                _finding(
                    "duplicate-delivery",
                    config,
                    expression=serviced_expression(index, line),
                    sequence=seq,
                    code=line.lpp_code,
                    day=day,
                )
            )
        authored = self._authored
        if day < authored:
            findings.append(
                _finding(
                    "delivery-before-prescription",
                    config,
                    expression=serviced_expression(index, line),
                    sequence=seq,
                    day=day,
                    authored=authored,
                )
            )
        if entry is None:
            return findings
        if entry.max_per_delivery is not None and line.quantity > entry.max_per_delivery:
            findings.append(
                _finding(
                    "quantity-delivery-cap",
                    config,
                    expression=item_expression(index, "quantity"),
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
                        expression=item_expression(index, "quantity"),
                        sequence=seq,
                        total=total,
                        year=day.year,
                        cap=entry.max_per_year,
                    )
                )
        renewal_months = entry.renewal_months
        if renewal_months is not None and is_optics(entry):
            renewal_months = optics_renewal_months(self._birth, day, self._vision_change, config)
        if renewal_months is not None:
            total = log.units_within(entry.cap_group, day, renewal_months) + line.quantity
            if total > entry.renewal_quantity:
                findings.append(
                    _finding(
                        "renewal-too-early",
                        config,
                        expression=serviced_expression(index, line),
                        sequence=seq,
                        months=renewal_months,
                        total=total,
                        allowed=entry.renewal_quantity,
                    )
                )
        if entry.renewal_per_ear is not None:
            findings.extend(
                Flag(finding, note) for finding, note in ear_findings(line, index, day, entry, log, config)
            )
        if self._css:
            findings.extend(Flag(finding, note) for finding, note in css_findings(line, index, entry, config))
        if entry.telemonitoring is not None:
            first = month_index(day)
            if log.forfait_billed(entry.telemonitoring, range(first, first + line.quantity)):
                findings.append(
                    _finding(
                        "telemonitoring-cumulative",
                        config,
                        expression=serviced_expression(index, line),
                        sequence=seq,
                        kind=_FORFAIT_KINDS[entry.telemonitoring],
                    )
                )
        return findings
