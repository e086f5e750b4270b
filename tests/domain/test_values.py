"""Value objects refuse bad values with stable codes and keep money exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.domain.values import (
    Adeli,
    AmcNumber,
    AmoOrganisme,
    Finess,
    LppCode,
    Money,
    Nir,
    Rpps,
    Siret,
    luhn_valid,
    nir_key,
)
from adapter.errors import InvalidValueError
from tests.support.identifiers import nir


@pytest.mark.parametrize(
    ("nir13", "key"),
    [("2951099126111", 93), ("253072B073004", 70), ("253072A073004", 43)],
)
def test_nir_key_matches_the_documented_examples(nir13: str, key: int) -> None:
    """The key is 97 − NIR mod 97, with Corsica's 2A/2B read as 19/18."""
    assert nir_key(nir13) == key
    assert Nir(f"{nir13}{key:02d}").value == f"{nir13}{key:02d}"


def test_nir_refuses_a_wrong_key_with_its_code() -> None:
    """A NIR whose key does not match is refused with nir-key."""
    with pytest.raises(InvalidValueError) as caught:
        Nir("295109912611194")
    assert caught.value.code == "nir-key"


@pytest.mark.parametrize("value", ["29510991261119", "395109912611193", "2951099126111AB", ""])
def test_nir_refuses_malformed_numbers(value: str) -> None:
    """Wrong length, sex digit 3 or a non-digit key are format errors."""
    with pytest.raises(InvalidValueError) as caught:
        Nir(value)
    assert caught.value.code == "nir-format"


def test_nir_accepts_provisional_sex_digits_and_masks_itself() -> None:
    """Sex digits 7 and 8 mark provisional NIRs; repr never shows the full number."""
    body = "7951099126111"
    provisional = Nir(nir(body))
    assert provisional.provisional
    assert "126111" not in repr(provisional)


def test_identifier_lengths_are_enforced() -> None:
    """RPPS 11 digits, ADELI 9 characters, AMO organisme 9 digits, LPP 7 characters."""
    assert Rpps("10101201234").value == "10101201234"
    assert Adeli("2A1234567").value == "2A1234567"
    assert AmoOrganisme("011751234").regime == "01"
    assert AmoOrganisme("011751234").caisse == "175"
    assert AmoOrganisme("011751234").centre == "1234"
    assert LppCode("1101720").value == "1101720"
    for build, value, code in [
        (Rpps, "1010120123", "rpps-format"),
        (Adeli, "12345678", "adeli-format"),
        (AmoOrganisme, "01175123", "amo-organisme-format"),
        (LppCode, "110172", "lpp-code-format"),
        (LppCode, "110172a", "lpp-code-format"),
        (AmcNumber, "12345678901", "amc-number-format"),
        (Finess, "75071218", "finess-format"),
    ]:
        with pytest.raises(InvalidValueError) as caught:
            build(value)
        assert caught.value.code == code


def test_finess_key_is_only_a_warning_property() -> None:
    """A FINESS failing Luhn is still built; key_valid reports the check."""
    assert Finess("750712184").key_valid
    assert not Finess("750712185").key_valid


def test_siret_checks_luhn_and_la_poste_rule() -> None:
    """SIRET keys use Luhn, except La Poste's establishments (digit sum multiple of 5)."""
    assert Siret("73282932000074").siren == "732829320"
    assert Siret("35600000000001").value == "35600000000001"
    with pytest.raises(InvalidValueError):
        Siret("73282932000075")


@given(st.text("0123456789", min_size=2, max_size=20))
def test_luhn_detects_any_single_digit_change(digits: str) -> None:
    """Changing one digit of a Luhn-valid number always breaks the check."""
    for last in "0123456789":
        if luhn_valid(digits + last):
            altered = digits + str((int(last) + 1) % 10)
            assert not luhn_valid(altered)
            break


def test_money_rounds_half_up_and_refuses_floats() -> None:
    """Amounts round half-up to the cent; floats are refused outright."""
    assert Money.of("1.005").amount == Decimal("1.01")
    assert Money.of("2.675").amount == Decimal("2.68")
    assert Money.of(100).percent(60) == Money.of("60.00")
    assert Money.of("12.35").times(4) == Money.of("49.40")
    assert Money.of("2469.12").percent(60) == Money.of("1481.47")
    with pytest.raises(TypeError):
        Money(0.1)  # type: ignore[arg-type]


def test_money_exact_refuses_sub_cent_amounts() -> None:
    """Billed amounts must already be in cents."""
    with pytest.raises(InvalidValueError) as caught:
        Money.exact("1.005")
    assert caught.value.code == "money-invalid"
    assert Money.exact("1.50").cents == 150


def test_money_renders_in_french_and_english() -> None:
    """French uses a comma and a narrow no-break space; English a point and commas."""
    assert Money.of("1234.5").fr() == "1\u202f234,50 €"
    assert Money.of("1234.5").en() == "€1,234.50"
    assert Money.of("60").fr() == "60,00 €"
