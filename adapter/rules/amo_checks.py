"""The AMO's own reasons to refuse a line (as opposed to integrity findings).

Each check follows domain-fr §1 and §6: listing and individual coding, PLV, rights,
prescription windows (decree 2012-860), accord préalable, age bounds, billing deadline
(by the biller's kind, ``billing_deadline``). The whole-invoice rejection for a
deactivated generic code is applied by the engine, which sees every line.
"""

from __future__ import annotations

from datetime import date

from adapter.domain.request import ClaimUse, Line, ReimbursementRequest
from adapter.rules.billing_deadline import biller_kind, billing_deadline
from adapter.rules.config import RulesConfig
from adapter.rules.dates import add_months, age_on
from adapter.rules.lpp import LppEntry
from adapter.rules.notes import Refusal, refusal
from adapter.rules.optics import is_optics, optics_validity

__all__ = ["LineChecks", "care_end", "line_rejections"]


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
    return LineChecks(request, config).rejections(line, line.reference_date, entry, first_delivery)


class LineChecks:
    """The AMO's checks for the lines of one request.

    What depends on the request only (prescription windows, rights, accord préalable) is
    worked out once here rather than once per line.
    """

    __slots__ = (
        "_accord_missing",
        "_authored",
        "_billed",
        "_biller",
        "_birth",
        "_config",
        "_exempt",
        "_expires",
        "_first_window",
        "_first_window_end",
        "_optics_expires",
        "_optics_validity",
        "_rights",
        "_validity",
    )

    def __init__(self, request: ReimbursementRequest, config: RulesConfig) -> None:
        authored = request.prescription.authored_on
        self._authored = authored
        self._validity = config.prescription_validity_months
        self._expires = add_months(authored, self._validity)
        self._optics_validity = optics_validity(request.beneficiary.birth_date, authored, config)
        self._optics_expires = (
            add_months(authored, self._optics_validity) if self._optics_validity is not None else None
        )
        self._first_window = config.first_delivery_months
        self._first_window_end = add_months(authored, self._first_window)
        self._exempt = config.first_delivery_exempt_categories
        self._rights = request.amo.open_rights
        self._accord_missing = request.use is not ClaimUse.PREAUTHORIZATION and not request.amo.pre_auth_refs
        self._birth = request.beneficiary.birth_date
        self._billed = request.created.date()
        self._biller = biller_kind(request.provider)
        self._config = config

    def rejections(
        self, line: Line, day: date, entry: LppEntry | None, first_delivery: bool
    ) -> list[Refusal]:
        """Every reason the AMO refuses ``line`` (whose tariff date is ``day``)."""
        if entry is None:
            return [refusal("lpp-code-unknown", code=line.lpp_code, day=day)]
        found: list[Refusal] = []
        if entry.deactivated_on is not None and entry.deactivated(day):
            found.append(refusal("lpp-code-generic", code=line.lpp_code, since=entry.deactivated_on))
        plv = entry.plv
        if plv is not None and line.unit_price.amount > plv.amount:
            found.append(refusal("price-above-plv", price=line.unit_price, plv=plv))
        rights = self._rights
        if rights is not None and not rights.contains(day):
            found.append(refusal("rights-closed", day=day))
        authored = self._authored
        expires, validity = self._expires, self._validity
        if self._optics_expires is not None and self._optics_validity is not None and is_optics(entry):
            expires, validity = self._optics_expires, self._optics_validity
        if day > expires:
            found.append(refusal("prescription-expired", authored=authored, months=validity, day=day))
        if first_delivery and day > self._first_window_end and entry.category not in self._exempt:
            found.append(
                refusal("first-delivery-late", day=day, months=self._first_window, authored=authored)
            )
        if entry.entente_prealable and self._accord_missing:
            found.append(refusal("accord-prealable-missing", code=line.lpp_code))
        birth = self._birth
        if birth is not None and (entry.age_min is not None or entry.age_max is not None):
            age = age_on(birth, day)
            too_young = entry.age_min is not None and age < entry.age_min
            too_old = entry.age_max is not None and age > entry.age_max
            if too_young or too_old:
                found.append(refusal("age-out-of-range", age=age, code=line.lpp_code))
        rental = line.rental
        end = rental.end if rental is not None and rental.end is not None else day
        billed = self._billed
        limit = billing_deadline(self._biller, end, self._config)
        if billed >= limit:
            found.append(refusal("billing-deadline", billed=billed, day=end, limit=limit))
        return found
