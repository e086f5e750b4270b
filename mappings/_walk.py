"""A schema-guided walk over a FHIR-JSON dict, done once per submission.

It does what fhir.resources does not (fhir-notes.md §4.4): it finds nested resources with a
missing or unknown ``resourceType`` before pydantic would raise a bare ``KeyError``, checks
every ``code`` element with a required binding against its value set, and collects every
Reference with its FHIRPath and its allowed target types, for resolution inside the Bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapter.errors import Issue
from mappings._fhir import elements, is_resource_type

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


def _path(parts: list[str]) -> str:
    return ".".join(parts)


class _Walker:
    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result = WalkResult()

    def resource(
        self,
        node: Any,
        parts: list[str],
        entry: int | None,
    ) -> None:
        if not isinstance(node, Mapping):
            return  # pydantic reports the wrong shape
        kind = node.get("resourceType")
        if kind is None:
            self.result.parse.append(
                Issue(
                    "resource-type-missing", "a resource must state its resourceType", _path(parts)
                )
            )
            return
        if not isinstance(kind, str) or not is_resource_type(kind):
            self.result.parse.append(
                Issue("resource-type-unknown", f"{kind!r} is not a FHIR R4 resource", _path(parts))
            )
            return
        self.element(node, kind, parts, entry, node)

    def element(
        self,
        node: Mapping[str, Any],
        class_name: str,
        parts: list[str],
        entry: int | None,
        container: Mapping[str, Any],
    ) -> None:
        table = elements(class_name)
        if class_name == "Reference" and isinstance(node.get("reference"), str):
            pass  # collected by the caller, which knows the allowed targets
        for key, value in node.items():
            if key.startswith("_"):
                info = None
                if isinstance(value, Mapping):
                    self.element(value, "Element", [*parts, key[1:]], entry, container)
                continue
            info = table.get(key)
            if info is None:
                continue  # unknown element: pydantic reports it
            if info.codes is not None:
                self._codes(info.codes, value, parts, key)
                continue
            child = info.child
            if child is None or not isinstance(value, (Mapping, list)):
                continue
            if isinstance(value, list):
                for index, item in enumerate(value):
                    self._child(
                        child, item, [*parts, f"{key}[{index}]"], entry, container, info.targets
                    )
            else:
                self._child(child, value, [*parts, key], entry, container, info.targets)

    def _child(
        self,
        child: str,
        value: Any,
        parts: list[str],
        entry: int | None,
        container: Mapping[str, Any],
        targets: tuple[str, ...] | None,
    ) -> None:
        if child == "Resource":
            self.resource(value, [*parts], entry)
            return
        if not isinstance(value, Mapping):
            return
        if child == "Reference" and isinstance(value.get("reference"), str):
            self.result.references.append(
                FoundReference(_path(parts), value, targets, entry, container)
            )
        if child == "BundleEntry":
            index = _last_index(parts)
            resource = value.get("resource")
            for key, item in value.items():
                if key == "resource":
                    continue
                info = elements("BundleEntry").get(key)
                if info is not None and info.child is not None and isinstance(item, Mapping):
                    self.element(item, info.child, [*parts, key], index, container)
            if resource is not None:
                self.resource(resource, [*parts, "resource"], index)
            return
        self.element(value, child, parts, entry, container)

    def _codes(self, codes: frozenset[str], value: Any, parts: list[str], key: str) -> None:
        values = value if isinstance(value, list) else [value]
        for index, code in enumerate(values):
            if isinstance(code, str) and code not in codes:
                where = f"{key}[{index}]" if isinstance(value, list) else key
                allowed = ", ".join(sorted(codes))
                self.result.codes.append(
                    Issue(
                        "code-invalid", f"{code!r} is not one of: {allowed}", _path([*parts, where])
                    )
                )


def _last_index(parts: list[str]) -> int | None:
    last = parts[-1]
    if last.endswith("]"):
        return int(last[last.rindex("[") + 1 : -1])
    return None


def walk(resource: Mapping[str, Any]) -> WalkResult:
    """Walk a resource (normally a Bundle) once; see the module docstring."""
    walker = _Walker()
    kind = resource.get("resourceType")
    walker.resource(resource, [kind if isinstance(kind, str) else "Resource"], None)
    return walker.result
