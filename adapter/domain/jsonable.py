"""Plain-JSON view of domain objects, for ``adapter map`` and for storage.

Value objects become their canonical string, money a string with two decimals (never a
float), dates ISO 8601, enums their code; ``None`` fields are left out.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from adapter.domain.values import Money

__all__ = ["to_jsonable"]

_SCALAR_FIELDS = ("value",)


@lru_cache(maxsize=256)
def _fields(kind: type) -> tuple[str, ...]:
    """Field names of a dataclass type (cached: ``dataclasses.fields`` is slow on hot paths)."""
    return tuple(field.name for field in dataclasses.fields(kind))


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, Money):
        return f"{obj.amount:.2f}"
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _fields(type(obj))
        if len(names) == 1 and names[0] in _SCALAR_FIELDS:
            return getattr(obj, names[0])
        out = {}
        for name in names:
            value = getattr(obj, name)
            if value is None or value == ():
                continue
            out[name] = to_jsonable(value)
        if hasattr(obj, "net") and hasattr(obj, "unit_price"):
            out["net"] = to_jsonable(obj.net)
        if hasattr(obj, "total") and hasattr(obj, "lines"):
            out["total"] = to_jsonable(obj.total)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(item) for item in obj]
    return obj
