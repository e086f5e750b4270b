"""Read the LPP table from CSV (format: ``docs/reference-data.md``).

Strict on purpose: a tariff typed ``12,35`` or a date typed ``1/7/2021`` would silently
change what patients are paid, so any malformed cell refuses the whole file, naming the
file, the line and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from adapter.domain.values import LppCode, Money
from adapter.errors import InvalidValueError
from adapter.rules.loading import DEMO_LPP_TABLE, ReferenceDataFormatError, read_source
from adapter.rules.lpp import TITRES, CodeKind, LppEntry, LppTable, Telemonitoring

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "load_lpp_table", "parse_lpp_table"]


class _CellError(Exception):
    """A cell's value is wrong; the loader adds file, line and column."""


def _text(value: str) -> str:
    return value.strip()


def _code(value: str) -> LppCode:
    try:
        return LppCode(value)
    except InvalidValueError:
        raise _CellError(f"{value!r} is not an LPP code (7 digits or upper-case letters)") from None


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _CellError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _money(value: str) -> Money:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _CellError(f"{value!r} is not an amount (digits, '.' for decimals)") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise _CellError(f"{value!r} is not a non-negative amount in cents (at most 2 decimals)")
    return Money.exact(amount)


def _count(value: str) -> int:
    if not value.isdigit():
        raise _CellError(f"{value!r} is not a whole number")
    return int(value)


def _positive(value: str) -> int:
    number = _count(value)
    if number < 1:
        raise _CellError(f"{value!r} must be at least 1")
    return number


def _flag(value: str) -> bool:
    if value not in ("yes", "no"):
        raise _CellError(f"{value!r} is not 'yes' or 'no'")
    return value == "yes"


def _titre(value: str) -> str:
    if value not in TITRES:
        raise _CellError(f"{value!r} is not an LPP titre ({', '.join(TITRES)})")
    return value


def _kind(value: str) -> CodeKind:
    try:
        return CodeKind(value)
    except ValueError:
        raise _CellError(f"{value!r} is not 'individual' or 'generic'") from None


def _telemonitoring(value: str) -> Telemonitoring:
    try:
        return Telemonitoring(value)
    except ValueError:
        raise _CellError(f"{value!r} is not 'operator' or 'technical'") from None


def _slug(value: str) -> str:
    if not value or not all(c.isalnum() or c in "-_" for c in value) or value != value.lower():
        raise _CellError(f"{value!r} is not a lower-case identifier (letters, digits, '-')")
    return value


def _rental_unit(value: str) -> str:
    if value not in ("week", "month"):
        raise _CellError(f"{value!r} is not a rental unit ('week' or 'month')")
    return value


def _sante100(value: str) -> str:
    if value not in ("I", "II", "A", "B"):
        raise _CellError(f"{value!r} is not a 100 % Santé class (I, II, A, B)")
    return value


_OPTICS_CLASSES = ("frame", "simple", "complex", "very-complex")
_PECAN_KINDS = ("first-period", "monthly")


def _optics_class(value: str) -> str:
    if value not in _OPTICS_CLASSES:
        raise _CellError(f"{value!r} is not an optics class ({', '.join(_OPTICS_CLASSES)})")
    return value


def _pecan(value: str) -> str:
    if value not in _PECAN_KINDS:
        raise _CellError(f"{value!r} is not a PECAN forfait ({', '.join(_PECAN_KINDS)})")
    return value


_Parser = Callable[[str], Any]

# column → (parser, field name, required)
COLUMNS: dict[str, tuple[_Parser, str, bool]] = {
    "code": (_code, "code", True),
    "label": (_text, "label", True),
    "valid_from": (_date, "valid_from", True),
    "valid_to": (_date, "valid_to", False),
    "tarif": (_money, "tarif", True),
    "plv": (_money, "plv", False),
    "titre": (_titre, "titre", False),
    "category": (_slug, "category", True),
    "kind": (_kind, "kind", True),
    "deactivated_on": (_date, "deactivated_on", False),
    "entente_prealable": (_flag, "entente_prealable", False),
    "max_per_delivery": (_positive, "max_per_delivery", False),
    "max_per_year": (_positive, "max_per_year", False),
    "cap_group": (_slug, "cap_group", False),
    "renewal_months": (_positive, "renewal_months", False),
    "renewal_quantity": (_positive, "renewal_quantity", False),
    "age_min": (_count, "age_min", False),
    "age_max": (_count, "age_max", False),
    "sante100": (_sante100, "sante100", False),
    "telemonitoring": (_telemonitoring, "telemonitoring", False),
    "source": (_text, "source", True),
    "renewal_per_ear": (_positive, "renewal_per_ear", False),
    "rental_unit": (_rental_unit, "rental_unit", False),
    "optics_class": (_optics_class, "optics_class", False),
    "usual_quantity": (_positive, "usual_quantity", False),
    "pecan": (_pecan, "pecan", False),
}
REQUIRED_COLUMNS = tuple(name for name, (_, _, required) in COLUMNS.items() if required)


def load_lpp_table(path: str | Path | None = None) -> LppTable:
    """Load the LPP table at ``path`` (``ADAPTER_LPP_TABLE``), or the packaged demo table."""
    name, text = read_source(path, DEMO_LPP_TABLE)
    return parse_lpp_table(text, source=name)


def parse_lpp_table(text: str, *, source: str) -> LppTable:
    """Parse CSV text; ``source`` names the file in error messages."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise ReferenceDataFormatError(source, 1, None, "the file is empty") from None
    _check_header(header, source)
    entries: list[tuple[int, LppEntry]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) < len(header) and all(not COLUMNS[name][2] for name in header[len(row) :]):
                row = row + [""] * (len(header) - len(row))  # optional trailing cells left out
            if len(row) != len(header):
                raise ReferenceDataFormatError(
                    source, line, None, f"{len(row)} cells where the header has {len(header)}"
                )
            entry = _entry(dict(zip(header, row, strict=True)), header, source, line)
            _check_overlap(entry, entries, source, line)
            entries.append((line, entry))
    except csv.Error as error:
        raise ReferenceDataFormatError(source, reader.line_num, None, str(error)) from None
    if not entries:
        raise ReferenceDataFormatError(source, 1, None, "the table has no rows")
    return LppTable((entry for _, entry in entries), source=source)


def _check_header(header: list[str], source: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if name not in COLUMNS:
            raise ReferenceDataFormatError(
                source,
                1,
                name,
                f"unknown column (position {index}); expected some of " + ", ".join(COLUMNS),
            )
        if name in seen:
            raise ReferenceDataFormatError(source, 1, name, "the column appears twice")
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            raise ReferenceDataFormatError(source, 1, name, "required column missing")


def _entry(cells: dict[str, str], header: list[str], source: str, line: int) -> LppEntry:
    values: dict[str, Any] = {}
    for name in header:
        parser, field, required = COLUMNS[name]
        raw = cells[name].strip()
        if not raw:
            if required:
                raise ReferenceDataFormatError(source, line, name, "a value is required")
            continue
        try:
            values[field] = parser(raw)
        except _CellError as error:
            raise ReferenceDataFormatError(source, line, name, str(error)) from None
    values.setdefault("cap_group", str(values["code"]))
    _check_row(values, source, line)
    return LppEntry(**values)


def _check_row(values: dict[str, Any], source: str, line: int) -> None:
    def fail(column: str, problem: str) -> None:
        raise ReferenceDataFormatError(source, line, column, problem)

    valid_to = values.get("valid_to")
    if valid_to is not None and valid_to < values["valid_from"]:
        fail("valid_to", "the validity ends before it starts")
    plv = values.get("plv")
    if plv is not None and plv < values["tarif"]:
        fail("plv", "the PLV is below the tarif (BR)")
    if "deactivated_on" in values and values["kind"] is not CodeKind.GENERIC:
        fail("deactivated_on", "only generic codes are deactivated (use valid_to otherwise)")
    if "renewal_quantity" in values and "renewal_months" not in values:
        fail("renewal_quantity", "renewal_quantity needs renewal_months")
    if "renewal_per_ear" in values and "renewal_months" not in values:
        fail("renewal_per_ear", "renewal_per_ear needs renewal_months")
    age_min, age_max = values.get("age_min"), values.get("age_max")
    if age_min is not None and age_max is not None and age_max < age_min:
        fail("age_max", "age_max is below age_min")


def _check_overlap(entry: LppEntry, earlier: list[tuple[int, LppEntry]], source: str, line: int) -> None:
    for other_line, other in earlier:
        if other.code == entry.code and other.overlaps(entry):
            raise ReferenceDataFormatError(
                source,
                line,
                "valid_from",
                f"code {entry.code} overlaps the validity of line {other_line}",
            )
