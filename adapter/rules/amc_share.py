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

__all__ = ["AmcShare", "LineAmounts", "amc_share"]

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
    remaining = (amounts.price - amounts.amo_gross).clamp_min_zero()
    tm = amounts.ticket_moderateur
    forfait_part = _ZERO
    if guarantee is None:
        cap, parts = _ZERO, [_NO_GUARANTEE]
    elif renewal_spent:
        cap, parts = _ZERO, [_RENEWAL_PENDING]
    else:
        cap, forfait_part, parts = _guarantee_cap(guarantee, amounts, remaining, forfait_left)
    if responsable:
        sante100 = entry.sante100 if entry is not None else None
        regulatory = config.responsable_caps.get(sante100) if sante100 is not None else None
        if regulatory is not None:
            ceiling = (regulatory.times(amounts.quantity) - amounts.amo_gross).clamp_min_zero()
            if cap > ceiling:
                cap = ceiling
                parts.append(
                    (f"plafond {regulatory.fr()} AMO comprise", f"ceiling {regulatory.en()} incl. AMO")
                )
        if cap < tm:
            cap = tm
            parts.append(_FLOOR)
        plv = entry.plv if entry is not None else None
        if (
            sante100 in config.rac0_classes
            and (plv is None or amounts.unit_price <= plv)
            and cap != remaining
        ):
            cap = remaining
            parts.append(_RAC_ZERO)
    amount = (cap if cap < remaining else remaining).clamp_min_zero()
    consumed = _ZERO
    if forfait_part > _ZERO:
        above_tm = (amount - tm).clamp_min_zero()
        consumed = forfait_part if forfait_part < above_tm else above_tm
    return AmcShare(
        amount=amount,
        consumed=consumed,
        basis=Note(fr=", ".join(fr for fr, _ in parts), en=", ".join(en for _, en in parts)),
    )


_Words = tuple[str, str]  # (French, English)
_NO_GUARANTEE: _Words = ("aucune garantie", "no guarantee")
_RENEWAL_PENDING: _Words = ("renouvellement non échu", "renewal period not elapsed")
_FLOOR: _Words = ("ticket modérateur (contrat responsable)", "ticket modérateur (contrat responsable)")
_RAC_ZERO: _Words = ("100 % Santé", "100 % Santé")


def _guarantee_cap(
    guarantee: Guarantee, amounts: LineAmounts, remaining: Money, forfait_left: Money
) -> tuple[Money, Money, list[_Words]]:
    """(cap, forfait euros inside it, wording) for the guarantee."""
    kind, br, tm = guarantee.kind, amounts.eligible, amounts.ticket_moderateur
    forfait_part = _ZERO
    wording = [_wording(guarantee)]
    if kind is GuaranteeKind.PERCENT_BR_INCL_AMO:
        cap = (br.percent(guarantee.percent or 0) - amounts.amo_gross).clamp_min_zero()
    elif kind is GuaranteeKind.PERCENT_BR_EXCL_AMO:
        cap = br.percent(guarantee.percent or 0)
    elif kind is GuaranteeKind.FORFAIT:
        depassement = (amounts.price - br).clamp_min_zero()
        forfait_part = forfait_left if forfait_left < depassement else depassement
        cap = tm + forfait_part
        wording.append((f"solde {forfait_left.fr()}", f"balance {forfait_left.en()}"))
    elif kind is GuaranteeKind.FRAIS_REELS:
        cap = remaining
    else:
        cap = tm
    if guarantee.supplement_per_unit is not None:
        cap = cap + guarantee.supplement_per_unit.times(amounts.quantity)
    if guarantee.max_per_unit is not None:
        ceiling = guarantee.max_per_unit.times(amounts.quantity)
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
    else:
        fr, en = "ticket modérateur", "ticket modérateur"
    if guarantee.supplement_per_unit is not None:
        supplement = guarantee.supplement_per_unit
        fr, en = f"{fr} + {supplement.fr()} par unité", f"{en} + {supplement.en()} per unit"
    return fr, en
