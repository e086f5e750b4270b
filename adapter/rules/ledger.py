"""The AMC ledger: what each guarantee already paid, per beneficiary, contract and year.

Yearly euro forfaits are consumed per calendar year of the care (the tariff reference
date); guarantees with a renewal period count the units they paid. The AMC engine reads the
beneficiary's entries, appends its own as it goes, and returns the new entries for the
gateway to store; a predetermination returns none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from adapter.domain.values import Money, Nir
from adapter.rules.dates import add_months

__all__ = ["Ledger", "LedgerEntry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One use of a guarantee: euros of forfait consumed and units paid, on a care day."""

    nir: Nir
    contract_id: str
    guarantee_id: str
    day: date
    consumed: Money
    units: int
    submission: str

    @property
    def year(self) -> int:
        return self.day.year


class Ledger:
    """A beneficiary's ledger during one adjudication: stored entries plus new ones."""

    __slots__ = ("_entries", "added")

    def __init__(self, entries: Iterable[LedgerEntry]) -> None:
        self._entries: list[LedgerEntry] = list(entries)
        self.added: list[LedgerEntry] = []

    def add(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)
        self.added.append(entry)

    def consumed(self, contract_id: str, guarantee_id: str, year: int) -> Money:
        total = Money.zero()
        for entry in self._entries:
            if entry.contract_id == contract_id and entry.guarantee_id == guarantee_id and entry.year == year:
                total = total + entry.consumed
        return total

    def remaining(self, contract_id: str, guarantee_id: str, year: int, budget: Money) -> Money:
        """What is left of a yearly ``budget``; never negative."""
        return (budget - self.consumed(contract_id, guarantee_id, year)).clamp_min_zero()

    def units_within(self, contract_id: str, guarantee_id: str, day: date, months: int) -> int:
        """Units the guarantee paid less than ``months`` before or after ``day``."""
        start, end = add_months(day, -months), add_months(day, months)
        return sum(
            entry.units
            for entry in self._entries
            if entry.contract_id == contract_id
            and entry.guarantee_id == guarantee_id
            and start < entry.day < end
        )
