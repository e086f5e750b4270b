"""What the ClaimResponse writer and reader must agree on: codes, labels, URLs and ids."""

from __future__ import annotations

from typing import Final
from uuid import NAMESPACE_URL, UUID, uuid5

from adapter.domain.decision import PayerKind
from adapter.domain.request import BusinessIdentifier
from mappings.systems import ADJUDICATION, Canon

_SCOPES = UUID("0b7e9c4a-3f52-5d18-9a6e-2c1f8d47b305")
"""The namespace of the scopes' own namespaces (``id_namespace``)."""

__all__ = [
    "CURRENCY",
    "ELIGPERCENT",
    "ENGLISH",
    "ESTIMATE_LABEL",
    "ESTIMATE_SEPARATOR",
    "FRENCH",
    "LANGUAGE_SYSTEM",
    "MONEY_FIELDS",
    "REQUIRED_MONEY_FIELDS",
    "id_namespace",
    "money_categories",
    "payer_id",
    "resource_id",
]

CURRENCY: Final = "EUR"
LANGUAGE_SYSTEM: Final = "urn:ietf:bcp:47"
FRENCH: Final = "fr-FR"
ENGLISH: Final = "en"
ELIGPERCENT: Final = "eligpercent"

# An estimate's disposition starts with this label so that a reader who ignores the
# extension still sees it; the reader strips it back off when the extension is present.
ESTIMATE_LABEL: Final = "Estimation / estimate"
ESTIMATE_SEPARATOR: Final = " — "

# LineDecision money fields in adjudication order; the first three are always present.
MONEY_FIELDS: Final = (
    "submitted",
    "eligible",
    "benefit",
    "ticket_moderateur",
    "depassement",
    "reste_a_charge",
)
REQUIRED_MONEY_FIELDS: Final = frozenset(MONEY_FIELDS[:3])


def money_categories(canon: Canon) -> dict[str, tuple[str, str]]:
    """LineDecision money field → (system, code) of its adjudication category."""
    return {
        "submitted": (ADJUDICATION, "submitted"),
        "eligible": (ADJUDICATION, "eligible"),
        "benefit": (ADJUDICATION, "benefit"),
        "ticket_moderateur": (canon.adjudication, "ticket-moderateur"),
        "depassement": (canon.adjudication, "depassement"),
        "reste_a_charge": (canon.adjudication, "reste-a-charge"),
    }


def id_namespace(scope: str | None) -> UUID:
    """The uuid5 namespace of the ids of one scope (a tenant); ``None``: the unscoped ids.

    A scope's namespace is itself a uuid5 of the scope, so the ids of two scopes (or of a scope
    and the unscoped ones) never share a name space, whatever characters the scope holds.
    """
    return NAMESPACE_URL if scope is None else uuid5(_SCOPES, scope)


def resource_id(submission: BusinessIdentifier, kind: str, scope: str | None = None) -> str:
    """A deterministic id: uuid5 over the submission's business identifier and ``kind``.

    ``kind`` is a payer (``amo``/``amc``) for its ClaimResponse, or a resource type. The
    same submission always yields the same ids, so a replayed answer is byte-identical.
    ``scope`` (the submitting tenant) keeps two tenants' ids apart when they use the same
    business identifier; ``None`` gives the unscoped ids.
    """
    name = f"{submission.system}|{submission.value}|{kind}"
    return str(uuid5(id_namespace(scope), name))


def payer_id(submission: BusinessIdentifier, payer: PayerKind, scope: str | None = None) -> str:
    """The id of one payer's ClaimResponse for this submission."""
    return resource_id(submission, f"ClaimResponse|{payer.value}", scope)
