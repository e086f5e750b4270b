"""Rentals across a tariff change: each billed unit at the tariff of its own date.

A rental is billed in units of the code's ``rental_unit`` (a week or a month) from the
rental's start; the LPP table's successive rows give each unit the tariff in force on the
day the unit starts. Without a ``rental_unit``, or when every unit falls in one row, the
whole line is priced at the start date's tariff, as for a purchase.
"""

from __future__ import annotations

from datetime import date, timedelta

from adapter.domain.request import Line
from adapter.domain.values import Money
from adapter.rules.dates import add_months
from adapter.rules.lpp import LppEntry, LppTable

__all__ = ["RentalPricing", "rental_pricing", "unit_days"]


def unit_days(start: date, unit: str, count: int) -> list[date]:
    """The first day of each of ``count`` units (``week`` or ``month``) from ``start``."""
    if unit == "week":
        return [start + timedelta(weeks=index) for index in range(count)]
    return [add_months(start, index) for index in range(count)]


class RentalPricing:
    """A rental line's tariffed amount summed unit by unit, and the rows that priced it."""

    __slots__ = ("missing", "parts", "total")

    def __init__(self, parts: list[tuple[LppEntry, int]], total: Money, missing: date | None) -> None:
        self.parts = parts
        self.total = total
        self.missing = missing

    def wording(self) -> tuple[str, str]:
        """``2 × 20,00 € + 2 × 18,50 €``: the units per tariff, in French and in English."""
        fr = " + ".join(f"{count} × {entry.tarif.fr()}" for entry, count in self.parts)
        en = " + ".join(f"{count} × {entry.tarif.en()}" for entry, count in self.parts)
        return f"tarif par période : {fr}", f"tariff per period: {en}"


def rental_pricing(line: Line, entry: LppEntry, table: LppTable) -> RentalPricing | None:
    """The unit-by-unit pricing of a rental line that spans more than one tariff, else None.

    ``missing`` is the first unit's day on which the code is not listed (the line is then
    refused as unknown on that day).
    """
    if line.rental is None or entry.rental_unit is None or line.quantity == 1:
        return None
    rows = table.rows(entry.code)
    if len(rows) < 2:
        return None
    days = unit_days(line.rental.start, entry.rental_unit, line.quantity)
    parts: list[tuple[LppEntry, int]] = []
    total = Money.zero()
    for day in days:
        row = table.lookup(entry.code, day)
        if row is None:
            return RentalPricing(parts, total, day)
        if parts and parts[-1][0] is row:
            parts[-1] = (row, parts[-1][1] + 1)
        else:
            parts.append((row, 1))
        total = total + row.tarif
    if len(parts) == 1:
        return None
    return RentalPricing(parts, total, None)
