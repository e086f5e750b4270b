"""Validation with ``fhir.resources`` (R4B models: R4 on the wire) and element metadata.

It offers two things to the rest of ``mappings``: structural validation of a FHIR-JSON dict
(pydantic errors turned into issues with FHIRPath expressions), and per-class element
metadata (repeating or not, child type, JSON kind of a primitive, required code values,
allowed reference targets) for the schema-guided walk in ``mappings._walk``. A field's type is
read by ``mappings._xmlmeta.classify``, the reading the XML codec uses too.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from adapter.errors import Issue
from mappings._xmlmeta import Kind, classify

__all__ = [
    "ElementInfo",
    "elements",
    "fhirpath",
    "is_resource_type",
    "model_class",
    "structure_issues",
]

_RESOURCE_CHILDREN = {"ResourceType"}
_JSON_PRIMITIVES = frozenset({Kind.STRING, Kind.BOOLEAN, Kind.INTEGER, Kind.DECIMAL, Kind.XHTML})


@lru_cache(maxsize=1024)  # bounded: names come from untrusted input
def model_class(name: str) -> type[Any] | None:
    """The R4B model class for a type or resource name, or None if FHIR R4 has no such type."""
    try:
        return typing.cast(type[Any], get_fhir_model_class(name))
    except (KeyError, ValueError):
        return None


@lru_cache(maxsize=1024)
def is_resource_type(name: str) -> bool:
    """True for a concrete FHIR resource name (``Claim``), False for datatypes and unknowns."""
    cls = model_class(name)
    if cls is None:
        return False
    return "implicitRules" in getattr(cls, "model_fields", {})


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """What the walk needs to know about one element of one class."""

    name: str
    repeats: bool
    child: str | None  # datatype/backbone class name, "Resource" for nested resources, None for primitives
    codes: frozenset[str] | None  # required binding values, for ``code`` elements
    targets: tuple[str, ...] | None  # allowed reference targets, for Reference elements
    json: Kind | None = None  # for primitives: the JSON kind of their value (string, boolean, number)


_OPEN_CODES = frozenset({("CapabilityStatement", "format")})
"""Elements whose listed codes are not their value set: CapabilityStatement.format takes any
MIME type besides xml, json and ttl, and fhir.resources lists ``formats, json, mime, ttl``."""


def _closed(codes: Any) -> frozenset[str] | None:
    """The codes of a required binding as fhir.resources lists them, when the list is whole.

    It reads them from the element's short definition, where R4 writes ``amended +`` for "and
    more codes": such a list (Observation.status, Device.udiCarrier.entryType…) lacks valid
    codes, so those elements are not checked rather than wrongly refused.
    """
    if not codes:
        return None
    listed = frozenset(typing.cast(list[str], codes))
    return None if "+" in listed else listed


@lru_cache(maxsize=1024)
def elements(class_name: str) -> Mapping[str, ElementInfo]:
    """Element metadata by JSON name for a model class (cached; empty for unknown names)."""
    cls = model_class(class_name)
    if cls is None:
        return {}
    table: dict[str, ElementInfo] = {}
    for field_name, field in cls.model_fields.items():
        alias = field.alias or field_name
        if alias.startswith("_") or field_name == "resource_type":
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        codes = None if (class_name, alias) in _OPEN_CODES else extra.get("enum_values")
        targets = extra.get("enum_reference_types")
        try:
            repeats, kind, type_name, _ = classify(field.annotation)
        except TypeError:  # not a FHIR element (fhir_comments)
            continue
        table[alias] = ElementInfo(
            name=alias,
            repeats=repeats,
            child=type_name if kind in (Kind.COMPLEX, Kind.RESOURCE) else None,
            codes=_closed(codes),
            targets=tuple(typing.cast(list[str], targets)) if targets else None,
            json=kind if kind in _JSON_PRIMITIVES else None,
        )
    return table


def fhirpath(root: str, loc: tuple[str | int, ...]) -> str:
    """``("entry", 0, "resource", "status")`` → ``Bundle.entry[0].resource.status``."""
    parts = [root]
    for step in loc:
        if isinstance(step, int):
            parts[-1] = f"{parts[-1]}[{step}]"
        else:
            parts.append(step.lstrip("_") if step.startswith("_") else step)
    return ".".join(parts)


def _issue_code(error_type: str) -> str:
    if error_type.endswith("missing"):
        return "element-required"
    if error_type == "extra_forbidden":
        return "element-unknown"
    if error_type.startswith("fhir-validation-wrong-resource-type"):
        return "resource-type-wrong"
    return "element-invalid"


def structure_issues(resource: Mapping[str, Any]) -> list[Issue]:
    """Validate a FHIR-JSON dict against its R4B model; one issue per pydantic error.

    The caller has already checked that every ``resourceType`` in it names a known resource
    (fhir.resources raises ``KeyError`` rather than a validation error otherwise).
    """
    root = str(resource.get("resourceType"))
    cls = model_class(root)
    if cls is None:
        return [Issue("resource-type-unknown", f"{root!r} is not a FHIR R4 resource", root)]
    if root == "Bundle" and _valid_in_parts(cls, resource):
        return []
    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            code = _issue_code(error["type"])
            if code == "resource-type-wrong":
                loc = loc[:-1]
            message = str(error["msg"]).removeprefix("Value error, ")
            issues.append(Issue(code, message, fhirpath(root, loc)))
        return issues
    except KeyError as exc:  # an unknown nested resourceType the pre-walk did not see
        return [Issue("resource-type-unknown", f"unknown resource type {exc}", root)]
    return []


def _valid_in_parts(bundle_class: type[Any], bundle: Mapping[str, Any]) -> bool:
    """True when the Bundle validates with each entry's resource validated by its own class.

    That is what the Bundle's model does for ``entry.resource`` (resolve the class named by
    ``resourceType``, require a resource, validate the dict with it), without resolving the
    class anew for every entry: a quarter of the validation's time. A resource that is not a
    dict naming a known resource stays in the Bundle for its model to judge. False on any
    error: the caller validates the whole Bundle again for the issues, so that they and their
    order are the model's own.
    """
    entries = bundle.get("entry")
    if type(entries) is not list:
        entries = ()  # nothing to take apart: the shell is the whole Bundle
    shell_entries: list[Any] = []
    parts: list[tuple[type[Any], Mapping[str, Any]]] = []
    for entry in entries:
        part = entry.get("resource") if type(entry) is dict else None
        kind = part.get("resourceType") if type(part) is dict else None
        if type(kind) is str and is_resource_type(kind):
            parts.append((typing.cast(type[Any], model_class(kind)), typing.cast(Mapping[str, Any], part)))
            entry = {key: value for key, value in entry.items() if key != "resource"}
        shell_entries.append(entry)
    try:
        bundle_class.model_validate({**bundle, "entry": shell_entries} if parts else bundle)
        for part_class, part in parts:
            part_class.model_validate(part)
    except (ValidationError, KeyError):
        return False
    return True
