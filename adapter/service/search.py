"""The search parameters' token forms, read into what the store filters on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.domain import ForeignId
from adapter.errors import InvalidValueError
from mappings.systems import INS_NIA, NIR

__all__ = ["insurer_of", "patient_key", "request_criteria", "token_value"]

#: A value no stored identifier equals: a token naming another system matches nothing. A unit
#: separator, not a NUL, which PostgreSQL refuses in a text parameter.
NO_MATCH = "\x1fno-match"


def insurer_of(resource: Mapping[str, Any]) -> str | None:
    """The ``insurer.identifier.value`` of a stored ClaimResponse."""
    identifier = resource.get("insurer", {}).get("identifier", {})
    value = identifier.get("value")
    return value if isinstance(value, str) else None


def token_value(token: str | None, system: str | None) -> str | None:
    """``system|value`` or ``value``; a system other than the expected one matches nothing."""
    if token is None:
        return None
    if "|" in token:
        given, _, value = token.partition("|")
        if system is not None and given and given != system:
            return NO_MATCH
        return value
    return token


def patient_key(token: str | None, eu_person: str) -> str | None:
    """The history key a ``patient.identifier`` token names: a NIR or an INS-NIA as given (both
    key alike), or the key derived from a CEAM/S1 holder's personal number (``eu_person|CC:number``)."""
    if token is not None and token.startswith(f"{eu_person}|"):
        try:
            return ForeignId(token.partition("|")[2]).key.value
        except InvalidValueError:
            return NO_MATCH
    nia = token is not None and token.startswith(f"{INS_NIA}|")
    return token_value(token, INS_NIA if nia else NIR)


def request_criteria(request: str | None) -> tuple[tuple[str, str] | None, str | None]:
    """``request``: ``system|value`` of an identifier, or ``[Claim/]id`` of the stored Claim."""
    if request is None:
        return None, None
    if "|" in request:
        system, _, value = request.partition("|")
        return (system, value), None
    return None, request.rsplit("/", 1)[-1]
