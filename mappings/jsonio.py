"""JSON in and out for FHIR dicts, with ``Decimal`` kept exact (``60.00`` stays ``60.00``).

Reading uses ``parse_float=Decimal`` so money never passes through a float. The standard
encoder cannot write a Decimal as a number and a float would lose the scale FHIR decimals
carry (fhir-notes.md §4.5), so the writer builds the text itself. It leans on the C string
escaper and handles only the JSON types a FHIR dict holds, which keeps it near ``json.dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps", "loads"]


def loads(data: bytes | str) -> Any:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal``."""
    return json.loads(data, parse_float=Decimal)


def dumps(value: Any, *, indent: int | None = None) -> bytes:
    """UTF-8 JSON, compact unless ``indent`` is given; Decimal becomes a number with its own digits.

    Raises ``TypeError`` for anything that is not JSON (sets, dates, non-string keys) and
    ``ValueError`` for NaN or infinities, which JSON cannot carry.
    """
    parts: list[str] = []
    if indent:
        _pretty(value, parts.append, " " * indent, "\n")
    else:
        _write(value, parts.append)
    return "".join(parts).encode("utf-8")


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"JSON has no number for {value}")
        return format(value, "f")
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
