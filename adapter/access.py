"""Who is asking and what they may touch: the one caller type and the one read rule.

Authentication turns a token into a :class:`Caller`; the service checks a submit with
:func:`may_submit` and a read with :func:`may_read`; the store turns :data:`READ_GRANTS`
into its SQL filter. The read rule is written once, here, as data, so the Python check and
the SQL filter cannot drift apart (a test runs both on every combination of tenant kinds).

Identifiers are compared in their canonical form (what ``adapter.domain.values`` gives):
the registry stores them so, the mappings read them so, and the store keeps them so.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["READ_GRANTS", "Caller", "Grant", "may_read", "may_submit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """A client and what it acts for: providers by FINESS or SIRET, mutuelles by AMC number.

    ``everything`` is True only for the development client or when authentication is off.
    ``name`` is for people (the clients file's label) and plays no part in any decision.
    """

    client_id: str
    finess: frozenset[str] = frozenset()
    siret: frozenset[str] = frozenset()
    amc: frozenset[str] = frozenset()
    everything: bool = False
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Grant:
    """One way to see a stored submission: its ``column`` equals the caller's ``attribute``
    (``match="equal"``) or is one of its values (``match="member"``)."""

    column: Literal["client_id", "provider_finess", "provider_siret", "amc_number"]
    attribute: Literal["client_id", "finess", "siret", "amc"]
    match: Literal["equal", "member"]

    def allows(self, caller: Caller, row: Mapping[str, str | None]) -> bool:
        value = row.get(self.column)
        if value is None:
            return False
        wanted = getattr(caller, self.attribute)
        return bool(value == wanted) if self.match == "equal" else value in wanted


#: A caller sees a submission when it has ``everything``, or when any grant holds: it submitted
#: it, its provider is one of the caller's organisations, or its AMC leg goes to one of the
#: caller's AMC numbers. Anything else is unseen (the API answers 404, never 403).
READ_GRANTS: tuple[Grant, ...] = (
    Grant("client_id", "client_id", "equal"),
    Grant("provider_finess", "finess", "member"),
    Grant("provider_siret", "siret", "member"),
    Grant("amc_number", "amc", "member"),
)


def may_read(caller: Caller, row: Mapping[str, str | None]) -> bool:
    """Whether ``caller`` may read a stored submission, given its :data:`READ_GRANTS` columns."""
    return caller.everything or any(grant.allows(caller, row) for grant in READ_GRANTS)


def may_submit(caller: Caller, finess: str | None, siret: str | None) -> bool:
    """Whether ``caller`` may bill for the provider with these (canonical) identifiers.

    Every identifier the provider carries must be one of the caller's: a client bound to a
    SIRET cannot slip another facility's FINESS next to it and so make its claims readable by
    that facility. A provider with no identifier is refused.
    """
    if finess is None and siret is None:
        return False
    if caller.everything:
        return True
    return (finess is None or finess in caller.finess) and (siret is None or siret in caller.siret)
