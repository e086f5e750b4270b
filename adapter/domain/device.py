"""A device's reimbursement status: what the LPP table says of one code on one day.

Plain values only, so that the FHIR mappings (which may not read the rules) can write it as
a ChargeItemDefinition or a ``$lookup`` answer, and the service port can hand it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapter.domain.values import Money

__all__ = ["DeviceStatus", "device_status_id", "parse_device_status_id"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStatus:
    """One LPP row (a code during ``valid_from``–``valid_to``) as seen on ``day``.

    ``tarif`` is the BR per unit, ``plv`` the price cap when there is one. ``kind`` is
    ``generic`` or ``individual``; ``deactivated`` says whether a generic line is no longer
    billable on ``day`` (it is from ``deactivated_on``). ``telemonitoring`` is ``operator`` or
    ``technical`` for the LATM forfaits. ``renewal_quantity`` units per ``renewal_months``,
    ``renewal_per_ear`` of them per ear for a per-ear device. ``rental_unit`` (``week`` or
    ``month``) is what one unit of a rental pays for; ``optics_class`` places an optics code
    under the contrat-responsable floors and ceilings; ``usual_quantity`` is the quantity per
    line above which the fraud control calls a line unusual; ``pecan`` marks a PECAN forfait
    (``first-period`` or ``monthly``).
    """

    code: str
    label: str
    day: date
    valid_from: date
    valid_to: date | None
    tarif: Money
    plv: Money | None
    titre: str
    category: str
    kind: str
    deactivated_on: date | None
    deactivated: bool
    entente_prealable: bool
    max_per_delivery: int | None
    max_per_year: int | None
    renewal_months: int | None
    renewal_quantity: int
    age_min: int | None
    age_max: int | None
    sante100: str | None
    telemonitoring: str | None
    source: str
    renewal_per_ear: int | None = None
    rental_unit: str | None = None
    optics_class: str | None = None
    usual_quantity: int | None = None
    pecan: str | None = None

    @property
    def id(self) -> str:
        return device_status_id(self.code, self.valid_from)

    @property
    def in_force(self) -> bool:
        """Billable on ``day``: within its validity and not a deactivated generic line."""
        in_period = self.valid_from <= self.day and (self.valid_to is None or self.day <= self.valid_to)
        return in_period and not self.deactivated


def device_status_id(code: str, valid_from: date) -> str:
    """The resource id of a row: ``lpp-<code>-<valid_from>``, stable across loads of the table."""
    return f"lpp-{code}-{valid_from.isoformat()}"


def parse_device_status_id(resource_id: str) -> tuple[str, date] | None:
    """``(code, valid_from)`` of an id :func:`device_status_id` wrote, or None."""
    prefix, _, rest = resource_id.partition("-")
    code, _, day = rest.partition("-")
    if prefix != "lpp" or len(code) != 7 or not code.isascii() or not code.isalnum() or len(day) != 10:
        return None
    try:
        return code, date.fromisoformat(day)
    except ValueError:
        return None
