"""The one issue-collecting reader and the one number → Decimal conversion both sides share."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from mappings.fhir import IssueReader, jsonio, to_decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("60.00"), Decimal("60.00")),
        (60, Decimal("60")),
        (60.0, Decimal("60.0")),
        (0.1, Decimal("0.1")),
        ("12.50", Decimal("12.50")),
    ],
)
def test_a_number_becomes_the_decimal_it_was_written_as(raw: Any, expected: Decimal) -> None:
    """Decimals keep their scale; a float converts through its shortest text, not its binary value."""
    value = to_decimal(raw)

    assert value == expected
    assert value is not None
    assert value.as_tuple() == expected.as_tuple()


@pytest.mark.parametrize("raw", [True, None, float("nan"), float("inf"), Decimal("NaN"), "abc", [1]])
def test_what_is_not_a_finite_number_reads_as_none(raw: Any) -> None:
    assert to_decimal(raw) is None


def test_plain_json_and_decimal_json_read_the_same_amount() -> None:
    """A float from plain ``json.loads`` gives the digits the sender wrote, as ``jsonio.loads`` does."""
    text = '{"value": 1234.56}'
    plain, exact = json.loads(text)["value"], jsonio.loads(text)["value"]

    assert to_decimal(plain) == to_decimal(exact) == Decimal("1234.56")


def test_one_error_per_element_only_when_asked() -> None:
    """A submission reader reports a defect once; a response reader keeps every error."""
    once, every = IssueReader(once_per_element=True), IssueReader(once_per_element=False)
    for reader in (once, every):
        reader.error("element-required", "first", "X.item[0]")
        reader.error("element-required", "second", "X.item[0]")
        reader.decimal("60", "X.value")

    assert [issue.message for issue in once.issues] == ["first", "expected a finite JSON number"]
    assert [issue.message for issue in every.issues] == ["first", "second", "expected a finite JSON number"]
    assert once.has_errors
    assert every.has_errors
