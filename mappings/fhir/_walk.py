"""A schema-guided walk over a FHIR-JSON dict, done once per submission.

It does what fhir.resources does not (it checks neither codes, reference targets nor
invariants, and its lax mode reads a number as a date): it finds nested resources with a
missing or unknown ``resourceType`` before pydantic would raise a bare ``KeyError``, checks
that each primitive has the JSON kind FHIR gives it (string, boolean or number), that no
element is ``null``, an empty object (ele-1) or an empty array, checks every ``code`` element with a
required binding against its value set, collects every Reference with its FHIRPath and
allowed target types (for resolution inside the Bundle), and bounds the nesting depth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapter.errors import Issue
from mappings.fhir._elements import ElementInfo, Kind, elements, is_resource_type

__all__ = ["FoundReference", "WalkResult", "walk"]


@dataclass(frozen=True, slots=True)
class FoundReference:
    """A Reference element found in the tree; ``entry`` is the index of the Bundle entry holding it."""

    path: str
    value: Mapping[str, Any]
    targets: tuple[str, ...] | None
    entry: int | None
    container: Mapping[str, Any] | None  # the resource holding it, for ``#id`` contained references


@dataclass(slots=True)
class WalkResult:
    """Issues split by when they matter: ``parse`` ones stop everything (HTTP 400)."""

    parse: list[Issue] = field(default_factory=list)
    codes: list[Issue] = field(default_factory=list)
    references: list[FoundReference] = field(default_factory=list)


class _Walker:
    __slots__ = ("max_depth", "result")

    def __init__(self, max_depth: int) -> None:
        self.result = WalkResult()
        self.max_depth = max_depth

    def resource(self, node: Any, path: str, entry: int | None, depth: int) -> None:
        if not isinstance(node, dict):
            return  # pydantic reports the wrong shape
        kind = node.get("resourceType")
        if kind is None:
            self.result.parse.append(
                Issue("resource-type-missing", "a resource must state its resourceType", path)
            )
        elif not isinstance(kind, str) or not is_resource_type(kind):
            self.result.parse.append(
                Issue("resource-type-unknown", f"{kind!r} is not a FHIR R4 resource", path)
            )
        else:
            self.element(node, elements(kind), path, entry, node, depth)

    def element(
        self,
        node: Mapping[str, Any],
        table: Mapping[str, ElementInfo],
        path: str,
        entry: int | None,
        container: Mapping[str, Any],
        depth: int,
    ) -> None:
        if depth > self.max_depth:
            self.result.parse.append(
                Issue("input-too-large", f"nesting deeper than {self.max_depth} levels", path)
            )
            return
        depth += 1
        for key, value in node.items():
            if not isinstance(value, (dict, list)):
                if value is None:
                    self._null(f"{path}.{key[1:] if key[:1] == '_' else key}")
                    continue
                info = table.get(key)
                if info is not None and info.json is not None:
                    if not _JSON_TYPES[info.json](value):
                        self._wrong_json(info.json, value, f"{path}.{key}")
                    elif info.codes is not None and value not in info.codes:
                        self._bad_code(info.codes, value, f"{path}.{key}")
                continue
            if not value:
                self._empty(value, f"{path}.{key[1:] if key[:1] == '_' else key}")
                continue
            if key[:1] == "_":
                if isinstance(value, dict):
                    self.element(value, _PRIMITIVE_ELEMENTS, f"{path}.{key[1:]}", entry, container, depth)
                continue
            info = table.get(key)
            if info is None:
                continue  # unknown element: pydantic reports it
            if info.json is not None:
                if isinstance(value, list):
                    self._primitives(info.json, info, value, f"{path}.{key}")
                continue
            if info.child is None:
                continue
            if isinstance(value, list):
                for index, item in enumerate(value):
                    self._child(info, item, f"{path}.{key}[{index}]", entry, container, depth, index)
            else:
                self._child(info, value, f"{path}.{key}", entry, container, depth, None)

    def _child(
        self,
        info: ElementInfo,
        value: Any,
        path: str,
        entry: int | None,
        container: Mapping[str, Any],
        depth: int,
        index: int | None,
    ) -> None:
        if value is None:
            self._null(path)
            return
        child = info.child
        if child == "Resource":
            self.resource(value, path, entry, depth)
            return
        if not isinstance(value, dict):
            return
        if not value:
            self._empty(value, path)
            return
        if child == "Reference" and isinstance(value.get("reference"), str):
            self.result.references.append(FoundReference(path, value, info.targets, entry, container))
        if child == "BundleEntry":
            entry = index
        self.element(value, info.meta.by_name, path, entry, container, depth)

    def _primitives(self, kind: Kind, info: ElementInfo, values: list[Any], path: str) -> None:
        """A repeating primitive: each value of its JSON kind (``null`` only as a placeholder
        for a ``_name`` extension), each code in its value set."""
        accepts = _JSON_TYPES[kind]
        for index, value in enumerate(values):
            if value is None:
                continue
            if not accepts(value):
                self._wrong_json(kind, value, f"{path}[{index}]")
            elif info.codes is not None and value not in info.codes:
                self._bad_code(info.codes, value, f"{path}[{index}]")

    def _wrong_json(self, kind: Kind, value: Any, path: str) -> None:
        self.result.parse.append(
            Issue("element-invalid", f"expected {_EXPECTED[kind]}, got {_json_name(value)}", path)
        )

    def _null(self, path: str) -> None:
        self.result.parse.append(Issue("element-invalid", "null is not a value: leave the element out", path))

    def _empty(self, value: dict[str, Any] | list[Any], path: str) -> None:
        message = (
            "an array must not be empty: leave the element out"
            if isinstance(value, list)
            else "an element must have a value or children (ele-1)"
        )
        self.result.parse.append(Issue("element-invalid", message, path))

    def _bad_code(self, codes: frozenset[str], code: str, path: str) -> None:
        if len(codes) > _LISTED_CODES:  # a list of resource types or licences: too long to print
            message = f"{code!r} is not one of the {len(codes)} codes of its required value set"
        else:
            message = f"{code!r} is not one of: {', '.join(sorted(codes))}"
        self.result.codes.append(Issue("code-invalid", message, path))


_PRIMITIVE_ELEMENTS = elements("Element")
"""The elements of a primitive's ``_name`` object (``id``, ``extension``)."""

_LISTED_CODES = 24
"""The most codes an issue message lists."""


def _is_number(value: Any) -> bool:
    return type(value) in (int, Decimal, float)


_JSON_TYPES: dict[Kind, Callable[[Any], bool]] = {
    Kind.STRING: lambda value: type(value) is str,
    Kind.XHTML: lambda value: type(value) is str,
    Kind.BOOLEAN: lambda value: type(value) is bool,
    Kind.INTEGER: lambda value: type(value) is int,
    Kind.DECIMAL: _is_number,
}
"""What FHIR JSON accepts for a primitive of each kind; pydantic's lax mode takes more (a
number for a date, ``"true"`` for a boolean, ``"5"`` for an integer)."""

_EXPECTED = {
    Kind.STRING: "a JSON string",
    Kind.XHTML: "a JSON string",
    Kind.BOOLEAN: "true or false",
    Kind.INTEGER: "an integer",
    Kind.DECIMAL: "a number",
}


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    return type(value).__name__


def walk(resource: Mapping[str, Any], *, max_depth: int = 64) -> WalkResult:
    """Walk a resource (normally a Bundle) once; see the module docstring."""
    walker = _Walker(max_depth)
    kind = resource.get("resourceType")
    walker.resource(resource, kind if isinstance(kind, str) else "Resource", None, 0)
    return walker.result
