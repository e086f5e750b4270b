"""JSON in and out for FHIR dicts, with ``Decimal`` kept exact (``60.00`` stays ``60.00``).

Reading uses ``parse_float=Decimal`` so money never passes through a float, and refuses the
``NaN``/``Infinity`` constants the standard parser would accept: they are not JSON.
``loads_fhir``, the reader of what senders send, also refuses what JSON allows and FHIR does
not: a key given twice in one object (JSON keeps the last one silently), and a string or key
holding a character XML cannot carry (U+0000–U+001F but tab, LF and CR, U+FFFE, U+FFFF, a lone
surrogate), which the JSON parser would read from a ``\\u`` escape. Writing goes
through orjson (about ten times the standard encoder, which this project runs on every answer
and every content hash), with each Decimal handed back as the text of its own digits. What
orjson refuses (a key that is not a string, an integer beyond 64 bits, a NaN Decimal, a lone
surrogate, a type with no JSON form) is written again by the pure-Python writer, which either
writes it (big integers) or raises the precise error; the two writers give the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from json.encoder import encode_basestring
from typing import Any

import orjson

from adapter.errors import MAX_ISSUES

__all__ = ["Location", "NotFhirJson", "dumps", "loads", "loads_fhir"]

_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def loads(data: bytes | str) -> Any:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal``; ``NaN`` raises ValueError."""
    return json.loads(data, parse_float=Decimal, parse_constant=_not_json)


#: Where a problem is: the keys and list indexes from the root (``("entry", 0, "resource")``).
Location = tuple[str | int, ...]

# Characters XML 1.0 cannot carry (a lone surrogate cannot even be written as UTF-8).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class NotFhirJson(ValueError):
    """Well-formed JSON that FHIR refuses: ``problems`` gives the location and description of
    the first ``MAX_ISSUES`` of them, ``found`` how many there are, ``value`` what the JSON
    parser read (the last of repeated keys kept)."""

    def __init__(self, problems: list[tuple[Location, str]], found: int, value: Any) -> None:
        super().__init__(problems[0][1])
        self.problems = problems
        self.found = found
        self.value = value


class _Duplicate(Exception):
    """Raised by the parser's object hook at the first object with a key given twice."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


class _Marked(dict[str, Any]):
    """An object whose pairs repeated a key: the repeated keys, in order of first repetition."""

    duplicates: list[str]


def _marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Marked(obj)
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for key, _ in pairs:
        if key in seen:
            repeated[key] = None
        seen.add(key)
    marked.duplicates = list(repeated)
    return marked


def loads_fhir(text: str) -> Any:
    """Parse a FHIR JSON body as ``loads`` does, refusing what JSON allows and FHIR does not.

    Raises ``NotFhirJson`` (a ``ValueError``) with the keys given twice in one object and the
    strings or keys holding a character XML cannot carry, each with its location. Costs little
    over ``loads``: the object hook only compares sizes, and the text is searched for the
    characters (only a ``\\u`` escape can make most of them) before any walk is made. The walk
    is linear in the document, however deep: locations are built for reported problems only.
    """
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_not_json, object_pairs_hook=_unique)
    except _Duplicate:
        value = json.loads(text, parse_float=Decimal, parse_constant=_not_json, object_pairs_hook=_marking)
        problems = _Problems()
        problems.duplicates(value, None)
        raise NotFhirJson(problems.kept, problems.found, value) from None
    if "\\u" in text or "\ufffe" in text or "\uffff" in text:
        problems = _Problems()
        problems.characters(value, None)
        if problems.found:
            raise NotFhirJson(problems.kept, problems.found, value)
    return value


# A location under construction: (parent, step) links, made into a ``Location`` when reported.
_Link = tuple[Any, str | int] | None


def _location(link: _Link) -> Location:
    steps: list[str | int] = []
    while link is not None:
        link, step = link
        steps.append(step)
    return tuple(reversed(steps))


class _Problems:
    """One walk's findings: the first ``MAX_ISSUES`` with their locations, and how many in all."""

    __slots__ = ("found", "kept")

    def __init__(self) -> None:
        self.kept: list[tuple[Location, str]] = []
        self.found = 0

    def add(self, link: _Link, message: Callable[[], str]) -> None:
        self.found += 1
        if len(self.kept) < MAX_ISSUES:
            self.kept.append((_location(link), message()))

    def duplicates(self, value: Any, link: _Link) -> None:
        if isinstance(value, dict):
            if isinstance(value, _Marked):
                for key in value.duplicates:
                    self.add((link, key), partial(_duplicate_message, key))
            for key, item in value.items():
                if isinstance(item, dict | list):
                    self.duplicates(item, (link, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    self.duplicates(item, (link, index))

    def characters(self, value: Any, link: _Link) -> None:
        if isinstance(value, str):
            found = _NOT_XML.search(value)
            if found is not None:
                self.add(link, partial(_character_message, "the value", found))
        elif isinstance(value, dict):
            for key, item in value.items():
                found = _NOT_XML.search(key)
                if found is not None:
                    self.add(link, partial(_character_message, "a key", found))
                else:
                    self.characters(item, (link, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.characters(item, (link, index))


def _short(key: str) -> str:
    """A key as quoted in a message: its repr, cut to a readable length."""
    return repr(key) if len(key) <= 64 else repr(key[:64]) + "…"


def _duplicate_message(key: str) -> str:
    return f"the key {_short(key)} is given more than once in the same object"


def _character_message(what: str, found: re.Match[str]) -> str:
    return (
        f"{what} holds U+{ord(found.group()):04X} at character {found.start()}: "
        "FHIR strings cannot carry control characters, U+FFFE, U+FFFF or lone surrogates"
    )


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> bytes:
    """UTF-8 JSON, compact unless ``indent`` is given; Decimal becomes a number with its own digits.

    ``sort_keys`` writes every object's keys in order: with the compact form, a canonical text
    in which a Decimal and an int of the same digits agree (``1`` from JSON, ``1`` from XML).
    Raises ``TypeError`` for anything that is not JSON (sets, dates, dataclasses, non-string
    keys) and ``ValueError`` for a NaN or infinite Decimal. Floats are written as orjson writes
    them (a NaN float as ``null``): no reader of this project makes one.
    """
    if indent not in (None, 0, 2):  # orjson indents by two spaces only
        return _dumps_python(value, indent=indent, sort_keys=sort_keys)
    option = _PASSTHROUGH
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    try:
        return orjson.dumps(value, default=_digits, option=option)
    except TypeError:
        return _dumps_python(value, indent=indent, sort_keys=sort_keys)


def _digits(item: object) -> orjson.Fragment:
    if type(item) is Decimal and item.is_finite():
        return orjson.Fragment(format(item, "f"))
    raise TypeError  # orjson gives up and dumps() asks the Python writer, which names the problem


def _dumps_python(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> bytes:
    """The same text as ``dumps``, written in Python: the fallback, and the reference in tests."""
    if sort_keys:
        value = _sorted(value)
    parts: list[str] = []
    if indent:
        _pretty(value, parts.append, " " * indent, "\n")
    else:
        _write(value, parts.append)
    return "".join(parts).encode("utf-8")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value, key=_string)}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return value


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"JSON has no number for {value}")
    return format(value, "f")


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"JSON has no number for {value}")
        return float.__repr__(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _string(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
    return key


def _key(key: Any) -> str:
    return encode_basestring(_string(key))


def _write(value: Any, out: Callable[[str], None]) -> None:
    # Ordered by frequency in a FHIR Bundle; strings first.
    if isinstance(value, str):
        out(encode_basestring(value))
    elif isinstance(value, dict):
        out("{")
        first = True
        for key, item in value.items():
            if not first:
                out(",")
            first = False
            out(_key(key))
            out(":")
            _write(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _write(item, out)
        out("]")
    else:
        out(_scalar(value))


def _pretty(value: Any, out: Callable[[str], None], step: str, newline: str) -> None:
    if isinstance(value, dict) and value:
        inner = newline + step
        out("{")
        for index, (key, item) in enumerate(value.items()):
            out(("," if index else "") + inner + _key(key) + ": ")
            _pretty(item, out, step, inner)
        out(newline + "}")
    elif isinstance(value, list | tuple) and value:
        inner = newline + step
        out("[")
        for index, item in enumerate(value):
            out(("," if index else "") + inner)
            _pretty(item, out, step, inner)
        out(newline + "]")
    elif isinstance(value, dict):
        out("{}")
    elif isinstance(value, list | tuple):
        out("[]")
    else:
        out(_scalar(value))
