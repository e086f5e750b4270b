"""FHIR R4 XML ⇄ FHIR JSON dict: a hardened, fast codec.

``fhir.resources`` reads XML through ``model_validate_xml`` five to six times slower than JSON,
drops element ``id`` attributes, keeps the tail whitespace of ``Narrative.div`` and fails on a
comment before ``<id>``. This module reads XML into the dict that the JSON form of the same
resource would give, so that ``Model.model_validate(parse_xml(data))`` runs the one validation
path the JSON input uses, and writes such a dict back as XML.

Reading refuses, with :class:`adapter.errors.ParseError` and stable codes:

* ``input-too-large``: more than ``max_bytes`` bytes, elements nested deeper than ``max_depth``,
  an element with more than ``MAX_ATTRIBUTES`` attributes, or a narrative ``div`` with more than
  ``MAX_NAMESPACES`` namespaces in scope (bounds that keep the read linear in the input);
* ``encoding-invalid``: bytes that are not UTF-8, or an XML declaration naming another encoding;
* ``xml-forbidden``: a DOCTYPE (so any DTD or entity declaration) or a processing instruction;
* ``invalid-xml``: not well-formed (the message gives line and column);
* ``xml-namespace``: an element outside ``http://hl7.org/fhir`` (XHTML is allowed as
  ``Narrative.div`` only), or a namespaced attribute such as ``xsi:schemaLocation``;
* ``resource-type-unknown``: a root or nested resource that FHIR R4 does not define;
* ``element-unknown``: an element or attribute the type does not define. Unknown content is
  never dropped: it is reported here, with its FHIRPath, instead of being left to pydantic;
* ``element-invalid``: a boolean, integer or decimal that is not in its FHIR lexical form, an
  empty element, text outside XHTML, a single-valued element given twice, or a nested-resource
  wrapper that does not hold exactly one resource.

All content problems are collected (``adapter.errors.MAX_ISSUES`` at most, the last saying
how many more there were) before raising; the bounds and security checks
stop at the first. Element order is not checked: XML in the wrong order still reads as the JSON
it means, as most FHIR servers do. Comments are dropped.

Writing never fails on a character XML 1.0 cannot hold (U+0000–U+001F but tab, LF and CR,
U+FFFE, U+FFFF, a lone surrogate), which a row stored before intake refused them may carry:
each such character is written as U+FFFD, the Unicode replacement character.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

from adapter.errors import MAX_ISSUES, Issue, ParseError, UsageError, capped
from mappings.fhir._elements import (
    FHIR_NS,
    PRIMITIVE_EXTENSION,
    XHTML_NS,
    ElementInfo,
    Kind,
    TypeInfo,
    resource_info,
)

__all__ = ["MAX_ATTRIBUTES", "MAX_NAMESPACES", "REPLACEMENT", "dump_xml", "parse_xml"]

#: The most attributes one FHIR element may carry (it defines at most three: id, url, value).
#: lxml reads an element's attributes in time quadratic in their number: this bounds it.
MAX_ATTRIBUTES = 32
#: The most namespaces in scope at a narrative ``div`` (two are needed: FHIR's and XHTML's).
#: Serialising the div copies every namespace in scope, so this keeps each copy small.
MAX_NAMESPACES = 16
#: What the writer puts in place of a character XML cannot hold.
REPLACEMENT = "\ufffd"
_FHIR_PREFIX = "{" + FHIR_NS + "}"
_FHIR_PREFIX_LEN = len(_FHIR_PREFIX)
_DIV_TAG = "{" + XHTML_NS + "}div"
_XML_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\?>")
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_INTEGER = re.compile(r"0|[-+]?[1-9][0-9]{0,11}")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_DECIMAL_MAX_CHARS = 64
# Characters XML 1.0 cannot carry at all, even escaped (and lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)
_NEEDS_ESCAPE = re.compile('[&<>"\n\r\t]')
_NO_TEXT = "text is not allowed here (values go in @value)"
# A primitive element read as its ``_name`` object: ``value`` is taken out afterwards.
_PRIMITIVE_READ = dataclasses.replace(PRIMITIVE_EXTENSION, attributes=frozenset({"id", "value"}))


def _parser(*, keep_pis: bool = False) -> etree.XMLParser:
    """The hardened parser: no DTD, no entities, no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=not keep_pis,
        huge_tree=False,
    )


# --------------------------------------------------------------------------------------------
# reading


def parse_xml(data: bytes, *, max_bytes: int = 5_000_000, max_depth: int = 64) -> dict[str, Any]:
    """FHIR R4 XML (any resource) -> the FHIR JSON representation as a dict (with "resourceType").

    Decimals come back as :class:`~decimal.Decimal` (exact precision: ``100.00`` stays
    ``Decimal("100.00")``), integers as ``int``, booleans as ``bool``, ``Narrative.div`` as the
    serialised XHTML string, and every other primitive as the string written in the XML.

    >>> parse_xml(b'<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>')
    {'resourceType': 'Patient', 'active': True}
    """
    root = _load(data, max_bytes=max_bytes)
    tag = root.tag
    if not isinstance(tag, str) or not tag.startswith(_FHIR_PREFIX):
        raise ParseError([Issue("xml-namespace", f"the root element must be in the {FHIR_NS} namespace")])
    name = tag[_FHIR_PREFIX_LEN:]
    meta = resource_info(name)
    if meta is None:
        raise ParseError([Issue("resource-type-unknown", f"{name!r} is not a FHIR R4 resource", name)])
    reader = _Reader(max_depth)
    result = reader.object(root, meta, (None, name, None), 1)
    if reader.issues:
        raise ParseError(capped(reader.issues, found=reader.found))
    return result


def _load(data: bytes, *, max_bytes: int) -> Any:
    """Bounds, encoding and security checks, then the parse; returns the root element."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError("parse_xml takes bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ParseError(
            [Issue("input-too-large", f"the document has {len(data)} bytes; at most {max_bytes}")]
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            [Issue("encoding-invalid", f"the document is not UTF-8 (byte {exc.start})")]
        ) from None
    declaration = _XML_DECLARATION.match(data)
    if declaration is not None:
        encoding = _DECLARED_ENCODING.search(declaration.group())
        if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            declared = encoding.group(1).decode("ascii", "replace")
            raise ParseError(
                [Issue("encoding-invalid", f"the document declares {declared}; FHIR XML is UTF-8")]
            )
    suspicious = b"<!DOCTYPE" in data or b"<!ENTITY" in data
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        if suspicious:
            raise ParseError([_forbidden()]) from None
        raise ParseError([_syntax_issue(exc)]) from None
    if _has_doctype(root):
        raise ParseError([_forbidden()])
    start = declaration.end() if declaration is not None else 0
    if data.find(b"<?", start) >= 0 and _has_processing_instruction(data):
        raise ParseError([Issue("xml-forbidden", "processing instructions are not allowed in FHIR XML")])
    return root


def _has_doctype(root: Any) -> bool:
    docinfo = root.getroottree().docinfo
    return bool(docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None)


def _forbidden() -> Issue:
    return Issue("xml-forbidden", "DTDs and entity declarations are not allowed in FHIR XML")


def _syntax_issue(exc: etree.XMLSyntaxError) -> Issue:
    message = str(exc.msg or exc)
    if "Excessive depth" in message or "huge" in message.lower():
        return Issue("input-too-large", f"the document is nested too deeply ({message})")
    line, column = exc.position if exc.position else (exc.lineno, 0)
    message = re.sub(r", line \d+, column \d+$", "", message)
    return Issue("invalid-xml", f"not well-formed XML at line {line}, column {column}: {message}")


def _has_processing_instruction(data: bytes) -> bool:
    """Confirm a ``<?`` seen in the bytes is a real PI, not text inside a comment or CDATA."""
    root = etree.fromstring(data, parser=_parser(keep_pis=True))
    siblings = [*root.itersiblings(preceding=True), *root.itersiblings()]
    if any(isinstance(node, etree._ProcessingInstruction) for node in siblings):
        return True
    return next(root.iter(etree.ProcessingInstruction), None) is not None


# A FHIRPath under construction: (parent, name, index or None); rendered only for issues.
_Path = tuple[Any, str, int | None]


def _render(path: _Path) -> str:
    parts: list[str] = []
    node: Any = path
    while node is not None:
        parent, name, index = node
        parts.append(name if index is None else f"{name}[{index}]")
        node = parent
    return ".".join(reversed(parts))


class _Reader:
    """One read: the walk over the lxml tree, with the issues it collects."""

    __slots__ = ("found", "issues", "max_depth")

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.issues: list[Issue] = []
        self.found = 0

    def issue(self, code: str, message: str, path: _Path) -> None:
        self.found += 1
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(Issue(code, message, _render(path)))

    def too_deep(self, path: _Path) -> ParseError:
        message = f"elements are nested deeper than {self.max_depth} levels"
        return ParseError([Issue("input-too-large", message, _render(path))])

    def too_many_attributes(self, count: int, path: _Path) -> ParseError:
        message = f"the element has {count} attributes; at most {MAX_ATTRIBUTES}"
        return ParseError([Issue("input-too-large", message, _render(path))])

    def object(self, el: Any, meta: TypeInfo, path: _Path, depth: int) -> dict[str, Any]:
        """Read a resource, datatype or backbone element into its JSON dict."""
        if depth >= self.max_depth and len(el):
            raise self.too_deep(path)
        out: dict[str, Any] = {"resourceType": meta.name} if meta.is_resource else {}
        attrib = el.attrib
        if attrib:
            if len(attrib) > MAX_ATTRIBUTES:
                raise self.too_many_attributes(len(attrib), path)
            allowed = meta.attributes
            for key, value in attrib.items():
                if key in allowed:
                    out[key] = value
                else:
                    self.bad_attribute(key, path)
        if _has_text(el.text):
            self.issue("element-invalid", _NO_TEXT, path)
        by_tag = meta.by_tag
        valueless: set[str] | None = None  # repeating primitives given an extension only
        for child in el:
            if _has_text(child.tail):
                self.issue("element-invalid", _NO_TEXT, path)
            tag = child.tag
            element = by_tag.get(tag)
            if element is None:
                self.unknown(child, meta, path)
                continue
            name = element.name
            if element.repeats:
                values = out.get(name)
                if values is None:
                    values = out[name] = []
                index: int | None = len(values)
            else:
                if name in out or ("_" + name) in out:
                    self.issue(
                        "element-invalid",
                        f"{name} may appear only once",
                        (path, name, None),
                    )
                    continue
                index = None
            kind = element.kind
            if kind is Kind.COMPLEX:
                if not (len(child) or child.attrib or _has_text(child.text)):
                    self.issue("element-invalid", "empty elements are not allowed", (path, name, index))
                    read: Any = None
                else:
                    read = self.object(child, element.meta, (path, name, index), depth + 1)
            elif kind <= Kind.DECIMAL:
                if self.primitive(child, element, out, index, (path, name, index), depth + 1):
                    if valueless is None:
                        valueless = set()
                    valueless.add(name)
                continue
            elif kind is Kind.RESOURCE:
                read = self.wrapped_resource(child, (path, name, index), depth + 1)
            else:
                read = self.xhtml(child, (path, name, index), depth + 1)
            if read is None:
                if index is not None and not out[name]:
                    del out[name]
            elif index is None:
                out[name] = read
            else:
                out[name].append(read)
        if valueless:
            # JSON has no "given": [null, null] when only "_given" carries something.
            for name in valueless:
                if name in out and all(value is None for value in out[name]):
                    del out[name]
        return out

    def primitive(
        self,
        el: Any,
        element: ElementInfo,
        out: dict[str, Any],
        index: int | None,
        path: _Path,
        depth: int,
    ) -> bool:
        """Read a primitive into ``out[name]`` and its id/extensions into ``out["_name"]``.

        Returns True when a repeating primitive got a null value (an extension only).
        """
        name = element.name
        attrib = el.attrib
        raw = attrib.get("value")
        extra: dict[str, Any] | None = None
        if len(el) or len(attrib) > (raw is not None):  # an id or extensions besides the value
            extra = self.object(el, _PRIMITIVE_READ, path, depth)
            extra.pop("value", None)
        elif _has_text(el.text):
            self.issue("element-invalid", _NO_TEXT, path)
        if raw is None:
            if not extra:
                self.issue("element-invalid", "a primitive element needs a value or an extension", path)
                if index is not None and not out[name]:
                    del out[name]
                return False
            value: Any = None
        else:
            value = self.convert(raw, element, path)
        if index is None:
            if value is not None:
                out[name] = value
            if extra:
                out["_" + name] = extra
            return False
        out[name].append(value)
        key = "_" + name
        extras = out.get(key)
        if extra:
            if extras is None:
                extras = out[key] = [None] * index
            extras.append(extra)
        elif extras is not None:
            extras.append(None)
        return value is None

    def convert(self, raw: str, element: ElementInfo, path: _Path) -> Any:
        kind = element.kind
        if kind is Kind.STRING:
            return raw
        if kind is Kind.BOOLEAN:
            if raw == "true":
                return True
            if raw == "false":
                return False
        elif kind is Kind.INTEGER:
            if _INTEGER.fullmatch(raw):
                return int(raw)
        elif len(raw) <= _DECIMAL_MAX_CHARS and _DECIMAL.fullmatch(raw):
            return Decimal(raw)
        self.issue("element-invalid", f"{raw!r} is not a valid FHIR {element.type_name}", path)
        return None

    def wrapped_resource(self, el: Any, path: _Path, depth: int) -> dict[str, Any] | None:
        """``<contained>``/``<resource>``/``<outcome>``: exactly one resource element inside."""
        attrib = el.attrib
        if attrib:
            if len(attrib) > MAX_ATTRIBUTES:
                raise self.too_many_attributes(len(attrib), path)
            for key in attrib:
                self.bad_attribute(key, path)
        inner = list(el)
        if len(inner) != 1:
            self.issue("element-invalid", "must hold exactly one resource", path)
            return None
        child = inner[0]
        if _has_text(el.text) or _has_text(child.tail):
            self.issue("element-invalid", _NO_TEXT, path)
        tag = child.tag
        if not tag.startswith(_FHIR_PREFIX):
            self.issue("xml-namespace", f"the resource must be in the {FHIR_NS} namespace", path)
            return None
        name = tag[_FHIR_PREFIX_LEN:]
        meta = resource_info(name)
        if meta is None:
            self.issue("resource-type-unknown", f"{name!r} is not a FHIR R4 resource", path)
            return None
        if depth >= self.max_depth:
            raise self.too_deep(path)
        return self.object(child, meta, path, depth + 1)

    def xhtml(self, el: Any, path: _Path, depth: int) -> str:
        """Narrative.div as JSON FHIR has it: the div element serialised, without its tail."""
        if depth + _height(el) - 1 > self.max_depth:
            raise self.too_deep(path)
        in_scope = len(el.nsmap)
        if in_scope > MAX_NAMESPACES:
            message = f"{in_scope} namespaces are declared in scope of the div; at most {MAX_NAMESPACES}"
            raise ParseError([Issue("input-too-large", message, _render(path))])
        if in_scope > 1:
            # Namespaces declared on ancestors would be copied onto the div: keep the used ones.
            el = _detached(el)
        return str(etree.tostring(el, encoding="unicode", with_tail=False))

    def unknown(self, child: Any, meta: TypeInfo, path: _Path) -> None:
        tag = child.tag
        if not isinstance(tag, str):  # pragma: no cover - the parser drops comments and PIs
            return
        if tag.startswith(_FHIR_PREFIX):
            local = tag[_FHIR_PREFIX_LEN:]
            element = meta.by_key.get(local)
            if element is not None and element.kind is Kind.XHTML:
                message = f"{local} must be in the {XHTML_NS} namespace"
                self.issue("xml-namespace", message, (path, local, None))
            elif local in meta.attributes:
                message = f"{local} is an attribute in FHIR XML, not an element"
                self.issue("element-unknown", message, (path, local, None))
            else:
                message = f"{local!r} is not an element of {meta.name}"
                self.issue("element-unknown", message, (path, local, None))
            return
        local = etree.QName(tag).localname
        namespace = etree.QName(tag).namespace
        where = f"the {namespace} namespace" if namespace else "no namespace"
        self.issue(
            "xml-namespace",
            f"element {local!r} is in {where}; FHIR elements are in {FHIR_NS}",
            (path, local, None),
        )

    def bad_attribute(self, key: str, path: _Path) -> None:
        if key.startswith("{"):
            qname = etree.QName(key)
            message = f"attribute {qname.localname!r} from {qname.namespace} is not allowed"
            self.issue("xml-namespace", message, path)
        else:
            self.issue("element-unknown", f"attribute {key!r} is not allowed here", path)


def _has_text(text: str | None) -> bool:
    return text is not None and not text.isspace()


def _height(el: Any) -> int:
    """Levels of elements from ``el`` down to its deepest descendant (1 for a leaf)."""
    deepest = 0
    for child in el:
        deepest = max(deepest, _height(child))
    return deepest + 1


def _detached(el: Any) -> Any:
    copy = etree.fromstring(etree.tostring(el, with_tail=False), parser=_parser())
    etree.cleanup_namespaces(copy)
    return copy


# --------------------------------------------------------------------------------------------
# writing


def dump_xml(resource: Mapping[str, Any], *, pretty: bool = False) -> bytes:
    """FHIR JSON-shaped dict -> FHIR XML bytes, UTF-8, with an XML declaration.

    The dict is what ``model.model_dump(mode="json")`` or ``json.loads`` gives (``Decimal``
    values from ``json.loads(..., parse_float=Decimal)`` keep their exact digits). Elements come
    out in the order the specification documents; ``fhir_comments`` and ``None`` values are
    ignored. A key the type does not define, a value of the wrong shape, an unknown
    ``resourceType`` or an ill-formed ``Narrative.div`` raise :class:`adapter.errors.UsageError`:
    the dict is the program's own, not the sender's. A character XML cannot hold is written as
    U+FFFD (``REPLACEMENT``): it never raises.

    >>> print(dump_xml({"resourceType": "Patient", "active": True}, pretty=True).decode())
    <?xml version="1.0" encoding="UTF-8"?>
    <Patient xmlns="http://hl7.org/fhir">
      <active value="true"/>
    </Patient>
    <BLANKLINE>
    """
    meta = _root_meta(resource)
    writer = _Writer(pretty)
    writer.out.append('<?xml version="1.0" encoding="UTF-8"?>')
    writer.resource(resource, meta, meta.name, 0, root=True)
    if pretty:
        writer.out.append("\n")
    text = "".join(writer.out)
    if _NOT_XML.search(text) is not None:
        text = _NOT_XML.sub(REPLACEMENT, text)
    return text.encode("utf-8")


def _root_meta(resource: Mapping[str, Any]) -> TypeInfo:
    if not isinstance(resource, Mapping):
        raise UsageError("dump_xml takes a FHIR JSON dict")
    name = resource.get("resourceType")
    meta = resource_info(name) if isinstance(name, str) else None
    if meta is None:
        raise UsageError(f"resourceType {name!r} is not a FHIR R4 resource")
    return meta


def _attribute(value: str) -> str:
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_ATTRIBUTE_ESCAPES)


def _lexical(value: Any, where: str) -> str:
    """The XML ``value`` attribute text of a JSON primitive."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if value.is_finite():
            return str(value)
    elif isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise UsageError(f"{where}: {value!r} is not a FHIR JSON primitive")


class _Writer:
    """One write: XML text fragments appended in document order."""

    __slots__ = ("out", "pretty")

    def __init__(self, pretty: bool) -> None:
        self.pretty = pretty
        self.out: list[str] = []

    def open(self, depth: int) -> None:
        if self.pretty:
            self.out.append("\n" + "  " * depth)

    def resource(
        self, data: Mapping[str, Any], meta: TypeInfo, where: str, depth: int, *, root: bool = False
    ) -> None:
        self.open(depth)
        namespace = f' xmlns="{FHIR_NS}"' if root else ""
        self.out.append(f"<{meta.name}{namespace}")
        self.body(data, meta, meta.name, where, depth)

    def object(self, data: Any, meta: TypeInfo, tag: str, where: str, depth: int) -> None:
        if not isinstance(data, Mapping):
            raise UsageError(f"{where}: expected an object, got {type(data).__name__}")
        self.open(depth)
        self.out.append("<" + tag)
        self.body(data, meta, tag, where, depth)

    def body(self, data: Mapping[str, Any], meta: TypeInfo, tag: str, where: str, depth: int) -> None:
        """Attributes, then children in documented order, then the end tag (after ``<tag``)."""
        out = self.out
        keys = data.keys()
        if not keys <= meta.known_keys:
            unknown = sorted(str(k) for k in keys - meta.known_keys)
            raise UsageError(f"{where}: {', '.join(unknown)} not defined for {meta.name}")
        for name in ("id", "url"):
            if name in meta.attributes:
                value = data.get(name)
                if value is not None:
                    if not isinstance(value, str):
                        raise UsageError(f"{where}.{name}: expected a string")
                    out.append(f' {name}="{_attribute(value)}"')
        by_key = meta.by_key
        present = sorted(
            {by_key[k] for k in keys if k in by_key and k not in meta.attributes},
            key=_position,
        )
        if not present:
            out.append("/>")
            return
        out.append(">")
        child_depth = depth + 1
        for element in present:
            name = element.name
            value = data.get(name)
            path = f"{where}.{name}"
            kind = element.kind
            if kind <= Kind.DECIMAL:
                self.primitive(element, value, data.get("_" + name), path, child_depth)
            elif value is None:
                continue
            elif element.repeats:
                if not isinstance(value, list):
                    raise UsageError(f"{path}: expected a list")
                for index, item in enumerate(value):
                    self.complex(element, item, f"{path}[{index}]", child_depth)
            else:
                self.complex(element, value, path, child_depth)
        self.open(depth)
        out.append(f"</{tag}>")

    def complex(self, element: ElementInfo, value: Any, where: str, depth: int) -> None:
        kind = element.kind
        if kind is Kind.COMPLEX:
            self.object(value, element.meta, element.name, where, depth)
        elif kind is Kind.RESOURCE:
            meta = _root_meta(value) if isinstance(value, Mapping) else None
            if meta is None:
                raise UsageError(f"{where}: expected a resource")
            self.open(depth)
            self.out.append(f"<{element.name}>")
            self.resource(value, meta, where, depth + 1)
            self.open(depth)
            self.out.append(f"</{element.name}>")
        else:
            self.open(depth)
            self.out.append(_xhtml(value, where))

    def primitive(self, element: ElementInfo, value: Any, extra: Any, where: str, depth: int) -> None:
        if not element.repeats:
            self.one_primitive(element.name, value, extra, where, depth)
            return
        values = value if value is not None else []
        extras = extra if extra is not None else []
        if not isinstance(values, list) or not isinstance(extras, list):
            raise UsageError(f"{where}: expected a list")
        for index in range(max(len(values), len(extras))):
            item = values[index] if index < len(values) else None
            item_extra = extras[index] if index < len(extras) else None
            self.one_primitive(element.name, item, item_extra, f"{where}[{index}]", depth)

    def one_primitive(self, name: str, value: Any, extra: Any, where: str, depth: int) -> None:
        if value is None and extra is None:
            return
        if isinstance(value, list | dict):
            raise UsageError(f"{where}: expected a primitive value")
        extensions = None
        element_id = None
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise UsageError(f"{where}: expected an object for _{name}")
            if not extra.keys() <= PRIMITIVE_EXTENSION.known_keys:
                raise UsageError(f"{where}: _{name} may hold only id and extension")
            element_id = extra.get("id")
            extensions = extra.get("extension")
        out = self.out
        self.open(depth)
        out.append("<" + name)
        if element_id is not None:
            out.append(f' id="{_attribute(_lexical(element_id, where))}"')
        if value is not None:
            out.append(f' value="{_attribute(_lexical(value, where))}"')
        if not extensions:
            out.append("/>")
            return
        if not isinstance(extensions, list):
            raise UsageError(f"{where}.extension: expected a list")
        out.append(">")
        element = PRIMITIVE_EXTENSION.by_key["extension"]
        for index, item in enumerate(extensions):
            self.complex(element, item, f"{where}.extension[{index}]", depth + 1)
        self.open(depth)
        out.append(f"</{name}>")


def _position(element: ElementInfo) -> int:
    return element.position


def _xhtml(value: Any, where: str) -> str:
    """Check a Narrative.div string is one well-formed XHTML div, and re-serialise it."""
    if not isinstance(value, str):
        raise UsageError(f"{where}: expected the XHTML as a string")
    if _NOT_XML.search(value) is not None:
        value = _NOT_XML.sub(REPLACEMENT, value)
    try:
        div = etree.fromstring(value.encode("utf-8"), parser=_parser())
    except (etree.XMLSyntaxError, UnicodeEncodeError) as exc:
        raise UsageError(f"{where}: not well-formed XHTML ({exc})") from None
    if div.tag != _DIV_TAG or _has_doctype(div):
        raise UsageError(f"{where}: must be one <div> in the {XHTML_NS} namespace")
    return str(etree.tostring(div, encoding="unicode", with_tail=False))
