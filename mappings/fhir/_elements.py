"""Element metadata of the fhir.resources R4B models: one record per element, one cache per class.

Both the XML codec and the validation walk need the definitions: whether an element repeats,
whether it is a primitive (``value`` attribute, ``_name`` in JSON) and of which JSON kind, a
datatype, or a nested resource; the walk also needs the codes of a required binding and the
allowed reference targets. The generated models carry all of it (``elements_sequence()``
gives the documented order, ``model_fields`` the types and bindings), so it is read from them
once per class, lazily, into one ``TypeInfo`` that serves both, and cached for the life of
the process.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.constraints import FHIR_PRIMITIVES_MAPS
from fhir_core.types import FhirBase

__all__ = [
    "FHIR_NS",
    "PRIMITIVE_EXTENSION",
    "REQUIRED_CODES_FILE",
    "XHTML_NS",
    "ElementInfo",
    "Kind",
    "TypeInfo",
    "classify",
    "elements",
    "is_resource_type",
    "listed_codes",
    "model_class",
    "resource_info",
    "type_info",
]

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"

_ABSTRACT_RESOURCES = frozenset({"Resource", "DomainResource"})
_INTEGER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt"})


class Kind(IntEnum):
    """How an element is carried in XML and in JSON."""

    STRING = 0  # a primitive whose JSON form is a string (code, date, uri, base64Binary…)
    BOOLEAN = 1
    INTEGER = 2  # integer, positiveInt, unsignedInt: JSON numbers without a fraction
    DECIMAL = 3  # kept as Decimal: precision is significant in FHIR ("2.0" ≠ "2.00")
    XHTML = 4  # Narrative.div: an XHTML element in XML, a string in JSON
    COMPLEX = 5  # a datatype or backbone element
    RESOURCE = 6  # a nested resource wrapped in its element (contained, entry.resource…)


@lru_cache(maxsize=1024)  # bounded: names come from untrusted input
def model_class(name: str) -> type[Any] | None:
    """The R4B model class for a type or resource name, or None if FHIR R4 has no such type."""
    try:
        return typing.cast(type[Any], get_fhir_model_class(name))
    except (KeyError, ValueError):
        return None


@lru_cache(maxsize=1024)
def is_resource_type(name: str) -> bool:
    """True for a FHIR resource name (``Claim``, and the abstract ``Resource``), False otherwise."""
    cls = model_class(name)
    if cls is None:
        return False
    return "implicitRules" in getattr(cls, "model_fields", {})


@dataclass(eq=False)
class ElementInfo:
    """One element of one type: what the XML codec and the walk know of it.

    ``name`` is the same in XML and JSON; ``json`` is the kind of a primitive's JSON value and
    ``child`` the type name of a datatype, backbone or nested resource (each None otherwise),
    both precomputed because the walk tests them for every key it meets.
    """

    name: str
    kind: Kind
    repeats: bool
    position: int
    type_name: str
    model: type[Any] | None = None
    codes: frozenset[str] | None = None  # required binding values, for ``code`` elements
    targets: tuple[str, ...] | None = None  # allowed reference targets, for Reference elements
    json: Kind | None = None
    child: str | None = None
    choice: str | None = None  # the choice element's name (``serviced``) for ``servicedPeriod``

    def __post_init__(self) -> None:
        if self.kind >= Kind.COMPLEX:
            self.child = self.type_name
        else:
            self.json = self.kind

    @property
    def tag(self) -> str:
        """The Clark-notation tag the element has in FHIR XML."""
        namespace = XHTML_NS if self.kind is Kind.XHTML else FHIR_NS
        return f"{{{namespace}}}{self.name}"

    @property
    def is_primitive(self) -> bool:
        """True when the element has a ``value`` attribute in XML and a ``_name`` twin in JSON."""
        return self.kind <= Kind.DECIMAL

    @cached_property
    def meta(self) -> TypeInfo:
        """Metadata of the element's datatype (complex elements only), built on first use.

        Cached on the instance (hence no ``__slots__``): after the first read it is a plain
        attribute, which the walk and the codec follow for every nested element.
        """
        if self.model is None:
            raise TypeError(f"{self.name} is not a complex element")
        return type_info(self.model)


@dataclass(slots=True, eq=False)
class TypeInfo:
    """What is known about one model class."""

    name: str
    is_resource: bool
    attributes: frozenset[str]  # JSON keys carried as XML attributes: ``id``, Extension ``url``
    elements: tuple[ElementInfo, ...]  # documented order, attribute-borne ones excluded
    by_tag: dict[str, ElementInfo]  # Clark tag -> element, for reading XML
    by_key: dict[str, ElementInfo]  # JSON key (``name`` and ``_name``) -> element, for writing
    by_name: dict[str, ElementInfo]  # element name -> element, attribute-borne ones included
    known_keys: frozenset[str]  # every JSON key a dict of this type may hold


_TYPES: dict[type[Any], TypeInfo] = {}
_RESOURCES: dict[str, TypeInfo] = {}


def elements(class_name: str) -> Mapping[str, ElementInfo]:
    """Element metadata by JSON name for a type or resource name (empty for unknown names)."""
    model = model_class(class_name)
    return {} if model is None else type_info(model).by_name


def resource_info(name: str) -> TypeInfo | None:
    """Metadata of the concrete FHIR R4 resource called ``name``, or None if there is none.

    Only hits are cached: names come from the input, and a cache of misses would grow with
    every invented name a sender tries.
    """
    meta = _RESOURCES.get(name)
    if meta is not None or not (name.isascii() and name.isalpha()) or name in _ABSTRACT_RESOURCES:
        return meta
    try:
        model = get_fhir_model_class(name)
    except (ValueError, KeyError, AttributeError, ImportError):
        return None
    if not (model.has_resource_base() and model.get_resource_type() == name):
        return None
    meta = _RESOURCES[name] = type_info(model)
    return meta


def type_info(model: type[Any]) -> TypeInfo:
    """Metadata of a model class (a resource, datatype or backbone element), cached."""
    meta = _TYPES.get(model)
    if meta is None:
        meta = _TYPES[model] = _build(model)
    return meta


def _build(model: type[Any]) -> TypeInfo:
    name = str(model.get_resource_type())
    is_resource = bool(model.has_resource_base())
    attributes = {"id"} if not is_resource else set()
    if name == "Extension":
        attributes.add("url")
    aliases: dict[str, str] = model.get_alias_mapping()
    fields = model.model_fields
    elements: list[ElementInfo] = []
    for position, element_name in enumerate(model.elements_sequence()):
        info = fields[aliases[element_name]]
        repeats, kind, type_name, child = classify(info.annotation)
        if kind is Kind.XHTML and element_name != "div":  # pragma: no cover - R4B has none
            raise TypeError(f"{name}.{element_name}: xhtml outside Narrative.div")
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        codes = None if (name, element_name) in _OPEN_CODES else extra.get("enum_values")
        targets = extra.get("enum_reference_types")
        elements.append(
            ElementInfo(
                element_name,
                kind,
                repeats,
                position,
                type_name,
                child,
                codes=listed_codes(codes) or _required_codes().get(f"{name}.{element_name}"),
                targets=tuple(typing.cast(list[str], targets)) if targets else None,
                choice=_choice_of(extra.get("one_of_many"), element_name),
            )
        )
    by_key: dict[str, ElementInfo] = {}
    for element in elements:
        by_key[element.name] = element
        if element.is_primitive:
            by_key["_" + element.name] = element
    children = tuple(e for e in elements if e.name not in attributes)
    keys = set(by_key) | {"fhir_comments"}
    if is_resource:
        keys.add("resourceType")
    return TypeInfo(
        name=name,
        is_resource=is_resource,
        attributes=frozenset(attributes),
        elements=children,
        by_tag={e.tag: e for e in children},
        by_key=by_key,
        by_name={e.name: e for e in elements},
        known_keys=frozenset(keys),
    )


def _choice_of(base: Any, element_name: str) -> str | None:
    """The choice element (``value[x]``) an element is one type of, by its base name (``value``)."""
    if isinstance(base, str) and element_name.startswith(base) and element_name != base:
        return base
    return None


REQUIRED_CODES_FILE = Path(__file__).parents[1] / "required-codes.json"
"""The codes of the required bindings fhir.resources has no whole list for, read from the R4
specification's value sets (generated by ``python -m tests.build_required_codes``)."""


@lru_cache(maxsize=1)
def _required_codes() -> dict[str, frozenset[str]]:
    """``Class.element`` → its codes, from REQUIRED_CODES_FILE."""
    document = json.loads(REQUIRED_CODES_FILE.read_text(encoding="utf-8"))
    value_sets = {name: frozenset(codes) for name, codes in document["value-sets"].items()}
    return {element: value_sets[name] for element, name in document["elements"].items()}


_OPEN_CODES = frozenset({("CapabilityStatement", "format")})
"""Elements whose listed codes are not their value set: CapabilityStatement.format takes any
MIME type besides xml, json and ttl, and fhir.resources lists ``formats, json, mime, ttl``."""


def listed_codes(codes: Any) -> frozenset[str] | None:
    """The codes of a required binding as fhir.resources lists them, when the list is whole.

    It reads them from the element's short definition, where R4 writes ``amended +`` for "and
    more codes": such a list (Observation.status, Device.udiCarrier.entryType…) lacks valid
    codes, so the specification's own list (REQUIRED_CODES_FILE) is used instead, and an
    element with neither is not checked rather than wrongly refused.
    """
    if not codes:
        return None
    listed = frozenset(typing.cast(list[str], codes))
    return None if "+" in listed else listed


def classify(annotation: Any) -> tuple[bool, Kind, str, type[Any] | None]:
    """Unwrap ``Optional``/``List``/``Annotated`` down to the FHIR type of a model field."""
    repeats = False
    current = annotation
    while True:
        origin = typing.get_origin(current)
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if len(args) != 1:  # pragma: no cover - the generated models never do this
                raise TypeError(f"ambiguous union {annotation!r}")
            current = args[0]
        elif origin is list:
            repeats = True
            current = typing.get_args(current)[0]
        else:
            break
    if isinstance(current, type) and issubclass(current, FhirBase):
        model: type[Any] = current.get_model_klass()
        type_name = str(model.get_resource_type())
        kind = Kind.RESOURCE if type_name == "Resource" else Kind.COMPLEX
        return repeats, kind, type_name, model
    type_name = _primitive_name(current, annotation)
    return repeats, _primitive_kind(type_name), type_name, None


def _primitive_name(current: Any, annotation: Any) -> str:
    if typing.get_origin(current) is typing.Annotated:
        for marker in current.__metadata__:
            found = FHIR_PRIMITIVES_MAPS.get(type(marker))
            if found is not None:
                return str(found)
        found = FHIR_PRIMITIVES_MAPS.get(current)
        if found is None:
            found = FHIR_PRIMITIVES_MAPS.get(typing.get_args(current)[0])
    else:
        found = FHIR_PRIMITIVES_MAPS.get(current)
    if found is None:  # pragma: no cover - every generated field has a FHIR type
        raise TypeError(f"no FHIR type for {annotation!r}")
    return str(found)


def _primitive_kind(type_name: str) -> Kind:
    if type_name == "boolean":
        return Kind.BOOLEAN
    if type_name in _INTEGER_TYPES:
        return Kind.INTEGER
    if type_name == "decimal":
        return Kind.DECIMAL
    if type_name == "xhtml":
        return Kind.XHTML
    return Kind.STRING


PRIMITIVE_EXTENSION: TypeInfo = type_info(get_fhir_model_class("FHIRPrimitiveExtension"))
"""The ``id`` + ``extension`` a primitive element may carry (``_name`` in JSON)."""
