"""``to_jsonable`` (per-type converters) gives exactly what the plain ``isinstance`` version gave
on every domain object.

``_reference`` is the implementation the converters replaced, kept verbatim; outputs are
compared with ``repr`` as well as ``==`` so key order, str/int/bool and list/tuple all count.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.domain.jsonable import to_jsonable
from adapter.domain.request import ReimbursementRequest
from adapter.domain.values import Money
from adapter.intake import read_submission
from tests import strategies_decision, strategies_request

VALID = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
_SCALAR_FIELDS = ("value",)


def _reference(obj: Any) -> Any:
    """``adapter.domain.jsonable.to_jsonable`` before the per-type converters."""
    if isinstance(obj, Money):
        return f"{obj.amount:.2f}"
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = tuple(field.name for field in dataclasses.fields(type(obj)))
        if len(names) == 1 and names[0] in _SCALAR_FIELDS:
            return getattr(obj, names[0])
        out = {}
        for name in names:
            value = getattr(obj, name)
            if value is None or value == ():
                continue
            out[name] = _reference(value)
        if hasattr(obj, "net") and hasattr(obj, "unit_price"):
            out["net"] = _reference(obj.net)
        if hasattr(obj, "total") and hasattr(obj, "lines"):
            out["total"] = _reference(obj.total)
        return out
    if isinstance(obj, (list, tuple)):
        return [_reference(item) for item in obj]
    return obj


def assert_same(obj: Any) -> None:
    expected = _reference(obj)
    got = to_jsonable(obj)
    assert got == expected
    assert repr(got) == repr(expected)


@given(strategies_request.requests())
def test_generated_requests(request: ReimbursementRequest) -> None:
    assert_same(request)


@settings(suppress_health_check=[HealthCheck.too_slow])  # generation is slow on a loaded machine
@given(strategies_decision.submissions())
def test_generated_decisions_and_findings(submission: strategies_decision.Submission) -> None:
    assert_same(submission.request)
    assert_same(submission.amo)
    assert_same(submission.amc)
    assert_same(list(submission.findings))


@pytest.mark.parametrize(
    "path", sorted(p for p in VALID.glob("*.json") if not p.name.endswith(".meta.json")), ids=lambda p: p.stem
)
def test_fixture_requests(path: Path) -> None:
    assert_same(read_submission(path.read_bytes()).request)


def _hand_built(amount: object) -> Money:
    money = object.__new__(Money)
    object.__setattr__(money, "amount", amount)
    return money


@given(
    st.decimals(min_value=-(10**15), max_value=10**15, places=2)
    | st.decimals(min_value=-(10**15), max_value=10**15)
    | st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), Decimal("1E+5"), Decimal("5E-7"), Decimal(-0)])
)
def test_money_of_any_decimal(amount: Decimal) -> None:
    """Money's fast path (``str``) only when it reads like ``:.2f``; odd amounts still format."""
    assert_same(_hand_built(amount))
