"""The JSON writer's fast path: the C encoder with marked Decimals, never turning text into numbers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings import jsonio
from mappings.jsonio import _MARK, _dumps_python

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
BUNDLES = sorted(path for path in FIXTURES.glob("*.json") if not path.name.endswith(".meta.json"))
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_text = st.text(
    alphabet=st.sampled_from(["a", "é", '"', "\\", "\n", "€", _MARK, "0", "1", ".", "-"]), max_size=8
)
_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10_000, max_value=10_000)
_scalars = st.one_of(_text, _decimals, st.integers(-(10**6), 10**6), st.booleans(), st.none())
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=25,
)


@pytest.mark.parametrize("path", BUNDLES, ids=lambda path: path.stem)
@pytest.mark.parametrize("indent", [None, 2])
def test_fixture_bundles_are_written_byte_for_byte_as_by_the_python_writer(
    path: Path, indent: int | None
) -> None:
    """Every fixture Bundle gives the same bytes through the fast path and the reference writer."""
    bundle = jsonio.loads(path.read_bytes())

    assert jsonio.dumps(bundle, indent=indent) == _dumps_python(bundle, indent=indent)
    assert jsonio.dumps(bundle, sort_keys=True) == _dumps_python(bundle, sort_keys=True)


@_SETTINGS
@given(_documents, st.sampled_from([None, 2]), st.booleans())
def test_any_document_is_written_as_the_python_writer_writes_it(
    document: Any, indent: int | None, sort_keys: bool
) -> None:
    """Marker characters, quotes and digit-like strings included, both writers agree and read back equal."""
    written = jsonio.dumps(document, indent=indent, sort_keys=sort_keys)

    assert written == _dumps_python(document, indent=indent, sort_keys=sort_keys)
    assert jsonio.loads(written) == document


def test_a_string_holding_the_marker_stays_a_string() -> None:
    """A user string shaped like a marked number is written as that string, not as a number."""
    forged = f"{_MARK}60.00{_MARK}"
    document = {"note": forged, "amount": Decimal("60.00"), "key" + _MARK: [forged]}

    written = jsonio.dumps(document)

    assert jsonio.loads(written) == document
    assert isinstance(jsonio.loads(written)["note"], str)
    assert written == _dumps_python(document)


def test_decimals_keep_their_digits_and_plain_json_matches_the_standard_encoder() -> None:
    """60.00 stays 60.00, 1E+2 becomes 100, and without Decimals the text is json.dumps's."""
    plain = {"a": [1, 2.5, True, None], "b": 'é"\\\n\u2028', "c": {}}

    assert (
        jsonio.dumps({"v": [Decimal("60.00"), Decimal("1E+2"), Decimal("-0.5")]}) == b'{"v":[60.00,100,-0.5]}'
    )
    assert jsonio.dumps(plain) == json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode()
    assert jsonio.dumps(Decimal("7.10")) == b"7.10"


@pytest.mark.parametrize(
    "value",
    [{1: "x"}, [{"a": {None: 1}}], ({"a": [{2.5: "y"}]},), {"a": Decimal("1"), True: "x"}],
    ids=["int", "nested-none", "in-a-tuple", "beside-a-decimal"],
)
def test_non_string_keys_are_refused_wherever_they_are(value: Any) -> None:
    """json.dumps would quietly write these keys as strings; the writer raises TypeError."""
    with pytest.raises(TypeError):
        jsonio.dumps(value)


def test_check_keys_false_skips_only_the_key_walk() -> None:
    """Without the walk, string-keyed documents come out the same; a stray key is not caught."""
    document = {"a": [Decimal("60.00"), {"b": None}], "c": "\x7f"}
    assert jsonio.dumps(document, check_keys=False) == jsonio.dumps(document)
    assert jsonio.dumps({1: "x"}, check_keys=False) == b'{"1":"x"}'


@pytest.mark.parametrize(("value", "error"), [(Decimal("NaN"), ValueError), ({"d": {1, 2}}, TypeError)])
def test_what_json_cannot_carry_is_refused(value: Any, error: type[Exception]) -> None:
    """A NaN Decimal and a set raise instead of writing something that is not JSON."""
    with pytest.raises(error):
        jsonio.dumps([Decimal("1.5"), value])
