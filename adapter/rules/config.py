"""Every number of the French rules that a decree (or a doubt) may change, with defaults.

Defaults follow the domain research note (domain-fr), summarised in ``docs/reference-data.md``.
Values it marks ✖ are unconfirmed and are exactly the ones an operator may need to override:
Alsace-Moselle's 90 % for ambulatory LPP items, the contrat-responsable ceilings, the windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from adapter.domain.values import Money

__all__ = ["AmoRates", "Deduction", "RulesConfig"]

_ZERO = Money.zero()
_PECAN_YEAR_CAP = Money.of(780)  # gnius.esante.gouv.fr (domain-fr S30)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmoRates:
    """AMO taux in percent of the BR, one per situation (domain-fr §1.3).

    ``other_exoneration`` covers exonération codes 1, 3, 6, 7 and C (RG_VF_CC15: an
    exonération other than 0 and ASPA means 100 %). ``ame`` is the aide médicale de l'État's
    cover of the tariff (ameli: 100 % within the Sécurité sociale's tariffs).
    """

    standard: Decimal = Decimal(60)
    ald: Decimal = Decimal(100)
    maternity: Decimal = Decimal(100)
    at_mp: Decimal = Decimal(100)
    invalidity: Decimal = Decimal(100)
    other_exoneration: Decimal = Decimal(100)
    alsace_moselle: Decimal = Decimal(90)
    aspa: Decimal = Decimal(80)
    ame: Decimal = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deduction:
    """An amount the AMO withholds per unit from a dated day: the hook for a device franchise.

    None applies to devices today (domain-fr §1.6); the hook exists so that a franchise on
    LPP products, if legislated, is configuration rather than code. ``titres`` limits it to
    some LPP titres (empty: all). The AMC never pays a deduction back.
    """

    code: str
    label_fr: str
    label_en: str
    per_unit: Money
    valid_from: date
    valid_to: date | None = None
    titres: frozenset[str] = frozenset()
    max_per_line: Money | None = None

    def amount(self, *, day: date, titre: str, quantity: int) -> Money:
        """What this deduction withholds on a line, zero outside its dates or titres."""
        if day < self.valid_from or (self.valid_to is not None and day > self.valid_to):
            return _ZERO
        if self.titres and titre not in self.titres:
            return _ZERO
        total = self.per_unit.times(quantity)
        if self.max_per_line is not None and total > self.max_per_line:
            return self.max_per_line
        return total


def _default_caps() -> Mapping[str, Money]:
    return MappingProxyType({"II": Money.of(1700)})


def _optics_ceilings() -> Mapping[str, Money]:
    # R.871-2 CSS (decree 2019-21): equipment ceilings 420 / 700 / 800 € incl. a 100 € frame,
    # split per lens: (420 − 100) / 2, (700 − 100) / 2, (800 − 100) / 2 (domain-fr §2.3).
    return MappingProxyType(
        {
            "frame": Money.of(100),
            "simple": Money.of(160),
            "complex": Money.of(300),
            "very-complex": Money.of(350),
        }
    )


def _optics_floors() -> Mapping[str, Money]:
    # R.871-2 CSS floors 50 € (simple lenses) and 200 € (complex) per equipment, per lens ✖.
    return MappingProxyType({"simple": Money.of(25), "complex": Money.of(100), "very-complex": Money.of(100)})


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesConfig:
    """The engines' parameters.

    ``responsable_caps`` maps a 100 % Santé class to the most a contrat responsable may
    bring the total (AMO + AMC) to, per unit (hearing aids classe II: 1,700 € per ear).
    ``rac0_classes`` are the 100 % Santé baskets a contrat responsable pays in full up to
    the PLV. ``warning_findings`` lists the integrity findings that only warn; every other
    finding blocks its line. ``billing_deadline_months`` is an establishment's deadline after
    the care, ``supplier_billing_deadline_months`` the others' after the quarter of the care.
    ``at_mp_above_tariff`` is the AT/MP cover of LPP devices in percent of the tariff, within
    the price (L.432-3 CSS). ``rental_units_at_own_tariff`` prices each unit of a rental at
    the tariff of its own date (an inference, unconfirmed: off, the start date's tariff
    prices the whole rental).

    The ``optics_*`` values follow decree 2016-1381 (prescription validity by age, renewal
    intervals) and R.871-2 CSS (``optics_ceilings`` per unit, AMO included, and
    ``optics_floors`` per unit, by optics class). The ``near_duplicate_days``,
    ``unusual_quantity_factor`` and ``unusual_quantity_default`` tune the fraud findings;
    ``pecan_*`` the PECAN forfaits. ``technical_forfait_tariffs`` maps an exploitant (provider
    identifier) to its telemonitoring technical forfait modulated by its active patient file.
    """

    rates: AmoRates = AmoRates()
    deductions: tuple[Deduction, ...] = ()
    prescription_validity_months: int = 12
    first_delivery_months: int = 6
    first_delivery_exempt_categories: frozenset[str] = frozenset({"optics", "hearing-aid"})
    billing_deadline_months: int = 12
    supplier_billing_deadline_months: int = 24
    at_mp_above_tariff: Decimal = Decimal(150)
    rental_units_at_own_tariff: bool = True
    rac0_classes: frozenset[str] = frozenset({"I", "A"})
    responsable_caps: Mapping[str, Money] = field(default_factory=_default_caps)
    warning_findings: frozenset[str] = frozenset(
        {
            "prescriber-identifier-suspect",
            "ear-missing",
            "css-price-above-tariff",
            "near-duplicate-delivery",
            "renewal-other-provider",
            "quantity-unusual",
        }
    )
    optics_validity_under_16_months: int = 12
    optics_validity_16_to_42_months: int = 60
    optics_validity_over_42_months: int = 36
    optics_renewal_under_16_months: int = 12
    optics_renewal_months: int = 24
    optics_renewal_vision_change_months: int = 12
    optics_ceilings: Mapping[str, Money] = field(default_factory=_optics_ceilings)
    optics_floors: Mapping[str, Money] = field(default_factory=_optics_floors)
    near_duplicate_days: int = 3
    unusual_quantity_factor: int = 3
    unusual_quantity_default: int | None = None
    pecan_year_cap: Money = _PECAN_YEAR_CAP
    pecan_months: int = 12
    pecan_first_period_months: int = 3
    technical_forfait_tariffs: Mapping[str, Money] = field(default_factory=lambda: MappingProxyType({}))

    def deduction_for(self, *, day: date, titre: str, quantity: int) -> Money:
        total = _ZERO
        for deduction in self.deductions:
            total = total + deduction.amount(day=day, titre=titre, quantity=quantity)
        return total
