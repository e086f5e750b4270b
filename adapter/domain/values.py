"""Value objects: identifiers and money that refuse bad values at construction.

Each raises :class:`adapter.errors.InvalidValueError` with a stable code, so a caller that
builds one from untrusted input can turn the failure into an OperationOutcome issue.
Sources for every rule: ``docs/domain-fr.md`` §4.3 (identifiers) and §1.2 (money).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Self

from adapter.errors import InvalidValueError

__all__ = [
    "Adeli",
    "AmcNumber",
    "AmoOrganisme",
    "Finess",
    "ForeignId",
    "Gtin",
    "LppCode",
    "Money",
    "Nir",
    "Rpps",
    "Siret",
    "gtin_valid",
    "luhn_valid",
    "nir_key",
]

CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)
_FRENCH_DIGITS = str.maketrans({",": "\u202f", ".": ","})


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits; False for anything else."""
    if not digits.isdigit():
        return False
    if not digits.isascii():  # digits of other scripts, as int() reads them
        digits = "".join(str(int(char)) for char in digits)
    # From the right: every other digit counts as is, the others doubled (minus 9 above 9).
    total = sum(map(_LUHN_PLAIN.__getitem__, digits[-1::-2]))
    return (total + sum(map(_LUHN_DOUBLED.__getitem__, digits[-2::-2]))) % 10 == 0


_LUHN_PLAIN = {str(digit): digit for digit in range(10)}
_LUHN_DOUBLED = {str(digit): 2 * digit - 9 if digit > 4 else 2 * digit for digit in range(10)}


_NIR_RE = re.compile(r"^[1278](\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$")


def nir_key(nir13: str) -> int:
    """The NIR key: 97 − (NIR mod 97), with Corsica's 2A → 19 and 2B → 18 substituted first."""
    number = nir13.upper()
    if number[5:7] == "2A":
        number = number[:5] + "19" + number[7:]
    elif number[5:7] == "2B":
        number = number[:5] + "18" + number[7:]
    if len(number) != 13 or not number.isdigit():
        raise InvalidValueError("nir-format", f"cannot compute a NIR key for {mask_nir(nir13)!r}")
    return 97 - int(number) % 97


def mask_nir(value: str) -> str:
    """Keep sex and birth year only: ``1 84 …``; safe for logs."""
    return f"{value[:1]} {value[1:3]} …" if len(value) >= 3 else "…"


@dataclass(frozen=True, slots=True)
class Nir:
    """NIR (numéro d'inscription au répertoire) with its key: 15 characters.

    Sex digit 1/2, or 7/8 for provisional numbers; Corsican départements 2A/2B are
    accepted and the key computed with 19/18 substituted.
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value.replace(" ", "").upper()
        object.__setattr__(self, "value", value)
        if not _NIR_RE.match(value):
            raise InvalidValueError(
                "nir-format",
                "a NIR is 13 characters (sex 1/2/7/8, year, month, département, commune, order) "
                "followed by a 2-digit key",
            )
        if nir_key(value[:13]) != int(value[13:]):
            raise InvalidValueError("nir-key", "the NIR key does not match 97 − (NIR mod 97)")

    @property
    def sex_digit(self) -> str:
        return self.value[0]

    @property
    def provisional(self) -> bool:
        return self.value[0] in "78"

    @property
    def masked(self) -> str:
        return mask_nir(self.value)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Nir({self.masked!r})"


_FOREIGN_RE = re.compile(r"^([A-Z]{2}):([0-9A-Za-z][0-9A-Za-z ./-]{0,39})$")


@dataclass(frozen=True, slots=True)
class ForeignId:
    """A number another EU/EEA state or Switzerland attributes, written ``CC:number``.

    ``CC`` is the state's ISO 3166-1 alpha-2 code (``EL`` for Greece, as the EU writes it), the
    number as the European Health Insurance Card prints it (the holder's personal identification
    number, card field 6; the competent institution's identification number, field 7), the way
    EESSI names institutions. The number is kept as written (up to 40 characters).
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip()
        object.__setattr__(self, "value", value)
        if not _FOREIGN_RE.match(value):
            raise InvalidValueError(
                "foreign-id-format",
                "a foreign number is written CC:number (ISO 3166-1 alpha-2 country, a colon, "
                "then up to 40 letters, digits, spaces, dots, slashes or hyphens)",
            )

    @property
    def country(self) -> str:
        return self.value[:2]

    @property
    def number(self) -> str:
        return self.value[3:]

    @property
    def key(self) -> Nir:
        """A NIR-shaped beneficiary key for the history, ledger and locks of a card holder.

        Département ``00`` is never attributed by the INSEE, so the key cannot be a person's NIR
        or INS-NIA; the other ten digits are a SHA-256 digest of the country and the number
        (spaces, dots, slashes and hyphens dropped, letters upper-cased), so the same person
        keys the same history on every card. Never shown: the Patient keeps its own number.
        """
        canonical = self.country + ":" + re.sub(r"[ ./-]", "", self.number).upper()
        digest = int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big") % 10**10
        digits = f"{digest:010d}"
        number13 = f"7{digits[:4]}00{digits[4:]}"
        return Nir(f"{number13}{nir_key(number13):02d}")

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"ForeignId({self.country + ':…'!r})"


def _digits(value: str, length: int, code: str, what: str) -> str:
    value = value.strip()
    if len(value) != length or not value.isdigit() or not value.isascii():
        raise InvalidValueError(code, f"{what} has {length} digits")
    return value


@dataclass(frozen=True, slots=True)
class Rpps:
    """RPPS number of a health professional: 11 digits (no public check-key algorithm)."""

    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _digits(self.value, 11, "rpps-format", "an RPPS number"))

    def __str__(self) -> str:
        return self.value


_ADELI_RE = re.compile(r"^(\d{2}|2A|2B)\d{7}$")


@dataclass(frozen=True, slots=True)
class Adeli:
    """ADELI number: 9 characters, a département (2A/2B for Corsica) then 7 digits."""

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip().upper()
        object.__setattr__(self, "value", value)
        if not _ADELI_RE.match(value):
            raise InvalidValueError("adeli-format", "an ADELI number has 9 characters")

    def __str__(self) -> str:
        return self.value


_FINESS_RE = re.compile(r"^[0-9A-Z]{9}$")


@dataclass(frozen=True, slots=True)
class Finess:
    """FINESS number: 9 alphanumeric characters.

    Its last digit is a Luhn key on every real number seen, but no official source confirms
    the algorithm, so a failing key is reported as a warning (``key_valid``), not refused.
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip().upper()
        object.__setattr__(self, "value", value)
        if not _FINESS_RE.match(value):
            raise InvalidValueError("finess-format", "a FINESS number has 9 alphanumeric characters")

    @property
    def key_valid(self) -> bool:
        """Luhn over the number, Corsica's 2A/2B read as 20/20 (B2 rewrites them 2001/2002)."""
        digits = self.value
        if digits[:2] in ("2A", "2B"):
            digits = "20" + digits[2:]
        return luhn_valid(digits)

    def __str__(self) -> str:
        return self.value


_LA_POSTE_SIREN = "356000000"


@dataclass(frozen=True, slots=True)
class Siret:
    """SIRET: 14 digits with a Luhn key (La Poste's establishments use digit sum mod 5)."""

    value: str

    def __post_init__(self) -> None:
        value = _digits(self.value.replace(" ", ""), 14, "siret-format", "a SIRET")
        object.__setattr__(self, "value", value)
        if value.startswith(_LA_POSTE_SIREN):
            valid = sum(int(c) for c in value) % 5 == 0
        else:
            valid = luhn_valid(value)
        if not valid:
            raise InvalidValueError("siret-format", "the SIRET key (Luhn) does not match")

    @property
    def siren(self) -> str:
        return self.value[:9]

    def __str__(self) -> str:
        return self.value


_LPP_RE = re.compile(r"^[0-9A-Z]{7}$")


@dataclass(frozen=True, slots=True, order=True)
class LppCode:
    """LPP code: 7 characters; digits for most, upper-case alphanumeric for a few titres."""

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip()
        object.__setattr__(self, "value", value)
        if not _LPP_RE.match(value):
            raise InvalidValueError(
                "lpp-code-format", "an LPP code has 7 characters (digits or upper-case letters)"
            )

    def __str__(self) -> str:
        return self.value


_GTIN_LENGTHS = (8, 12, 13, 14)


@dataclass(frozen=True, slots=True, order=True)
class Gtin:
    """GS1 GTIN: how a device off the LPP is identified (8, 12, 13 or 14 digits, mod-10 key).

    Connected devices carry one as the device identifier of their UDI; the AMO does not
    reimburse them, but a mutuelle may, under a guarantee of its own.
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip()
        object.__setattr__(self, "value", value)
        if not (value.isascii() and value.isdigit() and len(value) in _GTIN_LENGTHS) or not gtin_valid(value):
            raise InvalidValueError(
                "gtin-format", "a GTIN has 8, 12, 13 or 14 digits and a valid check digit"
            )

    def __str__(self) -> str:
        return self.value


def gtin_valid(digits: str) -> bool:
    """The GS1 check digit: weights 3 and 1 alternate leftwards from the digit before the key."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class AmoOrganisme:
    """AMO organisme: 9 digits = régime (2) + caisse (3) + centre (4)."""

    value: str

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "value", _digits(self.value, 9, "amo-organisme-format", "an AMO organisme number")
        )

    @property
    def regime(self) -> str:
        return self.value[:2]

    @property
    def caisse(self) -> str:
        return self.value[2:5]

    @property
    def centre(self) -> str:
        return self.value[5:]

    def __str__(self) -> str:
        return self.value


_AMC_RE = re.compile(r"^[0-9A-Z]{1,10}$")


@dataclass(frozen=True, slots=True)
class AmcNumber:
    """AMC (mutuelle) organisation number: up to 10 alphanumeric characters (B2 field 02119).

    Its internal structure and key are not publicly confirmed, so only the form is checked.
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value.strip().upper()
        object.__setattr__(self, "value", value)
        if not _AMC_RE.match(value):
            raise InvalidValueError("amc-number-format", "an AMC number has 1 to 10 alphanumeric characters")

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in euros, always held to the cent (``Decimal``, never ``float``).

    Construction from a value with more than two decimals rounds half-up; use
    :meth:`exact` for input that must already be in cents (billed amounts). The amount
    always has exactly two decimal places and is never ``-0.00``: arithmetic relies on it.
    """

    amount: Decimal

    def __post_init__(self) -> None:
        amount = self.amount
        if isinstance(amount, (float, bool)):  # type: ignore[unreachable]
            raise TypeError("Money never takes a float")  # pragma: no cover
        try:
            amount = Decimal(amount)
            if not amount.is_finite():
                raise InvalidOperation
            amount = amount.quantize(CENT, ROUND_HALF_UP)
        except InvalidOperation:
            raise InvalidValueError("money-invalid", f"{self.amount!r} is not an amount") from None
        object.__setattr__(self, "amount", amount + _ZERO)

    @classmethod
    def _cents_exact(cls, amount: Decimal) -> Money:
        """Build from a Decimal already exact to the cent, skipping validation (hot path:
        sums and differences of Money, and values just quantized here)."""
        money = _new(Money)
        _set_amount(money, amount + _ZERO)
        return money

    @classmethod
    def of(cls, value: str | int | Decimal) -> Self:
        """Money from a string, integer or Decimal, rounded half-up to the cent."""
        return cls(Decimal(value) if not isinstance(value, Decimal) else value)

    @classmethod
    def exact(cls, value: str | int | Decimal) -> Self:
        """Money that must already be a whole number of cents; refuses ``1.005``."""
        try:
            decimal = Decimal(value)
        except InvalidOperation:
            raise InvalidValueError("money-invalid", f"{value!r} is not an amount") from None
        if not decimal.is_finite() or decimal != decimal.quantize(CENT, rounding=ROUND_HALF_UP):
            raise InvalidValueError("money-invalid", f"{value!r} has more than 2 decimal places")
        return cls(decimal)

    @classmethod
    def zero(cls) -> Self:
        return cls._cents_exact(_ZERO)  # type: ignore[return-value]

    @classmethod
    def from_cents(cls, cents: int) -> Self:
        return cls(Decimal(cents) / 100)

    @property
    def cents(self) -> int:
        return int(self.amount * 100)

    # Ordering by amount, written out rather than generated (``order=True``) because the
    # engines compare amounts on every line: same results, half the cost.
    def __lt__(self, other: Money) -> bool:
        if other.__class__ is self.__class__:
            return self.amount < other.amount
        return NotImplemented

    def __le__(self, other: Money) -> bool:
        if other.__class__ is self.__class__:
            return self.amount <= other.amount
        return NotImplemented

    def __gt__(self, other: Money) -> bool:
        if other.__class__ is self.__class__:
            return self.amount > other.amount
        return NotImplemented

    def __ge__(self, other: Money) -> bool:
        if other.__class__ is self.__class__:
            return self.amount >= other.amount
        return NotImplemented

    # Two amounts to the cent add up to an amount to the cent, and only ``-0.00`` operands
    # (which Money never holds) could make a ``-0.00`` sum: no quantize, no normalisation.
    def __add__(self, other: Money) -> Money:
        money = _new(Money)
        _set_amount(money, self.amount + other.amount)
        return money

    def __sub__(self, other: Money) -> Money:
        money = _new(Money)
        _set_amount(money, self.amount - other.amount)
        return money

    def __neg__(self) -> Money:
        return _money(-self.amount + _ZERO)

    def times(self, factor: int | Decimal) -> Money:
        """Multiply and round half-up to the cent (quantity × unit price, BR × taux)."""
        product = self.amount * factor
        return _money(product.quantize(CENT, ROUND_HALF_UP) + _ZERO)

    def percent(self, rate: Decimal | int) -> Money:
        """``rate`` percent of this amount, half-up to the cent: ``Money.of(100).percent(60)``."""
        share = self.amount * rate / _HUNDRED
        return _money(share.quantize(CENT, ROUND_HALF_UP) + _ZERO)

    def clamp_min_zero(self) -> Money:
        return self if self.amount >= 0 else _ZERO_MONEY

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.amount} EUR"

    def fr(self) -> str:
        """French rendering: ``1 234,56 €`` (narrow no-break space for thousands)."""
        text = str(self.amount)
        if text[-3:-2] != ".":  # not two decimals (only a hand-built amount): format it
            return f"{self.amount:,.2f} €".translate(_FRENCH_DIGITS)
        if len(text) <= 6:  # no thousands: "999.99", "-99.99"
            return text.replace(".", ",") + " €"
        if text[0] == "-":
            return "-" + _grouped(text[1:], "\u202f", ",") + " €"
        return _grouped(text, "\u202f", ",") + " €"

    def en(self) -> str:
        """English rendering: ``€1,234.56``."""
        text = str(self.amount)
        sign = "€"
        if text[0] == "-":
            text = text[1:]
            if self.amount < 0:  # "-0.00" reads "€0.00"
                sign = "-€"
        if text[-3:-2] != ".":
            return f"{sign}{abs(self.amount):,.2f}"
        if len(text) <= 6:
            return sign + text
        return sign + _grouped(text, ",", ".")


def _grouped(text: str, thousands: str, point: str) -> str:
    """An unsigned amount's ``str()`` (plain notation, two decimals) with its integer part
    grouped by three: what ``format(amount, ",.2f")`` gives, several times faster."""
    whole = text[:-3]
    if len(whole) <= 3:
        return whole + point + text[-2:]
    if len(whole) <= 6:  # below a million: one separator
        return whole[:-3] + thousands + whole[-3:] + point + text[-2:]
    head = len(whole) % 3 or 3
    groups = [whole[:head]]
    groups.extend(whole[i : i + 3] for i in range(head, len(whole), 3))
    return thousands.join(groups) + point + text[-2:]


_new = object.__new__
_set_amount = Money.__dict__["amount"].__set__


def _money(amount: Decimal) -> Money:
    """A Money around an amount already to the cent and never ``-0.00`` (no validation)."""
    money = _new(Money)
    _set_amount(money, amount)
    return money


_ZERO_MONEY = Money(_ZERO)
