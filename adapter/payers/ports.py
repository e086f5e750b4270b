"""The payer ports: what the submit flow asks of the AMO and the AMC, and what they may read.

Gateways take the clock value (``now``) rather than reading a clock. The AMC gateway
receives the AMO decision (coordination of benefits) and answers ``None`` when the request
has no AMC coverage: then nothing is computed and the patient pays what the AMO does not.

The flow never builds a gateway: it receives a :class:`Payers` from the composition root and
asks it for the pair bound to :class:`PayerRecords`, the beneficiary history and forfait
ledger of the unit of work at hand (a store transaction, or memory). In-process payers read
and write them; a remote payer keeps its own and ignores them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from adapter.domain.decision import Finding, PayerDecision
from adapter.domain.eligibility import EligibilityAnswer, EligibilityRequest
from adapter.domain.request import ReimbursementRequest
from adapter.domain.values import Nir
from adapter.rules.history import DeliveryRecord
from adapter.rules.ledger import LedgerEntry

__all__ = [
    "AmcGateway",
    "AmoAnswer",
    "AmoGateway",
    "DeliveryHistory",
    "EligibilityPair",
    "EligibilityPayers",
    "ForfaitLedger",
    "PayerPair",
    "PayerRecords",
    "Payers",
    "RemoteAmc",
    "RemoteAmo",
    "RemoteCancel",
    "RemoteEligibility",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AmoAnswer:
    """The AMO decision plus the integrity findings (blocking ones also reject their line)."""

    decision: PayerDecision
    findings: tuple[Finding, ...] = ()


class AmoGateway(Protocol):
    """Has the Assurance Maladie adjudicate a request."""

    def adjudicate(self, request: ReimbursementRequest, *, now: datetime) -> AmoAnswer: ...


class AmcGateway(Protocol):
    """Has the mutuelle adjudicate a request on top of the AMO decision."""

    def adjudicate(
        self, request: ReimbursementRequest, amo: PayerDecision, *, now: datetime
    ) -> PayerDecision | None: ...


class DeliveryHistory(Protocol):
    """Paid deliveries per beneficiary: duplicates, caps, renewals, forfait months."""

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]: ...

    def record(self, records: Iterable[DeliveryRecord]) -> None: ...


class ForfaitLedger(Protocol):
    """What each AMC guarantee paid per beneficiary: yearly forfaits and renewals."""

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]: ...

    def apply(self, entries: Iterable[LedgerEntry]) -> None: ...


class PayerRecords(Protocol):
    """The history and ledger one unit of work gives its payers (the store implements it)."""

    @property
    def history(self) -> DeliveryHistory: ...

    @property
    def ledger(self) -> ForfaitLedger: ...


@dataclass(frozen=True, slots=True)
class PayerPair:
    """The AMO and AMC gateways that adjudicate one request, in that order."""

    amo: AmoGateway
    amc: AmcGateway


class Payers(Protocol):
    """The payers a deployment talks to: gives the gateways bound to a unit of work's records."""

    def bind(self, records: PayerRecords) -> PayerPair: ...


class RemoteAmo(Protocol):
    """An AMO reached over the payer protocol (docs/payer-protocol.md): asynchronous, so that no
    worker sits blocked on it, and keyed, so that a retried exchange is decided once. Raises
    ``adapter.errors.PayerFault`` (transient) or ``PayerRefusal`` (permanent)."""

    async def adjudicate(self, request: ReimbursementRequest, *, now: datetime, key: str) -> AmoAnswer: ...


class RemoteAmc(Protocol):
    """An AMC reached over the payer protocol; ``None`` when the request has no AMC coverage."""

    async def adjudicate(
        self, request: ReimbursementRequest, amo: PayerDecision, *, now: datetime, key: str
    ) -> PayerDecision | None: ...


@runtime_checkable
class RemoteCancel(Protocol):
    """A remote payer that cancels its own decision (``amo-cancel-request``/``amc-cancel-request``):
    ``insurer`` routes the exchange (the AMO organisme or the AMC number), ``key`` names the
    decision (the key it was asked under). True when the payer reversed it (now, or on an earlier
    ask of the same cancellation), False when it holds no decision under that key. Raises
    ``PayerFault`` (try again later) or ``PayerRefusal`` (it will not cancel)."""

    async def cancel(self, insurer: str, *, key: str, now: datetime, reason: str) -> bool: ...


# -- eligibility: the same payers, asked before anything is billed -------------------------


@dataclass(frozen=True, slots=True)
class EligibilityPair:
    """The AMO's and the AMC's answers to an eligibility question, bound to a unit of work's
    records, which they read and never write."""

    amo: Callable[[EligibilityRequest, datetime], EligibilityAnswer]
    amc: Callable[[EligibilityRequest, EligibilityAnswer, datetime], EligibilityAnswer | None]


class EligibilityPayers(Protocol):
    """The in-process payers' eligibility answers, bound to the records of a unit of work."""

    def bind_eligibility(self, records: PayerRecords) -> EligibilityPair: ...


class RemoteEligibility(Protocol):
    """The remote payers' eligibility exchange (docs/payer-protocol.md): the AMO's answer, then the
    AMC's on it (``None`` without an AMC coverage). Raises ``PayerFault`` or ``PayerRefusal``."""

    async def amo(self, request: EligibilityRequest, *, now: datetime, key: str) -> EligibilityAnswer: ...

    async def amc(
        self, request: EligibilityRequest, amo: EligibilityAnswer, *, now: datetime, key: str
    ) -> EligibilityAnswer | None: ...
