"""Payer decisions: what the AMO and the AMC decided, line by line.

Produced by the payers (reference or remote) and turned into ClaimResponses by
``mappings.outbound.to_claim_responses``; ``mappings.outbound.from_claim_response`` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from adapter.domain.values import Money

__all__ = [
    "Finding",
    "LineDecision",
    "Note",
    "Outcome",
    "PayerDecision",
    "PayerKind",
    "Rejection",
]


class PayerKind(StrEnum):
    AMO = "amo"
    AMC = "amc"


class Outcome(StrEnum):
    """ClaimResponse.outcome (FHIR R4 ``remittance-outcome``)."""

    QUEUED = "queued"
    COMPLETE = "complete"
    ERROR = "error"
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Why a line was not paid: a stable error code and a sentence for humans."""

    code: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """An explanation in French and in English (ClaimResponse.processNote, one per language)."""

    fr: str
    en: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LineDecision:
    """One payer's decision on one line.

    ``eligible`` is the base de remboursement × quantity; ``rate`` the taux in percent (AMO
    only); ``benefit`` what this payer pays. The AMO fills ``ticket_moderateur`` and
    ``depassement``, the AMC fills ``reste_a_charge``. A rejected line pays 0 and lists why.
    """

    sequence: int
    submitted: Money
    eligible: Money
    benefit: Money
    rate: Decimal | None = None
    ticket_moderateur: Money | None = None
    depassement: Money | None = None
    reste_a_charge: Money | None = None
    rejections: tuple[Rejection, ...] = ()

    @property
    def rejected(self) -> bool:
        return bool(self.rejections)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """An integrity finding (duplicate, quantity abuse…); ``blocking`` findings reject the line."""

    code: str
    text: str
    expression: str | None = None
    blocking: bool = False
    sequence: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PayerDecision:
    """A payer's answer to one request.

    ``insurer`` is the paying organisation's identifier (AMO organisme or AMC number);
    ``estimate`` marks predetermination answers, which pay and consume nothing.
    """

    payer: PayerKind
    insurer: str
    created: datetime
    outcome: Outcome
    disposition: str
    lines: tuple[LineDecision, ...]
    notes: tuple[Note, ...] = ()
    estimate: bool = False
    pre_auth_ref: str | None = None

    @property
    def benefit_total(self) -> Money:
        total = Money.zero()
        for line in self.lines:
            total = total + line.benefit
        return total

    def line(self, sequence: int) -> LineDecision:
        for line in self.lines:
            if line.sequence == sequence:
                return line
        raise KeyError(sequence)
