"""The LPP table: one row per code and validity period (successive tariffs are successive rows).

The tariff in force on the delivery date applies (B2: the tariff reference date is the
execution date), so lookups are always by code *and* day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum

from adapter.domain.device import DeviceStatus
from adapter.domain.values import LppCode, Money

__all__ = ["TITRES", "CodeKind", "LppEntry", "LppTable", "TableVersion", "Telemonitoring", "table_version"]

TITRES = ("I", "II", "III", "IV", "V")


class CodeKind(StrEnum):
    """Individual (manufacturer or brand) code, or a generic line shared by many products."""

    INDIVIDUAL = "individual"
    GENERIC = "generic"


class Telemonitoring(StrEnum):
    """The two monthly telemonitoring forfaits: the doctor's and the exploitant's."""

    OPERATOR = "operator"
    TECHNICAL = "technical"


@dataclass(frozen=True, slots=True, kw_only=True)
class LppEntry:
    """One row of the LPP table: a code's attributes during ``valid_from``–``valid_to``.

    ``tarif`` is the BR per unit. ``titre`` is empty for LATM telemonitoring forfaits,
    billed like LPP items without belonging to a titre. ``cap_group`` pools codes for
    yearly caps and renewals (a classe I and a classe II hearing aid are the same renewal);
    ``renewal_quantity`` units may be delivered per ``renewal_months`` (2 for hearing aids:
    one per ear), and ``renewal_per_ear`` of them per ear when the code is fitted per ear.
    ``rental_unit`` (``week`` or ``month``) is the period one unit of a rental pays for.
    ``optics_class`` places an optics code under the contrat-responsable floors and ceilings
    (``frame``, ``simple``, ``complex``, ``very-complex``); ``usual_quantity`` is the quantity
    per line above which a line is unusual (fraud control); ``pecan`` marks a PECAN forfait
    (``first-period`` or ``monthly``).
    """

    code: LppCode
    label: str
    valid_from: date
    tarif: Money
    category: str
    kind: CodeKind
    cap_group: str
    source: str
    valid_to: date | None = None
    titre: str = ""
    plv: Money | None = None
    deactivated_on: date | None = None
    entente_prealable: bool = False
    max_per_delivery: int | None = None
    max_per_year: int | None = None
    renewal_months: int | None = None
    renewal_quantity: int = 1
    age_min: int | None = None
    age_max: int | None = None
    sante100: str | None = None
    telemonitoring: Telemonitoring | None = None
    renewal_per_ear: int | None = None
    rental_unit: str | None = None
    optics_class: str | None = None
    usual_quantity: int | None = None
    pecan: str | None = None

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def deactivated(self, day: date) -> bool:
        """True for a generic line no longer billable on ``day`` (individual coding reform)."""
        return (
            self.kind is CodeKind.GENERIC and self.deactivated_on is not None and day >= self.deactivated_on
        )

    def status(self, day: date) -> DeviceStatus:
        """The row as plain values, seen on ``day`` (which decides ``deactivated``)."""
        return DeviceStatus(
            code=self.code.value,
            label=self.label,
            day=day,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            tarif=self.tarif,
            plv=self.plv,
            titre=self.titre,
            category=self.category,
            kind=self.kind.value,
            deactivated_on=self.deactivated_on,
            deactivated=self.deactivated(day),
            entente_prealable=self.entente_prealable,
            max_per_delivery=self.max_per_delivery,
            max_per_year=self.max_per_year,
            renewal_months=self.renewal_months,
            renewal_quantity=self.renewal_quantity,
            age_min=self.age_min,
            age_max=self.age_max,
            sante100=self.sante100,
            telemonitoring=None if self.telemonitoring is None else self.telemonitoring.value,
            source=self.source,
            renewal_per_ear=self.renewal_per_ear,
            rental_unit=self.rental_unit,
            optics_class=self.optics_class,
            usual_quantity=self.usual_quantity,
            pecan=self.pecan,
        )

    def overlaps(self, other: LppEntry) -> bool:
        ends_before = self.valid_to is not None and self.valid_to < other.valid_from
        starts_after = other.valid_to is not None and other.valid_to < self.valid_from
        return not (ends_before or starts_after)


class LppTable:
    """The loaded LPP table, indexed by code; periods of one code never overlap."""

    __slots__ = ("_by_code", "_by_value", "_forfaits", "_groups", "_pecan", "source")

    def __init__(self, entries: Iterable[LppEntry], *, source: str = "") -> None:
        by_code: dict[LppCode, list[LppEntry]] = {}
        for entry in entries:
            rows = by_code.setdefault(entry.code, [])
            for row in rows:
                if row.overlaps(entry):
                    raise ValueError(f"LPP code {entry.code} has overlapping validity periods")
            rows.append(entry)
        self._by_code = {
            code: tuple(sorted(rows, key=lambda row: row.valid_from)) for code, rows in by_code.items()
        }
        # The engines look codes up several times per line: keyed by the code's string, a
        # lookup skips hashing the LppCode dataclass (a Python-level __hash__).
        self._by_value = {code.value: rows for code, rows in self._by_code.items()}
        self._groups = {code.value: rows[-1].cap_group for code, rows in self._by_code.items()}
        self._forfaits = {code.value: rows[-1].telemonitoring for code, rows in self._by_code.items()}
        self._pecan = {code.value: rows[-1].pecan for code, rows in self._by_code.items()}
        self.source = source

    def lookup(self, code: LppCode, day: date) -> LppEntry | None:
        """The row in force for ``code`` on ``day``, or None."""
        for row in self._by_value.get(code.value, ()):
            if row.valid_from <= day and (row.valid_to is None or day <= row.valid_to):
                return row
        return None

    def cap_group(self, code: LppCode) -> str:
        """The code's current cap group (its latest row's), or the code itself if unlisted.

        History is matched through the current table, so regrouping codes applies to past
        deliveries too.
        """
        return self._groups.get(code.value) or code.value

    def telemonitoring(self, code: LppCode) -> Telemonitoring | None:
        return self._forfaits.get(code.value)

    def pecan(self, code: LppCode) -> str | None:
        """The code's PECAN forfait kind (``first-period`` or ``monthly``), from its latest row."""
        return self._pecan.get(code.value)

    def row(self, code: str, valid_from: date) -> LppEntry | None:
        """The row of ``code`` (its text) starting on ``valid_from``, or None."""
        for row in self._by_value.get(code, ()):
            if row.valid_from == valid_from:
                return row
        return None

    def rows(self, code: LppCode) -> tuple[LppEntry, ...]:
        return self._by_code.get(code, ())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[LppEntry]:
        for rows in self._by_code.values():
            yield from rows

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._by_code.values())


@dataclass(frozen=True, slots=True)
class TableVersion:
    """Which LPP table is loaded: ``digest`` hashes every row's values (the same rows give the
    same digest, whatever the file's name, order or formatting); ``newest`` is the latest
    ``valid_from`` of any row, the day the table last changed what it says."""

    digest: str
    newest: date


def table_version(table: LppTable) -> TableVersion:
    """The table's :class:`TableVersion` (computed once by whoever holds the table)."""
    names = [field.name for field in fields(LppEntry)]
    lines = sorted("\x1f".join(str(getattr(row, name)) for name in names) for row in table)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return TableVersion(digest=digest, newest=max((row.valid_from for row in table), default=date.min))
