"""The JSON writer: orjson with exact Decimals, byte for byte the pure-Python reference writer."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.domain import Money
from mappings.fhir import jsonio
from mappings.fhir.jsonio import _dumps_python

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
BUNDLES = sorted(path for path in FIXTURES.glob("*.json") if not path.name.endswith(".meta.json"))
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CHARACTERS = ["a", "é", '"', "\\", "\n", "\x00", "\x7f", "\u2028", "€", "\U0001d11e", "0", "1", ".", "-"]
_text = st.text(alphabet=st.sampled_from(_CHARACTERS), max_size=8)
_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10_000, max_value=10_000)
_scalars = st.one_of(_text, _decimals, st.integers(-(10**30), 10**30), st.booleans(), st.none())
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


def test_a_string_shaped_like_a_number_stays_a_string() -> None:
    """A user string holding digits is written as that string, not as a number."""
    forged = "60.00"
    document = {"note": forged, "amount": Decimal("60.00"), "key\x7f": [forged]}

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
@pytest.mark.parametrize("sort_keys", [False, True])
def test_non_string_keys_are_refused_wherever_they_are(value: Any, sort_keys: bool) -> None:
    """json.dumps would quietly write these keys as strings; the writer raises TypeError."""
    with pytest.raises(TypeError, match="keys are strings"):
        jsonio.dumps(value, sort_keys=sort_keys)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Decimal("NaN"), ValueError),
        (Decimal("-Infinity"), ValueError),
        ({"d": {1, 2}}, TypeError),
        (date(2026, 1, 1), TypeError),
        (Money.of("1.00"), TypeError),
    ],
    ids=["nan-decimal", "infinite-decimal", "set", "date", "dataclass"],
)
def test_what_json_cannot_carry_is_refused(value: Any, error: type[Exception]) -> None:
    """Non-finite Decimals, sets, dates and dataclasses raise instead of being written somehow."""
    with pytest.raises(error):
        jsonio.dumps([Decimal("1.5"), value])


def test_integers_beyond_64_bits_are_written_whole() -> None:
    """orjson stops at 64 bits; the Python writer takes over, with every digit."""
    big = 10**30 + 7
    assert jsonio.dumps({"n": [big, -big]}) == f'{{"n":[{big},-{big}]}}'.encode()


@pytest.mark.parametrize("indent", [1, 4])
def test_other_indents_are_written_by_the_python_writer(indent: int) -> None:
    document = {"a": [Decimal("60.00"), {"b": None}], "c": {}}
    assert jsonio.dumps(document, indent=indent) == _dumps_python(document, indent=indent)
    assert jsonio.loads(jsonio.dumps(document, indent=indent)) == document


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_the_reader_refuses_non_json_constants(text: str) -> None:
    """The standard parser accepts NaN and Infinity; they are not JSON."""
    with pytest.raises(ValueError, match="not a JSON number"):
        jsonio.loads(text)


def test_every_character_is_written_as_the_standard_encoder_writes_it() -> None:
    """All of Unicode but surrogates: the canonical text, hence every stored content hash, is unchanged."""
    text = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)

    assert jsonio.dumps({text: [text]}, sort_keys=True) == json.dumps(
        {text: [text]}, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
