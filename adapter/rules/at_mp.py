"""AT/MP: LPP devices covered above the tariff, within the price paid (domain-fr §1.3).

For a work accident or an occupational disease the AMO covers an LPP device at 150 % of its
tariff instead of 100 %, limited to the actual cost (frais réels), when the code has no PLV
or a PLV above the tariff (L.432-3 CSS as amended by LFSS 2009; ameli, pharmacists' page on
AT/MP). Where the PLV equals the tariff the price cannot exceed the tariff, so 100 % applies.
"""

from __future__ import annotations

from decimal import Decimal

from adapter.domain.values import Money
from adapter.rules.lpp import LppEntry

__all__ = ["above_tariff_rate", "within_price", "wording"]


def above_tariff_rate(entry: LppEntry, base: Decimal, above: Decimal | None) -> Decimal:
    """The taux for ``entry``: ``above`` (150) where the code's price may exceed its tariff."""
    if above is None:
        return base
    plv = entry.plv
    if plv is None or plv.amount > entry.tarif.amount:
        return above
    return base


def within_price(gross: Money, price: Money) -> Money:
    """The AMO's share limited to the price actually paid."""
    return price if gross.amount > price.amount else gross


def wording(rate: Decimal, limited: bool) -> tuple[str, str]:
    """The note's addition: why the share may exceed the BR, and whether the price limited it."""
    fr = "AT/MP : prise en charge au-delà du tarif dans la limite des frais réels"
    en = "AT/MP: cover above the tariff within the actual cost"
    if limited:
        fr, en = fr + ", limitée au prix facturé", en + ", limited to the billed price"
    return fr, en
