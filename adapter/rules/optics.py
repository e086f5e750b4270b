"""Optics: prescription validity and renewal by age, and the contrat-responsable bounds.

Decree 2016-1381 gives an optics prescription a validity by the patient's age on the day it
is written (under 16: 1 year; 16 to 42: 5 years; over 42: 3 years); the renewal interval of
an equipment is 1 year under 16 and 2 years from 16, shortened on a change of sight, which
the prescription states (``Prescription.vision_change``). R.871-2 CSS bounds what a contrat
responsable pays for a class B equipment, AMO included: a floor and a ceiling per lens by
its complexity, and a frame sub-ceiling (domain-fr §2.3; the values are in ``RulesConfig``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapter.domain.values import Money
from adapter.rules.config import RulesConfig
from adapter.rules.dates import age_on
from adapter.rules.lpp import LppEntry

__all__ = ["OPTICS", "OpticsBounds", "is_optics", "optics_bounds", "optics_renewal_months", "optics_validity"]

OPTICS = "optics"
"""The LPP table category of optics codes (frames and lenses)."""


def is_optics(entry: LppEntry | None) -> bool:
    return entry is not None and entry.category == OPTICS


def optics_validity(birth: date | None, authored: date, config: RulesConfig) -> int | None:
    """The months an optics prescription stays valid, by age on ``authored``; None without a
    birth date (the general validity then applies)."""
    if birth is None:
        return None
    age = age_on(birth, authored)
    if age < 16:
        return config.optics_validity_under_16_months
    if age <= 42:
        return config.optics_validity_16_to_42_months
    return config.optics_validity_over_42_months


def optics_renewal_months(
    birth: date | None, day: date, vision_change: bool, config: RulesConfig
) -> int | None:
    """The optics renewal interval on ``day``: by age, shortened on a change of sight.

    None means no interval applies (under 16 with a new prescription for a change of sight);
    without a birth date the adult interval applies.
    """
    child = birth is not None and age_on(birth, day) < 16
    if child:
        return None if vision_change else config.optics_renewal_under_16_months
    if vision_change:
        return config.optics_renewal_vision_change_months
    return config.optics_renewal_months


@dataclass(frozen=True, slots=True)
class OpticsBounds:
    """What a contrat responsable pays at least (``floor``) and brings the total (AMO
    included) to at most (``ceiling``) for a class B optics line; ``None`` where unbounded."""

    floor: Money | None
    ceiling: Money | None


def optics_bounds(entry: LppEntry | None, quantity: int, config: RulesConfig) -> OpticsBounds | None:
    """The contrat-responsable bounds of a class B optics line, per unit × quantity; None for
    any other line (class A is paid in full up to its PLV instead)."""
    if entry is None or entry.optics_class is None or entry.sante100 == "A":
        return None
    ceiling = config.optics_ceilings.get(entry.optics_class)
    floor = config.optics_floors.get(entry.optics_class)
    return OpticsBounds(
        floor=floor.times(quantity) if floor is not None else None,
        ceiling=ceiling.times(quantity) if ceiling is not None else None,
    )
