"""The content hash compared on replay: SHA-256 of the Bundle's canonical JSON (docs/persistence.md)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from adapter.intake import Format, read_submission
from adapter.service.claims import content_hash
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"


def test_the_hash_is_sha256_of_the_documented_canonical_text() -> None:
    """Keys sorted, no whitespace, UTF-8 as is, numbers with their own digits."""
    bundle = {"z": {"b": Decimal("1.50"), "a": 2}, "name": "Léa", "list": [True, None, "€"]}
    canonical = '{"list":[true,null,"€"],"name":"Léa","z":{"a":2,"b":1.50}}'.encode()

    assert content_hash(bundle) == hashlib.sha256(canonical).hexdigest()


def test_key_order_does_not_change_the_hash() -> None:
    """The same members written in another order hash alike."""
    assert content_hash({"a": 1, "b": {"c": "x", "d": "y"}}) == content_hash(
        {"b": {"d": "y", "c": "x"}, "a": 1}
    )


def test_an_integer_and_a_decimal_of_the_same_digits_hash_alike() -> None:
    """JSON reads 1 as an int where XML reads Decimal("1"): one content, one hash."""
    assert content_hash({"value": 1}) == content_hash({"value": Decimal("1")})


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (Decimal("60.0"), Decimal("60.00")),
        (Decimal("60.00"), "60.00"),
        ("Léa", "Lea"),
    ],
    ids=["scale", "number-or-string", "accent"],
)
def test_different_content_hashes_differently(one: object, other: object) -> None:
    """A decimal's scale, a number against its text, a letter: each is a change of content."""
    assert content_hash({"value": one}) != content_hash({"value": other})


@pytest.mark.parametrize("name", ["01-purchase-standard", "09-telemonitoring", "20-telemonitoring-ald"])
def test_the_json_and_xml_of_one_bundle_hash_alike(name: str) -> None:
    """The Bundle read from its JSON and from its XML twin gives the same hash."""
    data = (FIXTURES / f"{name}.json").read_bytes()
    from_json = read_submission(data, Format.JSON)
    from_xml = read_submission(dump_xml(jsonio.loads(data)), Format.XML)

    assert content_hash(from_json.bundle) == content_hash(from_xml.bundle)
