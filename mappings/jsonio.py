"""JSON in and out for FHIR dicts, with ``Decimal`` kept exact (``60.00`` stays ``60.00``).

Reading uses ``parse_float=Decimal`` so money never passes through a float. The standard
encoder cannot write a Decimal as a number, and a float would lose the scale FHIR decimals
carry (fhir-notes.md §4.5). So the writer lets the C encoder write each Decimal as a string
wrapped in a marker character (``_MARK``), then cuts the quotes and markers around it. That
is safe only when every marker in the text is one the writer put there: it counts them, and
when a string of the document holds the marker itself (never in practice) it writes the
whole document again with a pure-Python writer, so a user's string never becomes a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps", "loads"]

# DEL: a control character nobody types, which the encoder writes raw (it escapes only those
# below U+0020) and which, unlike a character beyond U+00FF, keeps the text one byte a character.
_MARK = "\x7f"
_CONTAINERS = (dict, list, tuple)


def loads(data: bytes | str) -> Any:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal``."""
    return json.loads(data, parse_float=Decimal)


def dumps(
    value: Any, *, indent: int | None = None, sort_keys: bool = False, check_keys: bool = True
) -> bytes:
    """UTF-8 JSON, compact unless ``indent`` is given; Decimal becomes a number with its own digits.

    ``sort_keys`` writes every object's keys in order: with the compact form, a canonical text
    in which a Decimal and an int of the same digits agree (``1`` from JSON, ``1`` from XML).
    Raises ``TypeError`` for anything that is not JSON (sets, dates, non-string keys) and
    ``ValueError`` for NaN or infinities, which JSON cannot carry. ``check_keys=False`` skips
    the walk that refuses non-string keys (a third of the time), for documents whose keys are
    strings by construction, such as the ones the mappings build; the encoder would otherwise
    write an int key as a string.
    """
    if check_keys and isinstance(value, _CONTAINERS):
        _require_string_keys(value)  # json.dumps would write an int key as a string
    marked = 0

    def number(item: object) -> str:
        nonlocal marked
        if isinstance(item, Decimal):
            marked += 1
            return _MARK + _decimal(item) + _MARK
        raise TypeError(f"{type(item).__name__} is not JSON serialisable")

    text = json.dumps(
        value,
        ensure_ascii=False,
        check_circular=False,
        allow_nan=False,
        default=number,
        indent=indent or None,
        separators=(",", ": ") if indent else (",", ":"),
        sort_keys=sort_keys,
    )
    if marked:
        # ``…"<MARK>60.00<MARK>"…`` splits into text ending in a quote, a number, text between
        # two quotes, …, a number, text starting with a quote.
        parts = text.split(_MARK)
        if len(parts) != 2 * marked + 1:
            # A string of the document holds the marker.
            return _dumps_python(value, indent=indent, sort_keys=sort_keys)
        parts[0] = parts[0][:-1]
        for index in range(2, len(parts) - 1, 2):
            parts[index] = parts[index][1:-1]
        parts[-1] = parts[-1][1:]
        text = "".join(parts)
    return text.encode("utf-8")


def _require_string_keys(value: Any) -> None:
    """TypeError on a key that is not a string, anywhere in ``value`` (a dict, list or tuple)."""
    # Exact types first, then isinstance: this walk is a third of the writer's time.
    if type(value) is dict or isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
            kind = type(item)
            if kind is dict or kind is list or (kind is not str and isinstance(item, _CONTAINERS)):
                _require_string_keys(item)
    else:
        for item in value:
            kind = type(item)
            if kind is dict or kind is list or (kind is not str and isinstance(item, _CONTAINERS)):
                _require_string_keys(item)


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
        return {key: _sorted(value[key]) for key in sorted(value)}
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


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
    return encode_basestring(key)


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
