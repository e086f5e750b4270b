"""JSON in and out for FHIR dicts, with ``Decimal`` kept exact (``60.00`` stays ``60.00``).

Reading uses ``parse_float=Decimal`` so money never passes through a float. Writing uses
the C encoder: each Decimal is swapped for a marked string that the encoder escapes to a
fixed shape, and one regular-expression pass turns those back into bare JSON numbers.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

_MARK = "\x00#"
_MARKED = re.compile(r'"\\u0000#(-?[0-9][0-9.Ee+-]*)"')


def loads(data: bytes | str) -> Any:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal``."""
    return json.loads(data, parse_float=Decimal)


def _mark(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mark(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark(item) for item in value]
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("JSON cannot carry NaN or infinities")
        return f"{_MARK}{value:f}"  # fixed-point keeps the scale: 60.00 stays 60.00
    return value


def dumps(value: Any, *, indent: int | None = None) -> bytes:
    """Compact (or indented) UTF-8 JSON; Decimal values are written as exact JSON numbers."""
    text = json.dumps(
        _mark(value), ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")
    )
    return _MARKED.sub(r"\1", text).encode("utf-8")
