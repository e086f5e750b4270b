"""Reading FHIR-JSON without raising: every problem becomes an issue at its element's FHIRPath.

Readers record an issue and return None (or an empty value) instead of raising, so that one
pass reports every problem at once. The submission reader (``mappings.inbound``) and the
ClaimResponse reader (``mappings.outbound``) both build on ``IssueReader``; ``to_decimal`` is
the one place a FHIR decimal becomes a ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from adapter.errors import Issue, Severity

__all__ = ["IssueReader", "as_list", "codings", "has_code", "identifiers", "to_decimal"]


class IssueReader:
    """An issue sink plus readers of typed JSON values, each recording an issue when it fails.

    ``once_per_element`` keeps one error per (code, element): when two checks of a submission
    reach the same defect, the sender sees it once. A response reader keeps every error, as
    each names a different missing part (three adjudications missing from one item are three).
    """

    def __init__(self, *, once_per_element: bool) -> None:
        self.issues: list[Issue] = []
        self._once = once_per_element

    def error(self, code: str, message: str, path: str | None) -> None:
        if self._once and any(issue.code == code and issue.expression == path for issue in self.issues):
            return
        self.issues.append(Issue(code, message, path))

    def warn(self, code: str, message: str, path: str | None) -> None:
        self.issues.append(Issue(code, message, path, Severity.WARNING))

    @property
    def has_errors(self) -> bool:
        return any(issue.is_error for issue in self.issues)

    # -- typed JSON values ----------------------------------------------------------------

    def mapping(self, value: Any, path: str, *, required: bool = False) -> Mapping[str, Any]:
        """The object at ``path``; an empty one when it is missing or not an object."""
        if isinstance(value, Mapping):
            return value
        if value is not None:
            self.error("element-invalid", "expected a JSON object", path)
        elif required:
            self.error("element-required", "the element is required", path)
        return {}

    def array(self, parent: Mapping[str, Any], key: str, path: str) -> list[tuple[Mapping[str, Any], str]]:
        """The objects of a repeating element, each with its path."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error("element-invalid", "expected a JSON array", f"{path}.{key}")
            return []
        items: list[tuple[Mapping[str, Any], str]] = []
        for index, item in enumerate(value):
            item_path = f"{path}.{key}[{index}]"
            if isinstance(item, Mapping):
                items.append((item, item_path))
            else:
                self.error("element-invalid", "expected a JSON object", item_path)
        return items

    def first_string(self, parent: Mapping[str, Any], key: str, path: str) -> str | None:
        """The first value of a repeating string element (our writers emit at most one)."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.error("element-invalid", "expected a non-empty JSON array", f"{path}.{key}")
            return None
        return self.string(value[0], f"{path}.{key}[0]", required=True)

    def string(self, value: Any, path: str, *, required: bool = False) -> str | None:
        if isinstance(value, str) and value:
            return value
        if value is not None:
            self.error("element-invalid", "expected a non-empty string", path)
        elif required:
            self.error("element-required", "the element is required", path)
        return None

    def positive_int(self, value: Any, path: str, *, required: bool = False) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        if value is not None:
            self.error("element-invalid", "expected a positive integer", path)
        elif required:
            self.error("element-required", "the element is required", path)
        return None

    def decimal(self, value: Any, path: str, *, required: bool = False) -> Decimal | None:
        """A JSON number as a finite Decimal (see ``to_decimal``); a string is not a JSON number."""
        if value is None:
            if required:
                self.error("element-required", "the element is required", path)
            return None
        number = None if isinstance(value, str) else to_decimal(value)
        if number is None:
            self.error("element-invalid", "expected a finite JSON number", path)
        return number


def to_decimal(raw: Any) -> Decimal | None:
    """The finite Decimal a FHIR decimal holds, or None (bool, None, NaN, ±Infinity, not a number).

    A FHIR decimal's scale is significant (``2.0`` ≠ ``2.00``), so JSON is read with
    ``parse_float=Decimal`` (``mappings.fhir.jsonio.loads``) and the XML codec gives Decimals:
    those are taken as they are. A float (plain ``json.loads``) has lost the written digits; it
    converts through ``repr``, its shortest text that reads back as the same float (``60.0``,
    not the binary expansion ``Decimal(60.0)`` would give; ``str`` gives the same text). An
    ``int`` converts exactly, and a string is read as a decimal's lexical form.
    """
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        text = repr(raw)
    elif isinstance(raw, str):
        text = raw
    else:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def codings(concept: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The (index, coding) pairs of a CodeableConcept, tolerant of bad shapes."""
    if not isinstance(concept, dict):
        return []
    items = concept.get("coding")
    if not isinstance(items, list):
        return []
    return [(index, coding) for index, coding in enumerate(items) if isinstance(coding, dict)]


def has_code(concept: Any, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for _, c in codings(concept))


def identifiers(resource: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    items = resource.get("identifier")
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return []
    return [(index, ident) for index, ident in enumerate(items) if isinstance(ident, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
