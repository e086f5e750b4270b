"""The submission reader: the Bundle's entries indexed for reference resolution, and readers
of the datatypes as the conventions want them (full dates, dateTimes with a zone, EUR amounts).

It is an ``IssueReader``: readers never raise on bad input, they record an issue with the
element's FHIRPath and return None, so one pass reports every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from adapter.errors import InvalidValueError
from mappings.fhir import IssueReader, to_decimal
from mappings.systems import Canon

__all__ = ["MAX_AMOUNT", "BundleReader", "Entry"]

T = TypeVar("T")

_TYPE_ID = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_AMOUNT = Decimal("999999999.99")
"""The largest amount read from a submission (in EUR). Far above any device claim, it keeps
every sum, product and stored cent count within exact range."""


class Entry:
    """One Bundle entry: its index, fullUrl and resource, and the FHIRPath of the resource."""

    __slots__ = ("full_url", "index", "path", "resource", "type")

    def __init__(self, index: int, full_url: str | None, resource: Mapping[str, Any]) -> None:
        self.index = index
        self.full_url = full_url
        self.resource = resource
        self.type = str(resource.get("resourceType"))
        self.path = f"Bundle.entry[{index}].resource"


class BundleReader(IssueReader):
    """Issue sink (one error per code and element) plus Bundle index for one read."""

    def __init__(self, canon: Canon) -> None:
        super().__init__(once_per_element=True)
        self.canon = canon
        self.entries: list[Entry] = []
        self._by_url: dict[str, Entry] = {}
        self._by_type_id: dict[tuple[str, str], Entry] = {}

    def value(self, build: type[T], raw: Any, path: str) -> T | None:
        """Build a value object, turning its refusal (or a missing value) into an issue at ``path``."""
        if not isinstance(raw, str):
            # A string of the wrong JSON kind was reported by the walk; a missing one is not
            # a FHIR error (an identifier may carry only a system), but the conventions need it.
            if raw is None:
                self.error("element-required", "a value is required here", path)
            return None
        try:
            return build(raw)  # type: ignore[call-arg]
        except InvalidValueError as exc:
            self.error(exc.code, exc.message, path)
            return None

    # -- index --------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        if entry.full_url is not None:
            self._by_url.setdefault(entry.full_url, entry)
        rid = entry.resource.get("id")
        if isinstance(rid, str):
            self._by_type_id.setdefault((entry.type, rid), entry)

    def lookup(self, reference: Mapping[str, Any] | None) -> Entry | None:
        """The entry a Reference points to, or None (no issue recorded here)."""
        if not isinstance(reference, dict):
            return None
        target = reference.get("reference")
        if not isinstance(target, str):
            return None
        found = self._by_url.get(target)
        if found is not None:
            return found
        match = _TYPE_ID.search(target)
        if match is None or target.startswith("urn:"):
            return None
        found = self._by_type_id.get((match.group(1), match.group(2)))
        if found is not None:
            return found
        for entry in self.entries:
            if entry.full_url is not None and entry.full_url.endswith(f"/{match.group(1)}/{match.group(2)}"):
                return entry
        return None

    def follow(self, reference: Any, path: str, allowed: tuple[str, ...], what: str) -> Entry | None:
        """Resolve a Reference the conventions need, checking the narrower target types.

        Unresolved references and targets outside the FHIR-allowed types were already reported
        by the generic check; this adds the conventions' narrower rule.
        """
        if reference is None:
            return None
        entry = self.lookup(reference)
        if entry is None:
            if isinstance(reference, dict) and not isinstance(reference.get("reference"), str):
                # A logical reference (identifier or display only) is valid FHIR, so the
                # generic check let it pass; the conventions need the resource in the Bundle.
                self.error(
                    "reference-unresolved",
                    f"{what} must be a literal reference to an entry of this Bundle",
                    path,
                )
            return None
        if entry.type not in allowed:
            self.error(
                "reference-target-type",
                f"{what} must reference {' or '.join(allowed)}, not {entry.type}",
                f"{path}.reference",
            )
            return None
        return entry

    # -- datatypes ----------------------------------------------------------------------
    def date(self, raw: Any, path: str, what: str) -> date | None:
        """A full calendar date (FHIR allows partial dates; adjudication needs the day)."""
        if not isinstance(raw, str):
            return None
        if not _DATE.match(raw):
            self.error("date-invalid", f"{what} must be a full date (YYYY-MM-DD), got {raw!r}", path)
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error("date-invalid", f"{what}: {raw!r} is not a calendar date", path)
            return None

    def datetime(self, raw: Any, path: str, what: str) -> datetime | None:
        """A dateTime with time zone; a bare full date is read as midnight UTC."""
        if not isinstance(raw, str):
            return None
        if _DATE.match(raw):
            day = self.date(raw, path, what)
            return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            self.error("date-invalid", f"{what} must be a date or a dateTime with time zone", path)
            return None
        if value.tzinfo is None:
            self.error("date-invalid", f"{what} has a time but no time zone", path)
            return None
        return value

    def money(self, raw: Any, path: str, what: str) -> Decimal | None:
        """A Money element in EUR with at most 2 decimals; None (with an issue) otherwise."""
        if not isinstance(raw, dict):
            return None
        currency = raw.get("currency")
        if currency != "EUR":
            self.error("currency", f"{what} must be in EUR, got {currency!r}", f"{path}.currency")
        amount = to_decimal(raw.get("value"))
        if amount is None:
            self.error("money-invalid", f"{what} needs a value", f"{path}.value")
            return None
        if abs(amount) > MAX_AMOUNT:
            self.error("money-invalid", f"{what} is beyond {MAX_AMOUNT} EUR", f"{path}.value")
            return None
        if amount != amount.quantize(Decimal("0.01")):
            self.error("money-invalid", f"{what} has more than 2 decimal places", f"{path}.value")
            return None
        return amount
