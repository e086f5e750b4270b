"""Element knowledge for the XML codec, read from the fhir.resources R4B models.

FHIR XML cannot be read without the definitions: whether an element repeats, whether it is a
primitive (``value`` attribute, ``_name`` in JSON) and of which JSON kind, a datatype, or a
nested resource. The generated models carry all of it (``elements_sequence()`` gives the
documented order, ``model_fields`` the types), so it is read from them once per class, lazily,
and cached for the life of the process.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.constraints import FHIR_PRIMITIVES_MAPS
from fhir_core.types import FhirBase

__all__ = [
    "FHIR_NS",
    "PRIMITIVE_EXTENSION",
    "XHTML_NS",
    "Element",
    "Kind",
    "TypeMeta",
    "classify",
    "resource_meta",
    "type_meta",
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


@dataclass(slots=True, eq=False)
class Element:
    """One element of one type: its name (the same in XML and JSON), kind and cardinality."""

    name: str
    kind: Kind
    repeats: bool
    position: int
    type_name: str
    model: type[Any] | None = None
    _meta: TypeMeta | None = field(default=None, repr=False)

    @property
    def tag(self) -> str:
        """The Clark-notation tag the element has in FHIR XML."""
        namespace = XHTML_NS if self.kind is Kind.XHTML else FHIR_NS
        return f"{{{namespace}}}{self.name}"

    @property
    def is_primitive(self) -> bool:
        """True when the element has a ``value`` attribute in XML and a ``_name`` twin in JSON."""
        return self.kind <= Kind.DECIMAL

    @property
    def meta(self) -> TypeMeta:
        """Metadata of the element's datatype (complex elements only), built on first use."""
        meta = self._meta
        if meta is None:
            if self.model is None:
                raise TypeError(f"{self.name} is not a complex element")
            meta = self._meta = type_meta(self.model)
        return meta


@dataclass(slots=True, eq=False)
class TypeMeta:
    """What the codec knows about one model class."""

    name: str
    is_resource: bool
    attributes: frozenset[str]  # JSON keys carried as XML attributes: ``id``, Extension ``url``
    elements: tuple[Element, ...]  # documented order, attribute-borne ones excluded
    by_tag: dict[str, Element]  # Clark tag -> element, for reading XML
    by_key: dict[str, Element]  # JSON key (``name`` and ``_name``) -> element, for writing
    known_keys: frozenset[str]  # every JSON key a dict of this type may hold


_TYPES: dict[type[Any], TypeMeta] = {}
_RESOURCES: dict[str, TypeMeta] = {}


def resource_meta(name: str) -> TypeMeta | None:
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
    meta = _RESOURCES[name] = type_meta(model)
    return meta


def type_meta(model: type[Any]) -> TypeMeta:
    """Metadata of a model class (a resource, datatype or backbone element), cached."""
    meta = _TYPES.get(model)
    if meta is None:
        meta = _TYPES[model] = _build(model)
    return meta


def _build(model: type[Any]) -> TypeMeta:
    name = str(model.get_resource_type())
    is_resource = bool(model.has_resource_base())
    attributes = {"id"} if not is_resource else set()
    if name == "Extension":
        attributes.add("url")
    aliases: dict[str, str] = model.get_alias_mapping()
    fields = model.model_fields
    elements: list[Element] = []
    for position, element_name in enumerate(model.elements_sequence()):
        info = fields[aliases[element_name]]
        repeats, kind, type_name, child = classify(info.annotation)
        if kind is Kind.XHTML and element_name != "div":  # pragma: no cover - R4B has none
            raise TypeError(f"{name}.{element_name}: xhtml outside Narrative.div")
        elements.append(Element(element_name, kind, repeats, position, type_name, child))
    by_key: dict[str, Element] = {}
    for element in elements:
        by_key[element.name] = element
        if element.is_primitive:
            by_key["_" + element.name] = element
    children = tuple(e for e in elements if e.name not in attributes)
    keys = set(by_key) | {"fhir_comments"}
    if is_resource:
        keys.add("resourceType")
    return TypeMeta(
        name=name,
        is_resource=is_resource,
        attributes=frozenset(attributes),
        elements=children,
        by_tag={e.tag: e for e in children},
        by_key=by_key,
        known_keys=frozenset(keys),
    )


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


PRIMITIVE_EXTENSION: TypeMeta = type_meta(get_fhir_model_class("FHIRPrimitiveExtension"))
"""The ``id`` + ``extension`` a primitive element may carry (``_name`` in JSON)."""
