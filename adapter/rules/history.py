"""Delivery history: what was already paid to a beneficiary, as the integrity checks need it.

The engines receive the beneficiary's past records as data, add the lines they accept as
they go (so a request is checked against itself too), and hand back the new records; the
gateway stores them. Only lines the AMO paid on a ``claim`` become records. A record keeps
the code only: cap groups and forfait kinds are read from the current LPP table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from adapter.domain.request import Prescription
from adapter.domain.values import LppCode, Nir
from adapter.rules.dates import add_months, month_index
from adapter.rules.lpp import LppTable, Telemonitoring

__all__ = ["DeliveryLog", "DeliveryRecord", "prescription_key"]


def prescription_key(prescription: Prescription) -> str:
    """Identify a prescription across claims: its identifier, else prescriber + date."""
    if prescription.identifier is not None:
        return f"{prescription.identifier.system}|{prescription.identifier.value}"
    return f"{prescription.prescriber.identifier}|{prescription.authored_on.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecord:
    """One paid delivery: who, what, when (tariff reference date), how many, from whom."""

    nir: Nir
    code: LppCode
    day: date
    quantity: int
    provider: str
    submission: str
    prescription: str | None = None

    @property
    def months(self) -> range:
        """The calendar months a telemonitoring forfait covers (one per unit)."""
        first = month_index(self.day)
        return range(first, first + self.quantity)


class DeliveryLog:
    """A beneficiary's deliveries during one adjudication: the history plus accepted lines."""

    __slots__ = ("_records", "_table", "added")

    def __init__(self, history: Iterable[DeliveryRecord], table: LppTable) -> None:
        self._records: list[DeliveryRecord] = list(history)
        self._table = table
        self.added: list[DeliveryRecord] = []

    def add(self, record: DeliveryRecord) -> None:
        self._records.append(record)
        self.added.append(record)

    def is_duplicate(self, code: LppCode, day: date, provider: str) -> bool:
        return any(r.code == code and r.day == day and r.provider == provider for r in self._records)

    def units_in_year(self, cap_group: str, year: int) -> int:
        group_of = self._table.cap_group
        return sum(r.quantity for r in self._records if r.day.year == year and group_of(r.code) == cap_group)

    def units_within(self, cap_group: str, day: date, months: int) -> int:
        """Units of ``cap_group`` delivered less than ``months`` before or after ``day``."""
        start, end = add_months(day, -months), add_months(day, months)
        group_of = self._table.cap_group
        return sum(r.quantity for r in self._records if start < r.day < end and group_of(r.code) == cap_group)

    def forfait_months(self, kind: Telemonitoring) -> set[int]:
        months: set[int] = set()
        for record in self._records:
            if self._table.telemonitoring(record.code) is kind:
                months.update(record.months)
        return months

    def delivered_before(self, prescription: str, day: date) -> bool:
        """True when the prescription was already delivered before ``day`` (not a first)."""
        return any(r.prescription == prescription and r.day < day for r in self._records)
