"""SMART Backend Services scopes: what a token's ``scope`` claim lets a client do.

Accepted grammar (SMART App Launch 1.0 and 2.0, ``system/`` context only)::

    scope       = "system/" resource "." permissions
    resource    = a FHIR resource type, or "*" for every type
    permissions = "read" | "write" | "*"                      (SMART v1)
                | one or more of "c" "r" "u" "d" "s", in that order   (SMART v2)

SMART v1 ``read`` means v2 ``rs``, ``write`` means ``cud`` and ``*`` means ``cruds``. Scopes
with a query (v2 granular scopes such as ``system/Claim.c?type=…``) grant nothing here, since
the adapter cannot honour the restriction; ``patient/`` and ``user/`` scopes grant nothing
either. Two operations are guarded:

========  ===============================  =========================================
access    needs (resource, interaction)    examples of scopes that grant it
========  ===============================  =========================================
SUBMIT    ``Claim``, create (``c``)        ``system/Claim.write``, ``system/Claim.c``,
                                           ``system/Claim.cruds``, ``system/*.write``,
                                           ``system/*.*``
READ      ``ClaimResponse``, read (``r``)  ``system/ClaimResponse.read``,
                                           ``system/ClaimResponse.r``, ``.rs``, ``.cruds``,
                                           ``system/*.read``, ``system/*.*``
========  ===============================  =========================================

READ also covers reading the stored Claims of a submission.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

from adapter.auth.failures import ScopeInsufficient
from adapter.auth.tokens import Principal

__all__ = ["Access", "grants", "interactions", "require_scope"]

_V1 = {"read": frozenset("rs"), "write": frozenset("cud"), "*": frozenset("cruds")}
_V2 = re.compile(r"c?r?u?d?s?")
_SCOPE = re.compile(r"system/(\*|[A-Z][A-Za-z]*)\.([a-z*]+)")


class Access(Enum):
    """An operation the API guards, with the resource and SMART interaction it needs."""

    SUBMIT = ("Claim", "c", "system/Claim.write")
    READ = ("ClaimResponse", "r", "system/ClaimResponse.read")

    @property
    def resource(self) -> str:
        return self.value[0]

    @property
    def interaction(self) -> str:
        return self.value[1]

    @property
    def scope(self) -> str:
        """The scope named in the ``WWW-Authenticate`` challenge when access is refused."""
        return self.value[2]

    @classmethod
    def for_scope(cls, scope: str) -> Access:
        """The access whose canonical scope is ``scope`` (``system/Claim.write`` → SUBMIT)."""
        for access in cls:
            if access.scope == scope:
                return access
        raise ValueError(f"no operation is guarded by the scope {scope!r}")


def interactions(scope: str, resource: str) -> frozenset[str]:
    """The interactions (subset of ``cruds``) one scope grants on ``resource``."""
    match = _SCOPE.fullmatch(scope)
    if match is None:
        return frozenset()
    scoped_resource, permissions = match.groups()
    if scoped_resource not in ("*", resource):
        return frozenset()
    if permissions in _V1:
        return _V1[permissions]
    if _V2.fullmatch(permissions):
        return frozenset(permissions)
    return frozenset()


def grants(scopes: Iterable[str], access: Access) -> bool:
    """Whether any of ``scopes`` grants ``access``."""
    return any(access.interaction in interactions(scope, access.resource) for scope in scopes)


def require_scope(principal: Principal, access: Access) -> None:
    """Raise ``ScopeInsufficient`` (HTTP 403) unless the principal's scopes grant ``access``."""
    if not grants(principal.scopes, access):
        raise ScopeInsufficient(
            f"this operation needs the scope {access.scope} (or an equivalent)",
            required_scope=access.scope,
        )
