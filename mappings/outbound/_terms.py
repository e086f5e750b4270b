"""What the ClaimResponse writer and reader must agree on: codes, labels, URLs and ids."""

from __future__ import annotations

from typing import Final
from uuid import NAMESPACE_URL, uuid5

from adapter.domain.decision import PayerKind
from adapter.domain.request import BusinessIdentifier
from mappings.systems import ADJUDICATION, Canon

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


def resource_id(submission: BusinessIdentifier, kind: str) -> str:
    """A deterministic id: uuid5 over the submission's business identifier and ``kind``.

    ``kind`` is a payer (``amo``/``amc``) for its ClaimResponse, or a resource type. The
    same submission always yields the same ids, so a replayed answer is byte-identical.
    """
    name = f"{submission.system}|{submission.value}|{kind}"
    return str(uuid5(NAMESPACE_URL, name))


def payer_id(submission: BusinessIdentifier, payer: PayerKind) -> str:
    """The id of one payer's ClaimResponse for this submission."""
    return resource_id(submission, f"ClaimResponse|{payer.value}")
