"""The AMC's share of one line, exactly as domain-fr §3.3 computes it.

::

    remaining = price − AMO (before any deduction: the AMC never refunds one)
    cap       = by guarantee kind, + supplement per unit, ≤ max per unit
    cap       = min(cap, regulatory cap per unit − AMO)       contrats responsables
    cap       = max(cap, TM)                                  contrats responsables
    cap       = remaining                                     100 % Santé basket ≤ PLV
    AMC       = max(0, min(cap, remaining))

A guarantee already used within its renewal period pays nothing above the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from adapter.domain.decision import Note
from adapter.domain.values import Money
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import Guarantee, GuaranteeKind
from adapter.rules.lpp import LppEntry
from adapter.rules.notes import percent_en, percent_fr
from adapter.rules.optics import OpticsBounds, optics_bounds

__all__ = ["AmcShare", "LineAmounts", "amc_share", "line_share"]

_ZERO = Money.zero()


@dataclass(frozen=True, slots=True, kw_only=True)
class LineAmounts:
    """What the AMC needs from the AMO line: price, BR, the AMO's share before deductions,
    the ticket modérateur (BR − that share), the quantity and the unit price."""

    price: Money
    eligible: Money
    amo_gross: Money
    ticket_moderateur: Money
    quantity: int
    unit_price: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class AmcShare:
    """The AMC amount, the forfait euros it consumes, and how it was reached (for notes)."""

    amount: Money
    consumed: Money
    basis: Note


def amc_share(
    amounts: LineAmounts,
    *,
    entry: LppEntry | None,
    guarantee: Guarantee | None,
    responsable: bool,
    forfait_left: Money,
    renewal_spent: bool,
    config: RulesConfig,
) -> AmcShare:
    """The AMC share of a line the AMO accepted; ``guarantee`` None pays only the floor."""
    amount, consumed, basis_fr, basis_en = line_share(
        amounts.price,
        amounts.eligible,
        amounts.amo_gross,
        amounts.ticket_moderateur,
        amounts.quantity,
        amounts.unit_price,
        entry=entry,
        guarantee=guarantee,
        responsable=responsable,
        forfait_left=forfait_left,
        renewal_spent=renewal_spent,
        config=config,
    )
    return AmcShare(amount=amount, consumed=consumed, basis=Note(fr=basis_fr, en=basis_en))


def line_share(
    price: Money,
    eligible: Money,
    amo_gross: Money,
    tm: Money,
    quantity: int,
    unit_price: Money,
    *,
    entry: LppEntry | None,
    guarantee: Guarantee | None,
    responsable: bool,
    forfait_left: Money,
    renewal_spent: bool,
    config: RulesConfig,
) -> tuple[Money, Money, str, str]:
    """:func:`amc_share` on the amounts themselves: ``(amount, consumed, basis_fr, basis_en)``.

    The engine's path: it spares a :class:`LineAmounts` and an :class:`AmcShare` per line,
    and works on the Decimal amounts (all to the cent), wrapping only the results in Money.
    """
    gross, floor = amo_gross.amount, tm.amount
    remaining = price.amount - gross
    if remaining < 0:
        remaining = _D0
    forfait_part = _D0
    if guarantee is None:
        cap, parts = _D0, [_NO_GUARANTEE]
    elif renewal_spent:
        cap, parts = _D0, [_RENEWAL_PENDING]
    else:
        cap, forfait_part, parts = _guarantee_cap(
            guarantee, price.amount, eligible, gross, floor, quantity, remaining, forfait_left
        )
    if responsable:
        sante100 = entry.sante100 if entry is not None else None
        if sante100 is not None:
            regulatory = config.responsable_caps.get(sante100)
            if regulatory is not None:
                ceiling = regulatory.times(quantity).amount - gross
                if ceiling < 0:
                    ceiling = _D0
                if cap > ceiling:
                    cap = ceiling
                    parts.append(
                        (f"plafond {regulatory.fr()} AMO comprise", f"ceiling {regulatory.en()} incl. AMO")
                    )
        bounds = optics_bounds(entry, quantity, config) if entry is not None and entry.optics_class else None
        if bounds is not None:
            cap = _optics_bounded(cap, gross, bounds, parts)
        if cap < floor:
            cap = floor
            parts.append(_FLOOR)
        if sante100 in config.rac0_classes and cap != remaining:
            plv = entry.plv if entry is not None else None
            if plv is None or unit_price.amount <= plv.amount:
                cap = remaining
                parts.append(_RAC_ZERO)
    amount = cap if cap < remaining else remaining
    if amount < 0:
        amount = _D0
    consumed = _D0
    if forfait_part > 0:
        above_tm = amount - floor
        if above_tm < 0:
            above_tm = _D0
        consumed = forfait_part if forfait_part < above_tm else above_tm
    if len(parts) == 1:
        fr, en = parts[0]
    else:
        fr, en = ", ".join(fr for fr, _ in parts), ", ".join(en for _, en in parts)
    return Money._cents_exact(amount), Money._cents_exact(consumed) if consumed else _ZERO, fr, en


def _optics_bounded(cap: Decimal, gross: Decimal, bounds: OpticsBounds, parts: list[_Words]) -> Decimal:
    """R.871-2 CSS on a class B optics line: the ceiling (AMO included), then the floor."""
    if bounds.ceiling is not None:
        ceiling = bounds.ceiling.amount - gross
        if ceiling < 0:
            ceiling = _D0
        if cap > ceiling:
            cap = ceiling
            parts.append(
                (
                    f"plafond optique {bounds.ceiling.fr()} AMO comprise",
                    f"optics ceiling {bounds.ceiling.en()} incl. AMO",
                )
            )
    if bounds.floor is not None and cap < bounds.floor.amount:
        cap = bounds.floor.amount
        parts.append((f"plancher optique {bounds.floor.fr()}", f"optics floor {bounds.floor.en()}"))
    return cap


_D0 = _ZERO.amount
_Words = tuple[str, str]  # (French, English)
_NO_GUARANTEE: _Words = ("aucune garantie", "no guarantee")
_RENEWAL_PENDING: _Words = ("renouvellement non échu", "renewal period not elapsed")
_FLOOR: _Words = ("ticket modérateur (contrat responsable)", "ticket modérateur (contrat responsable)")
_RAC_ZERO: _Words = ("100 % Santé", "100 % Santé")


def _guarantee_cap(
    guarantee: Guarantee,
    price: Decimal,
    eligible: Money,
    amo_gross: Decimal,
    tm: Decimal,
    quantity: int,
    remaining: Decimal,
    forfait_left: Money,
) -> tuple[Decimal, Decimal, list[_Words]]:
    """(cap, forfait euros inside it, wording) for the guarantee."""
    kind = guarantee.kind
    forfait_part = _D0
    wording = [_wording(guarantee)]
    if kind is GuaranteeKind.PERCENT_BR_INCL_AMO:
        cap = eligible.percent(guarantee.percent or 0).amount - amo_gross
        if cap < 0:
            cap = _D0
    elif kind is GuaranteeKind.PERCENT_BR_EXCL_AMO:
        cap = eligible.percent(guarantee.percent or 0).amount
    elif kind is GuaranteeKind.FORFAIT:
        depassement = price - eligible.amount
        if depassement < 0:
            depassement = _D0
        left = forfait_left.amount
        forfait_part = left if left < depassement else depassement
        cap = tm + forfait_part
        wording.append((f"solde {forfait_left.fr()}", f"balance {forfait_left.en()}"))
    elif kind is GuaranteeKind.FRAIS_REELS:
        cap = remaining
    elif kind is GuaranteeKind.PERCENT_PRICE:
        cap = Money._cents_exact(price).percent(guarantee.percent or 0).amount
    else:
        cap = tm
    if guarantee.supplement_per_unit is not None:
        cap = cap + guarantee.supplement_per_unit.times(quantity).amount
    if guarantee.max_per_unit is not None:
        ceiling = guarantee.max_per_unit.times(quantity).amount
        if cap > ceiling:
            cap = ceiling
            wording.append(
                (
                    f"plafonné à {guarantee.max_per_unit.fr()} par unité",
                    f"capped at {guarantee.max_per_unit.en()} per unit",
                )
            )
    return cap, forfait_part, wording


@lru_cache(maxsize=256)
def _wording(guarantee: Guarantee) -> _Words:
    """How the contract words the guarantee: "150 % BR AMO comprise + 500,00 € par unité"."""
    percent = guarantee.percent or Decimal(0)
    kind = guarantee.kind
    if kind is GuaranteeKind.PERCENT_BR_INCL_AMO:
        fr, en = f"{percent_fr(percent)} BR AMO comprise", f"{percent_en(percent)} of BR incl. AMO"
    elif kind is GuaranteeKind.PERCENT_BR_EXCL_AMO:
        fr, en = f"{percent_fr(percent)} BR hors AMO", f"{percent_en(percent)} of BR on top of AMO"
    elif kind is GuaranteeKind.FORFAIT:
        budget = guarantee.forfait_per_year or _ZERO
        fr, en = f"TM + forfait {budget.fr()} par an", f"TM + forfait {budget.en()} a year"
    elif kind is GuaranteeKind.FRAIS_REELS:
        fr, en = "frais réels", "actual costs"
    elif kind is GuaranteeKind.PERCENT_PRICE:
        fr, en = f"{percent_fr(percent)} du prix", f"{percent_en(percent)} of the price"
    else:
        fr, en = "ticket modérateur", "ticket modérateur"
    if guarantee.supplement_per_unit is not None:
        supplement = guarantee.supplement_per_unit
        fr, en = f"{fr} + {supplement.fr()} par unité", f"{en} + {supplement.en()} per unit"
    return fr, en
