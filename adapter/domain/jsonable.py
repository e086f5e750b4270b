"""Plain-JSON view of domain objects, both ways: for ``adapter map``, storage and the payer protocol.

Value objects become their canonical string, money a string with two decimals (never a
float), dates ISO 8601, enums their code; ``None`` fields are left out. A line also carries
its ``net`` and a request its ``total``, which are computed rather than stored.
:func:`from_jsonable` reads that view back into the typed object (a remote payer's decision,
a request sent to one), refusing with ``ValueError`` what does not fit the type.

It runs on the service's hot path (every stored request, decision and finding), so how to
convert a type is worked out once, the first time the type is seen, and kept in a table.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from adapter.domain.values import Money
from adapter.errors import InvalidValueError

__all__ = ["from_jsonable", "to_jsonable"]

_T = TypeVar("_T")
#: The computed amounts ``to_jsonable`` adds: read back, they are ignored (they are recomputed).
_COMPUTED = frozenset({"net", "total"})

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


def from_jsonable(kind: type[_T], data: Any, *, at: str = "$") -> _T:
    """The ``kind`` object whose :func:`to_jsonable` view is ``data``.

    ``ValueError`` names the JSON path (``at``) of the first thing that does not fit: a wrong
    JSON kind, an unknown or missing field, a value a value object refuses (a NIR's key…), an
    amount that is not a whole number of cents.
    """
    return _decode(kind, data, at)  # type: ignore[no-any-return]


def _decode(kind: Any, data: Any, at: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        if data is None:
            return None
        if len(options) != 1:  # pragma: no cover - the domain has no such field
            raise TypeError(f"cannot decode {kind}")
        return _decode(options[0], data, at)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        if not isinstance(data, list):
            raise ValueError(f"{at}: expected an array")
        return tuple(_decode(item, value, f"{at}[{index}]") for index, value in enumerate(data))
    if kind is Any:
        return data
    if not isinstance(kind, type):  # pragma: no cover - the domain has no such field
        raise TypeError(f"cannot decode {kind}")
    if issubclass(kind, Money):
        text = _string(data, at)
        try:
            return Money.exact(text)
        except (InvalidValueError, InvalidOperation, ValueError):
            raise ValueError(f"{at}: {text!r} is not an amount in cents") from None
    if issubclass(kind, bool):
        if not isinstance(data, bool):
            raise ValueError(f"{at}: expected true or false")
        return data
    if issubclass(kind, int):
        if isinstance(data, bool) or not isinstance(data, int):
            raise ValueError(f"{at}: expected an integer")
        return data
    if issubclass(kind, Enum):
        try:
            return kind(data)
        except ValueError:
            raise ValueError(f"{at}: {data!r} is not a {kind.__name__}") from None
    if issubclass(kind, str):
        return _string(data, at)
    if issubclass(kind, datetime):
        moment = _parsed(datetime.fromisoformat, data, at)
        if moment.tzinfo is None:
            raise ValueError(f"{at}: a date-time needs its UTC offset")
        return moment
    if issubclass(kind, date):
        return _parsed(date.fromisoformat, data, at)
    if issubclass(kind, Decimal):
        text = _string(data, at)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{at}: {text!r} is not a decimal") from None
        if not value.is_finite():
            raise ValueError(f"{at}: {text!r} is not a decimal")
        return value
    if dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, data, at)
    raise TypeError(f"cannot decode {kind}")  # pragma: no cover - the domain has no such field


@functools.cache
def _shape(kind: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """A dataclass's resolved field types and fields, worked out once per class (resolving the
    annotations is most of a decode's cost otherwise)."""
    return typing.get_type_hints(kind), {field.name: field for field in dataclasses.fields(kind)}


def _decode_dataclass(kind: type, data: Any, at: str) -> Any:
    hints, fields = _shape(kind)
    try:
        if tuple(fields) == ("value",):  # a value object: its canonical string
            return kind(_string(data, at))
        if not isinstance(data, dict):
            raise ValueError(f"{at}: expected an object")
        unknown = sorted(set(data) - set(fields) - _COMPUTED)
        if unknown:
            raise ValueError(f"{at}: unknown field {unknown[0]!r}")
        values: dict[str, Any] = {}
        for name, field in fields.items():
            if name in data:
                values[name] = _decode(hints[name], data[name], f"{at}.{name}")
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise ValueError(f"{at}: {name} is required")
        return kind(**values)
    except InvalidValueError as exc:
        raise ValueError(f"{at}: {exc.message}") from None


def _string(data: Any, at: str) -> str:
    if not isinstance(data, str):
        raise ValueError(f"{at}: expected a string")
    return data


def _parsed(parse: Callable[[str], _T], data: Any, at: str) -> _T:
    text = _string(data, at)
    try:
        return parse(text)
    except ValueError:
        raise ValueError(f"{at}: {text!r} is not an ISO 8601 date") from None
