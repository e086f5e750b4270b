"""Plain-JSON view of domain objects, for ``adapter map`` and for storage.

Value objects become their canonical string, money a string with two decimals (never a
float), dates ISO 8601, enums their code; ``None`` fields are left out. A line also carries
its ``net`` and a request its ``total``, which are computed rather than stored.

It runs on the service's hot path (every stored request, decision and finding), so how to
convert a type is worked out once, the first time the type is seen, and kept in a table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from adapter.domain.values import Money

__all__ = ["to_jsonable"]

Converter = Callable[[Any], Any]


def to_jsonable(obj: Any) -> Any:
    kind = type(obj)
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(obj)


def _converter(kind: type) -> Converter:
    if issubclass(kind, Money):
        return _money
    if issubclass(kind, Enum):
        return _enum
    if issubclass(kind, (date, datetime)):
        return _isoformat
    if issubclass(kind, Decimal):
        return str
    if dataclasses.is_dataclass(kind):
        return _dataclass(kind)
    if issubclass(kind, (list, tuple)):
        return _items
    return _same


def _dataclass(kind: type) -> Converter:
    names = tuple(field.name for field in dataclasses.fields(kind))
    if names == ("value",):  # a value object: its canonical string
        return _value
    # Computed amounts that belong in the stored view: a line's net, a request's total.
    extras = tuple(
        extra
        for extra, beside in (("net", "unit_price"), ("total", "lines"))
        if hasattr(kind, extra) and beside in names
    )

    def convert(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(obj, name)
            if value is None or value == ():
                continue
            out[name] = to_jsonable(value)
        for name in extras:
            out[name] = to_jsonable(getattr(obj, name))
        return out

    return convert


def _money(obj: Money) -> str:
    text = str(obj.amount)
    return text if text[-3:-2] == "." and "E" not in text else f"{obj.amount:.2f}"


def _enum(obj: Enum) -> Any:
    return obj.value


def _isoformat(obj: date) -> str:
    return obj.isoformat()


def _value(obj: Any) -> Any:
    return obj.value


def _items(obj: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [to_jsonable(item) for item in obj]


def _same(obj: Any) -> Any:
    return obj


_CONVERTERS: dict[type, Converter] = {str: _same, int: _same, bool: _same, float: _same, type(None): _same}
