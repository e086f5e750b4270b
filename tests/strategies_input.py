"""Hypothesis strategies for hostile input: the fixture Bundles, mutated.

Each example starts from a valid fixture (JSON or its XML twin) and applies one to three
mutations, structural ones on the parsed Bundle (key deletion and duplication, wrong types,
huge numbers, deep nesting, characters FHIR strings cannot hold, odd keys) and byte-level
ones on the bytes sent (flips, truncation, insertions, BOMs, UTF-16, XML markup). The result
says what was done, so a failing example reads as a recipe.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from adapter.errors import UsageError
from adapter.intake import Format
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "valid"
SOURCES: tuple[Path, ...] = tuple(
    sorted(
        path
        for path in FIXTURES.iterdir()
        if path.suffix in (".json", ".xml") and not path.name.endswith(".meta.json")
    )
)

#: Characters XML 1.0 cannot hold, which FHIR strings refuse: controls, U+FFFE, U+FFFF, lone surrogates.
BAD_CHARACTERS: tuple[str, ...] = (
    *(chr(point) for point in range(0x20) if point not in (0x9, 0xA, 0xD)),
    "\ufffe",
    "\uffff",
    "\ud800",
    "\udfff",
)

_WRONG_TYPES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    "",
    "x",
    [],
    {},
    [None],
    [{}],
    {"a": 1},
    Decimal("1.5"),
)
_HUGE_NUMBERS: tuple[Any, ...] = (
    10**400,
    -(10**30),
    2**63,
    Decimal("1E+400"),
    Decimal("-1E-400"),
    Decimal("0." + "0" * 500 + "1"),
    Decimal("9" * 200 + ".99"),
)
_ODD_KEYS = ("", "_", "__proto__", "resourceType", "_resourceType", "\u00e9", "a" * 300, "fhir_comments")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00")
_XML_INSERTS = (
    b'<!DOCTYPE Bundle [<!ENTITY x "xxxxxxxxxx">]>',
    b'<!DOCTYPE Bundle SYSTEM "http://127.0.0.1:9/x.dtd">',
    b"&x;",
    b"&#0;",
    b"&#xFFFE;",
    b"<?pi data?>",
    b"<![CDATA[text]]>",
    b"<!-- comment -->",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
    b' xsi:schemaLocation="http://hl7.org/fhir http://127.0.0.1:9/fhir.xsd"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    b' a="1" a="2"',
    b"<extension>" * 80,
    b"</x>",
)


@dataclass(frozen=True)
class Raw:
    """JSON text written as is (deep nesting the writers would refuse to produce)."""

    text: str


@dataclass(frozen=True)
class Twice:
    """An object whose ``key`` is written twice: first ``first``, then the object's own value."""

    pairs: dict[str, Any]
    key: str
    first: Any


def to_json(value: Any) -> str:
    """JSON text of ``value``, with ``Raw`` and ``Twice`` written as they say; strings are
    ASCII-escaped, so that lone surrogates can be written at all."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Twice):
        pairs = [(value.key, value.first), *value.pairs.items()]
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in pairs) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal | int):
        return str(value)
    return json.dumps(value)


def _places(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every element's location, the root excluded."""
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*path, index))


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _parent(tree: Any, path: tuple[str | int, ...]) -> Any:
    node = tree
    for step in path[:-1]:
        node = node[step]
    return node


def _nested(depth: int, kind: str) -> Raw:
    if kind == "array":
        return Raw("[" * depth + "1" + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


@st.composite
def _structural(draw: st.DrawFn, tree: dict[str, Any]) -> str:
    """Change ``tree`` in place (or wrap part of it in ``Twice``/``Raw``); say what was done."""
    places = list(_places(tree))
    kind = draw(
        st.sampled_from(
            ["delete", "duplicate", "wrong type", "huge number", "deep nesting", "bad character", "odd key"]
        )
    )
    if kind == "duplicate":
        objects = [obj for obj in _objects(tree) if obj]
        target = draw(st.sampled_from(objects))
        key = draw(st.sampled_from(sorted(target)))
        first = target[key] if draw(st.booleans()) else draw(st.sampled_from(_WRONG_TYPES))
        pairs = dict(target)
        target.clear()
        target["\0twice"] = Twice(pairs, key, copy.deepcopy(first))
        return f"key {key!r} given twice"
    if kind == "odd key":
        target = draw(st.sampled_from(list(_objects(tree))))
        key = draw(st.sampled_from(_ODD_KEYS + tuple(f"k{c}" for c in BAD_CHARACTERS[:3])))
        target[key] = draw(st.sampled_from(("x", None, 1, {"a": "b"})))
        return f"odd key {key!r}"
    path = draw(st.sampled_from(places))
    parent = _parent(tree, path)
    step = path[-1]
    where = ".".join(map(str, path))
    if kind == "delete":
        del parent[step]
        return f"{where} deleted"
    if kind == "wrong type":
        parent[step] = copy.deepcopy(draw(st.sampled_from(_WRONG_TYPES)))
        return f"{where} → {parent[step]!r}"
    if kind == "huge number":
        parent[step] = draw(st.sampled_from(_HUGE_NUMBERS))
        return f"{where} → a huge number"
    if kind == "deep nesting":
        depth = draw(st.sampled_from([65, 200, 2_000, 20_000]))
        parent[step] = _nested(depth, draw(st.sampled_from(["array", "object"])))
        return f"{where} → nested {depth} deep"
    character = draw(st.sampled_from(BAD_CHARACTERS))
    value = parent[step]
    text = value if isinstance(value, str) else "x"
    at = draw(st.integers(0, len(text)))
    parent[step] = text[:at] + character + text[at:]
    return f"{where} holds U+{ord(character):04X}"


def _restore(node: Any) -> Any:
    """Put back the objects ``duplicate`` cleared: ``{"\\0twice": Twice}`` → the ``Twice``."""
    if isinstance(node, dict):
        twice = node.get("\0twice")
        if len(node) == 1 and isinstance(twice, Twice):
            return Twice({k: _restore(v) for k, v in twice.pairs.items()}, twice.key, twice.first)
        return {key: _restore(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_restore(item) for item in node]
    return node


def _writable_as_xml(node: Any) -> bool:
    if isinstance(node, Raw | Twice):
        return False
    if isinstance(node, dict):
        return all(_writable_as_xml(value) for value in node.values())
    if isinstance(node, list):
        return all(_writable_as_xml(item) for item in node)
    return True


@st.composite
def _byte_level(draw: st.DrawFn, data: bytes, fmt: Format) -> tuple[bytes, str]:
    kinds = ["flip", "truncate", "insert", "bom", "duplicate slice", "control byte"]
    if fmt is Format.XML:
        kinds += ["xml markup", "xml markup"]
    else:
        kinds += ["utf-16"]
    kind = draw(st.sampled_from(kinds))
    size = len(data)
    at = draw(st.integers(0, size))
    if kind == "flip" and size:
        at = min(at, size - 1)
        mask = draw(st.integers(1, 255))
        return data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :], f"byte {at} xor {mask}"
    if kind == "truncate":
        return data[:at], f"truncated at {at}"
    if kind == "insert":
        extra = draw(st.binary(min_size=1, max_size=8))
        return data[:at] + extra + data[at:], f"{extra!r} inserted at {at}"
    if kind == "bom":
        bom = draw(st.sampled_from(_BOMS))
        at = draw(st.sampled_from([0, at]))
        return data[:at] + bom + data[at:], f"BOM {bom!r} at {at}"
    if kind == "duplicate slice":
        end = draw(st.integers(at, min(size, at + 200)))
        return data[:end] + data[at:end] + data[end:], f"bytes {at}:{end} repeated"
    if kind == "control byte":
        byte = draw(st.sampled_from([0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F]))
        return data[:at] + bytes([byte]) + data[at:], f"byte {byte:#04x} inserted at {at}"
    if kind == "utf-16":
        encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32"]))
        text = data.decode("utf-8-sig", errors="replace")
        return text.encode(encoding, errors="surrogatepass"), f"re-encoded as {encoding}"
    insert = draw(st.sampled_from(_XML_INSERTS))
    if insert.startswith(b" "):  # an attribute: into the first start tag after ``at``
        tag = data.find(b">", data.find(b"<", at))
        if tag > 0:
            at = tag - 1 if data[tag - 1 : tag] == b"/" else tag
    return data[:at] + insert + data[at:], f"{insert[:40]!r} inserted at {at}"


@dataclass(frozen=True)
class HostileInput:
    """A mutated fixture: the bytes, the format they claim, and how they were made."""

    data: bytes
    format: Format
    steps: tuple[str, ...]


@st.composite
def hostile_inputs(draw: st.DrawFn) -> HostileInput:
    """One to three mutations of one fixture, structural first, then on the bytes."""
    suffix = draw(st.sampled_from([".json", ".xml"]))  # as many XML as JSON, though fewer fixtures
    source = draw(st.sampled_from([path for path in SOURCES if path.suffix == suffix]))
    fmt = Format.XML if source.suffix == ".xml" else Format.JSON
    data = source.read_bytes()
    steps = [source.name]
    structural = draw(st.integers(0, 2))
    if structural:
        tree = jsonio.loads(source.with_suffix(".json").read_bytes())
        for _ in range(structural):
            steps.append(draw(_structural(tree)))
        tree = _restore(tree)
        if fmt is Format.XML and _writable_as_xml(tree):
            try:
                data = dump_xml(tree)
            except (UsageError, TypeError, ValueError):  # XML cannot carry this change: send JSON
                fmt = Format.JSON
        else:
            fmt = Format.JSON
        if fmt is Format.JSON:
            data = to_json(tree).encode("utf-8")
    for _ in range(draw(st.integers(0 if structural else 1, 2))):
        data, step = draw(_byte_level(data, fmt))
        steps.append(step)
    return HostileInput(data, fmt, tuple(steps))


def describe(case: HostileInput) -> str:
    return f"{case.format.value}: " + " / ".join(case.steps)
