"""Payer decisions: what the AMO and the AMC decided, line by line.

Produced by the payers (reference or remote) and turned into ClaimResponses by
``mappings.outbound.to_claim_responses``; ``mappings.outbound.from_claim_response`` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Note:
    """An explanation in French and in English (ClaimResponse.processNote, one per language)."""

    fr: str
    en: str

    def __init__(self, *, fr: str, en: str) -> None:  # the generated one, faster: see _slot_setters
        _NOTE_FR(self, fr)
        _NOTE_EN(self, en)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
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

    def __init__(
        self,
        *,
        sequence: int,
        submitted: Money,
        eligible: Money,
        benefit: Money,
        rate: Decimal | None = None,
        ticket_moderateur: Money | None = None,
        depassement: Money | None = None,
        reste_a_charge: Money | None = None,
        rejections: tuple[Rejection, ...] = (),
    ) -> None:  # the generated one, faster: see _slot_setters
        _LINE_SEQUENCE(self, sequence)
        _LINE_SUBMITTED(self, submitted)
        _LINE_ELIGIBLE(self, eligible)
        _LINE_BENEFIT(self, benefit)
        _LINE_RATE(self, rate)
        _LINE_TM(self, ticket_moderateur)
        _LINE_DEPASSEMENT(self, depassement)
        _LINE_RAC(self, reste_a_charge)
        _LINE_REJECTIONS(self, rejections)

    @property
    def rejected(self) -> bool:
        return bool(self.rejections)


def _slot_setters(cls: type, *names: str) -> tuple[Callable[[object, Any], None], ...]:
    """Write a frozen slotted dataclass's fields straight through its slot descriptors.

    The generated ``__init__`` of a frozen dataclass goes through ``object.__setattr__``
    once per field; the engines build a note and a line decision per line and payer, and
    this halves their cost. Only for classes whose ``__init__`` validates nothing.
    """
    return tuple(cls.__dict__[name].__set__ for name in names)


_NOTE_FR, _NOTE_EN = _slot_setters(Note, "fr", "en")
(
    _LINE_SEQUENCE,
    _LINE_SUBMITTED,
    _LINE_ELIGIBLE,
    _LINE_BENEFIT,
    _LINE_RATE,
    _LINE_TM,
    _LINE_DEPASSEMENT,
    _LINE_RAC,
    _LINE_REJECTIONS,
) = _slot_setters(
    LineDecision,
    "sequence",
    "submitted",
    "eligible",
    "benefit",
    "rate",
    "ticket_moderateur",
    "depassement",
    "reste_a_charge",
    "rejections",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """An integrity finding (duplicate, quantity abuse…); ``blocking`` findings reject the line."""

    code: str
    text: str
    expression: str | None = None
    blocking: bool = False
    sequence: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
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

    def __init__(
        self,
        *,
        payer: PayerKind,
        insurer: str,
        created: datetime,
        outcome: Outcome,
        disposition: str,
        lines: tuple[LineDecision, ...],
        notes: tuple[Note, ...] = (),
        estimate: bool = False,
        pre_auth_ref: str | None = None,
    ) -> None:  # the generated one, faster: see _slot_setters
        _PAYER_PAYER(self, payer)
        _PAYER_INSURER(self, insurer)
        _PAYER_CREATED(self, created)
        _PAYER_OUTCOME(self, outcome)
        _PAYER_DISPOSITION(self, disposition)
        _PAYER_LINES(self, lines)
        _PAYER_NOTES(self, notes)
        _PAYER_ESTIMATE(self, estimate)
        _PAYER_PRE_AUTH_REF(self, pre_auth_ref)

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


(
    _PAYER_PAYER,
    _PAYER_INSURER,
    _PAYER_CREATED,
    _PAYER_OUTCOME,
    _PAYER_DISPOSITION,
    _PAYER_LINES,
    _PAYER_NOTES,
    _PAYER_ESTIMATE,
    _PAYER_PRE_AUTH_REF,
) = _slot_setters(
    PayerDecision,
    "payer",
    "insurer",
    "created",
    "outcome",
    "disposition",
    "lines",
    "notes",
    "estimate",
    "pre_auth_ref",
)
