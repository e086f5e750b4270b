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


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class DeliveryRecord:
    """One paid delivery: who, what, when (tariff reference date), how many, from whom, and
    for a per-ear device the ear (``left`` or ``right``) when the claim named it."""

    nir: Nir
    code: LppCode
    day: date
    quantity: int
    provider: str
    submission: str
    prescription: str | None = None
    ear: str | None = None

    def __init__(
        self,
        *,
        nir: Nir,
        code: LppCode,
        day: date,
        quantity: int,
        provider: str,
        submission: str,
        prescription: str | None = None,
        ear: str | None = None,
    ) -> None:
        # The AMO writes one per paid line: straight through the slots, as the generated
        # __init__ of a frozen dataclass would through object.__setattr__, at half the cost.
        _SET_NIR(self, nir)
        _SET_CODE(self, code)
        _SET_DAY(self, day)
        _SET_QUANTITY(self, quantity)
        _SET_PROVIDER(self, provider)
        _SET_SUBMISSION(self, submission)
        _SET_PRESCRIPTION(self, prescription)
        _SET_EAR(self, ear)

    @property
    def months(self) -> range:
        """The calendar months a telemonitoring forfait covers (one per unit)."""
        first = month_index(self.day)
        return range(first, first + self.quantity)


(
    _SET_NIR,
    _SET_CODE,
    _SET_DAY,
    _SET_QUANTITY,
    _SET_PROVIDER,
    _SET_SUBMISSION,
    _SET_PRESCRIPTION,
    _SET_EAR,
) = (
    DeliveryRecord.__dict__[name].__set__
    for name in ("nir", "code", "day", "quantity", "provider", "submission", "prescription", "ear")
)


class DeliveryLog:
    """A beneficiary's deliveries during one adjudication: the history plus accepted lines.

    Each record is indexed once, when it joins the log, by what the checks ask about (cap
    group, forfait kind, prescription, code and day), so no check scans the whole history.
    """

    __slots__ = (
        "_by_code",
        "_ears",
        "_first_day",
        "_groups",
        "_months",
        "_pecan",
        "_providers",
        "_seen",
        "_table",
        "added",
    )

    def __init__(self, history: Iterable[DeliveryRecord], table: LppTable) -> None:
        self._table = table
        self._seen: dict[tuple[str, date, str], set[str | None]] = {}
        self._groups: dict[str, list[tuple[date, int]]] = {}
        self._ears: dict[tuple[str, str], list[tuple[date, int]]] = {}
        self._months: dict[Telemonitoring, set[int]] = {}
        self._first_day: dict[str | None, date] = {}
        self._by_code: dict[tuple[str, str], list[tuple[date, str | None]]] = {}
        self._providers: dict[str, list[tuple[date, str, str | None]]] = {}
        self._pecan: dict[str, list[DeliveryRecord]] = {}
        self.added: list[DeliveryRecord] = []
        for record in history:
            self._index(record)

    def _index(self, record: DeliveryRecord) -> None:
        code, day = record.code, record.day
        self._seen.setdefault((code.value, day, record.provider), set()).add(record.ear)
        group = self._table.cap_group(code)
        units = self._groups.get(group)
        if units is None:
            self._groups[group] = [(day, record.quantity)]
        else:
            units.append((day, record.quantity))
        self._by_code.setdefault((code.value, record.provider), []).append((day, record.ear))
        self._providers.setdefault(group, []).append((day, record.provider, record.ear))
        if self._table.pecan(code) is not None:
            self._pecan.setdefault(group, []).append(record)
        if record.ear is not None:
            self._ears.setdefault((group, record.ear), []).append((day, record.quantity))
        kind = self._table.telemonitoring(code)
        if kind is not None:
            self._months.setdefault(kind, set()).update(record.months)
        first = self._first_day.get(record.prescription)
        if first is None or day < first:
            self._first_day[record.prescription] = day

    def add(self, record: DeliveryRecord) -> None:
        self._index(record)
        self.added.append(record)

    def is_duplicate(self, code: LppCode, day: date, provider: str, ear: str | None = None) -> bool:
        """Same code, day and provider already paid; for a per-ear device, for the same ear
        (a record or a line without its ear matches either ear)."""
        ears = self._seen.get((code.value, day, provider))
        if ears is None:
            return False
        return ear is None or None in ears or ear in ears

    def units_in_year(self, cap_group: str, year: int) -> int:
        return sum(units for day, units in self._groups.get(cap_group, ()) if day.year == year)

    def units_within(self, cap_group: str, day: date, months: int) -> int:
        """Units of ``cap_group`` delivered less than ``months`` before or after ``day``."""
        start, end = add_months(day, -months), add_months(day, months)
        return sum(units for when, units in self._groups.get(cap_group, ()) if start < when < end)

    def ear_units_within(self, cap_group: str, ear: str, day: date, months: int) -> int:
        """Units of ``cap_group`` fitted to ``ear`` less than ``months`` before or after ``day``."""
        start, end = add_months(day, -months), add_months(day, months)
        return sum(units for when, units in self._ears.get((cap_group, ear), ()) if start < when < end)

    def near_day(
        self, code: LppCode, provider: str, day: date, days: int, ear: str | None = None
    ) -> date | None:
        """Another day, at most ``days`` away from ``day`` (not ``day`` itself), on which
        ``provider`` delivered ``code``: the nearest, or None. For a per-ear device fitted to
        ``ear``, a delivery to the other ear is another device (one without its ear matches)."""
        near = [
            when
            for when, fitted in self._by_code.get((code.value, provider), ())
            if when != day
            and abs((when - day).days) <= days
            and (ear is None or fitted is None or fitted == ear)
        ]
        return min(near, key=lambda when: (abs((when - day).days), when)) if near else None

    def other_provider_within(
        self, cap_group: str, provider: str, day: date, months: int, ear: str | None = None
    ) -> date | None:
        """The latest delivery of ``cap_group`` by another provider less than ``months``
        before or after ``day``, or None; given ``ear``, only the deliveries to that ear."""
        start, end = add_months(day, -months), add_months(day, months)
        found = [
            when
            for when, other, fitted in self._providers.get(cap_group, ())
            if other != provider and start < when < end and (ear is None or fitted == ear)
        ]
        return max(found) if found else None

    def pecan_records(self, cap_group: str) -> list[DeliveryRecord]:
        """The PECAN forfaits of ``cap_group`` (one digital device), in delivery order."""
        return sorted(self._pecan.get(cap_group, ()), key=lambda record: record.day)

    def forfait_months(self, kind: Telemonitoring) -> set[int]:
        return set(self._months.get(kind, ()))

    def forfait_billed(self, kind: Telemonitoring, months: range) -> bool:
        """True when a ``kind`` forfait was already billed for one of ``months``."""
        taken = self._months.get(kind)
        return taken is not None and not taken.isdisjoint(months)

    def delivered_before(self, prescription: str, day: date) -> bool:
        """True when the prescription was already delivered before ``day`` (not a first)."""
        first = self._first_day.get(prescription)
        return first is not None and first < day
