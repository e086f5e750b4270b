"""The AMO's own reasons to refuse a line (as opposed to integrity findings).

Each check follows domain-fr §1 and §6: listing and individual coding, PLV, rights,
prescription windows (decree 2012-860), accord préalable, age bounds, billing deadline
(B2 RG_MF606: strictly less than a year after care). The whole-invoice rejection for a
deactivated generic code is applied by the engine, which sees every line.
"""

from __future__ import annotations

from datetime import date

from adapter.domain.request import ClaimUse, Line, ReimbursementRequest
from adapter.rules.config import RulesConfig
from adapter.rules.dates import add_months, age_on
from adapter.rules.lpp import LppEntry
from adapter.rules.notes import Refusal, refusal

__all__ = ["care_end", "line_rejections"]


def care_end(line: Line) -> date:
    """The last day of care: the delivery, or the rental's end when it is known."""
    if line.rental is not None and line.rental.end is not None:
        return line.rental.end
    return line.reference_date


def line_rejections(
    request: ReimbursementRequest,
    line: Line,
    entry: LppEntry | None,
    *,
    first_delivery: bool,
    config: RulesConfig,
) -> list[Refusal]:
    """Every reason the AMO refuses ``line``; empty when it can be paid."""
    day = line.reference_date
    if entry is None:
        return [refusal("lpp-code-unknown", code=line.lpp_code, day=day)]
    found: list[Refusal] = []
    if entry.deactivated(day):
        found.append(refusal("lpp-code-generic", code=line.lpp_code, since=entry.deactivated_on))
    if entry.plv is not None and line.unit_price > entry.plv:
        found.append(refusal("price-above-plv", price=line.unit_price, plv=entry.plv))
    rights = request.amo.rights
    if rights is not None and not rights.contains(day):
        found.append(refusal("rights-closed", day=day))
    found.extend(_prescription_windows(request, line, entry, first_delivery, config))
    if (
        entry.entente_prealable
        and request.use is not ClaimUse.PREAUTHORIZATION
        and not request.amo.pre_auth_refs
    ):
        found.append(refusal("accord-prealable-missing", code=line.lpp_code))
    birth = request.beneficiary.birth_date
    if birth is not None and (entry.age_min is not None or entry.age_max is not None):
        age = age_on(birth, day)
        too_young = entry.age_min is not None and age < entry.age_min
        too_old = entry.age_max is not None and age > entry.age_max
        if too_young or too_old:
            found.append(refusal("age-out-of-range", age=age, code=line.lpp_code))
    billed = request.created.date()
    end = care_end(line)
    if billed >= add_months(end, config.billing_deadline_months):
        found.append(refusal("billing-deadline", billed=billed, day=end))
    return found


def _prescription_windows(
    request: ReimbursementRequest,
    line: Line,
    entry: LppEntry,
    first_delivery: bool,
    config: RulesConfig,
) -> list[Refusal]:
    day, authored = line.reference_date, request.prescription.authored_on
    found: list[Refusal] = []
    months = config.prescription_validity_months
    if day > add_months(authored, months):
        found.append(refusal("prescription-expired", authored=authored, months=months, day=day))
    window = config.first_delivery_months
    if (
        first_delivery
        and entry.category not in config.first_delivery_exempt_categories
        and day > add_months(authored, window)
    ):
        found.append(refusal("first-delivery-late", day=day, months=window, authored=authored))
    return found
