"""Fraud control beyond exact duplicates (domain-fr §6): findings on patterns, not on rules.

- ``near-duplicate-delivery``: same beneficiary, code and provider as a delivery a few days
  before or after (``RulesConfig.near_duplicate_days``; the same day is ``duplicate-delivery``);
- ``renewal-other-provider``: the device (its cap group) is renewed too early and another
  provider delivered it inside the renewal interval (the line is also ``renewal-too-early``;
  this finding says two providers billed the same device);
- ``quantity-unusual``: a quantity above ``unusual_quantity_factor`` × the usual quantity of
  the code (the LPP table's ``usual_quantity``, else ``unusual_quantity_default`` except for
  codes whose quantity counts periods: rentals, telemonitoring and PECAN forfaits).

A per-ear device (hearing aids) is one device per ear: a delivery to the other ear is neither
a near duplicate nor the same renewal.

Each is a warning unless configured to block (``RulesConfig.warning_findings``).
"""

from __future__ import annotations

from datetime import date

from adapter.domain.request import Line
from adapter.rules.config import RulesConfig
from adapter.rules.expressions import item_expression, serviced_expression
from adapter.rules.history import DeliveryLog
from adapter.rules.integrity import Flag, flag
from adapter.rules.lpp import LppEntry
from adapter.rules.optics import is_optics, optics_renewal_months

__all__ = ["fraud_findings"]


def fraud_findings(
    line: Line,
    index: int,
    day: date,
    entry: LppEntry | None,
    log: DeliveryLog,
    *,
    provider: str,
    birth: date | None,
    vision_change: bool,
    config: RulesConfig,
) -> list[Flag]:
    """The fraud findings on ``line`` (at position ``index``), dated ``day``."""
    code = line.lpp_code
    if code is None or entry is None:
        return []
    found: list[Flag] = []
    seq = line.sequence
    ear = None if line.ear is None else line.ear.value
    if config.near_duplicate_days > 0:
        other = log.near_day(code, provider, day, config.near_duplicate_days, ear)
        if other is not None:
            found.append(
                flag(
                    "near-duplicate-delivery",
                    config,
                    expression=serviced_expression(index, line),
                    sequence=seq,
                    code=code,
                    other=other,
                    day=day,
                    days=abs((other - day).days),
                )
            )
    months = entry.renewal_months
    if months is not None and is_optics(entry):
        months = optics_renewal_months(birth, day, vision_change, config)
    per_ear = entry.renewal_per_ear if ear is not None else None
    if months is None:
        exceeded = False
    elif per_ear is not None and ear is not None:  # a hearing aid is renewed per ear
        exceeded = log.ear_units_within(entry.cap_group, ear, day, months) + line.quantity > per_ear
    else:
        exceeded = log.units_within(entry.cap_group, day, months) + line.quantity > entry.renewal_quantity
    if months is not None and exceeded:
        other = log.other_provider_within(entry.cap_group, provider, day, months, ear if per_ear else None)
        if other is not None:
            found.append(
                flag(
                    "renewal-other-provider",
                    config,
                    expression=serviced_expression(index, line),
                    sequence=seq,
                    code=code,
                    other=other,
                    months=months,
                )
            )
    usual = entry.usual_quantity
    if usual is None and not _periodic(entry):
        usual = config.unusual_quantity_default
    if usual is not None and line.quantity > usual * config.unusual_quantity_factor:
        found.append(
            flag(
                "quantity-unusual",
                config,
                expression=item_expression(index, "quantity"),
                sequence=seq,
                quantity=line.quantity,
                usual=usual,
                code=code,
            )
        )
    return found


def _periodic(entry: LppEntry) -> bool:
    """A code whose quantity counts weeks or months, not devices."""
    return entry.rental_unit is not None or entry.telemonitoring is not None or entry.pecan is not None
