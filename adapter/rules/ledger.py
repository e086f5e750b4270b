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
    """One use of a guarantee: euros of forfait consumed and units paid, on a care day, and
    the ear of a per-ear device when the claim named it."""

    nir: Nir
    contract_id: str
    guarantee_id: str
    day: date
    consumed: Money
    units: int
    submission: str
    ear: str | None = None

    @property
    def year(self) -> int:
        return self.day.year


class Ledger:
    """A beneficiary's ledger during one adjudication: stored entries plus new ones.

    Entries are grouped by contract and guarantee as they join, so a query reads only the
    guarantee's own entries.
    """

    __slots__ = ("_by_guarantee", "added")

    def __init__(self, entries: Iterable[LedgerEntry]) -> None:
        self._by_guarantee: dict[tuple[str, str], list[LedgerEntry]] = {}
        self.added: list[LedgerEntry] = []
        for entry in entries:
            self._index(entry)

    def _index(self, entry: LedgerEntry) -> None:
        key = (entry.contract_id, entry.guarantee_id)
        entries = self._by_guarantee.get(key)
        if entries is None:
            self._by_guarantee[key] = [entry]
        else:
            entries.append(entry)

    def add(self, entry: LedgerEntry) -> None:
        self._index(entry)
        self.added.append(entry)

    def consumed(self, contract_id: str, guarantee_id: str, year: int) -> Money:
        total = Money.zero()
        for entry in self._by_guarantee.get((contract_id, guarantee_id), ()):
            if entry.year == year:
                total = total + entry.consumed
        return total

    def remaining(self, contract_id: str, guarantee_id: str, year: int, budget: Money) -> Money:
        """What is left of a yearly ``budget``; never negative."""
        return (budget - self.consumed(contract_id, guarantee_id, year)).clamp_min_zero()

    def units_within(
        self, contract_id: str, guarantee_id: str, day: date, months: int, ear: str | None = None
    ) -> int:
        """Units the guarantee paid less than ``months`` before or after ``day`` (for ``ear``
        only, when given)."""
        entries = self._by_guarantee.get((contract_id, guarantee_id))
        if not entries:
            return 0
        start, end = add_months(day, -months), add_months(day, months)
        return sum(
            entry.units for entry in entries if start < entry.day < end and (ear is None or entry.ear == ear)
        )
