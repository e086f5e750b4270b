"""Synthetic identifiers with valid keys: THE NIR helper, and Luhn-keyed FINESS, SIRET and RPPS.

Tests and fixtures invent every identifier; these helpers add the check key so that an invented
number is accepted wherever a real one would be. ``nir`` returns the 15-character string (what a
FHIR resource carries); where a domain value is needed, write ``Nir(nir(...))``.
"""

from __future__ import annotations

from adapter.domain.values import nir_key

__all__ = ["finess", "luhn_complete", "nir", "rpps", "siret"]


def nir(body13: str) -> str:
    """A 15-character NIR: the 13 characters given plus their key (Corsica's 2A/2B handled)."""
    return f"{body13}{nir_key(body13):02d}"


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit that makes ``digits`` + key pass ``luhn_valid``."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return f"{digits}{(10 - total % 10) % 10}"


def finess(first8: str) -> str:
    """A 9-character FINESS with a Luhn key; Corsica's 2A/2B count as 20 for the key."""
    keyed = luhn_complete("20" + first8[2:] if first8[:2] in ("2A", "2B") else first8)
    return first8 + keyed[-1]


def rpps(first10: str) -> str:
    """An 11-digit RPPS ending with a Luhn key, as real ones do (the payers flag others)."""
    return luhn_complete(first10)


def siret(siren8: str, nic4: str) -> str:
    """A SIRET whose SIREN and whole 14 digits both pass Luhn."""
    return luhn_complete(luhn_complete(siren8) + nic4)
