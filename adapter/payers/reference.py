"""The reference payers: the French rules run in-process (the embedded default).

Imperative shell around the pure engines: read the beneficiary's history or ledger from
the store, call the engine, apply the records it returns. A lock per gateway keeps that
read-compute-write atomic between threads of one process; stores shared between processes
must give the same guarantee themselves.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from adapter.domain.decision import PayerDecision
from adapter.domain.request import ReimbursementRequest
from adapter.payers.memory import InMemoryDeliveryHistory, InMemoryForfaitLedger
from adapter.payers.ports import AmoAnswer, DeliveryHistory, ForfaitLedger, PayerPair, PayerRecords
from adapter.rules.amc import adjudicate_amc
from adapter.rules.amo import adjudicate_amo
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import ContractCatalogue
from adapter.rules.contracts_loader import load_contracts
from adapter.rules.lpp import LppTable
from adapter.rules.lpp_loader import load_lpp_table

__all__ = ["ReferenceAmc", "ReferenceAmo", "ReferencePayers", "reference_payers"]

_DEFAULT_CONFIG = RulesConfig()


class ReferenceAmo:
    """An ``AmoGateway`` computing with the LPP table and the delivery history."""

    def __init__(
        self, *, table: LppTable, history: DeliveryHistory, config: RulesConfig = _DEFAULT_CONFIG
    ) -> None:
        self.table = table
        self.history = history
        self.config = config
        self._lock = threading.Lock()

    def adjudicate(self, request: ReimbursementRequest, *, now: datetime) -> AmoAnswer:
        with self._lock:
            result = adjudicate_amo(
                request,
                table=self.table,
                history=self.history.deliveries(request.beneficiary.nir),
                now=now,
                config=self.config,
            )
            self.history.record(result.deliveries)
        return AmoAnswer(decision=result.decision, findings=result.findings)


class ReferenceAmc:
    """An ``AmcGateway`` computing with the contract catalogue and the forfait ledger."""

    def __init__(
        self,
        *,
        catalogue: ContractCatalogue,
        table: LppTable,
        ledger: ForfaitLedger,
        config: RulesConfig = _DEFAULT_CONFIG,
    ) -> None:
        self.catalogue = catalogue
        self.table = table
        self.ledger = ledger
        self.config = config
        self._lock = threading.Lock()

    def adjudicate(
        self, request: ReimbursementRequest, amo: PayerDecision, *, now: datetime
    ) -> PayerDecision | None:
        if request.amc is None:
            return None
        with self._lock:
            result = adjudicate_amc(
                request,
                amo,
                catalogue=self.catalogue,
                table=self.table,
                ledger=self.ledger.entries(request.beneficiary.nir),
                now=now,
                config=self.config,
            )
            if result is None:  # pragma: no cover - request.amc was checked above
                return None
            self.ledger.apply(result.ledger)
        return result.decision


class ReferencePayers:
    """``Payers`` computing in-process on the reference data, on the records they are bound to."""

    def __init__(
        self, *, table: LppTable, catalogue: ContractCatalogue, config: RulesConfig = _DEFAULT_CONFIG
    ) -> None:
        self.table = table
        self.catalogue = catalogue
        self.config = config

    @classmethod
    def load(
        cls,
        *,
        lpp_table: str | Path | None = None,
        contracts: str | Path | None = None,
        config: RulesConfig = _DEFAULT_CONFIG,
    ) -> ReferencePayers:
        """The reference payers on the data at these paths (the demo data where None)."""
        return cls(table=load_lpp_table(lpp_table), catalogue=load_contracts(contracts), config=config)

    def bind(self, records: PayerRecords) -> PayerPair:
        return PayerPair(
            amo=ReferenceAmo(table=self.table, history=records.history, config=self.config),
            amc=ReferenceAmc(
                catalogue=self.catalogue, table=self.table, ledger=records.ledger, config=self.config
            ),
        )


def reference_payers(
    *,
    lpp_table: str | Path | None = None,
    contracts: str | Path | None = None,
    history: DeliveryHistory | None = None,
    ledger: ForfaitLedger | None = None,
    config: RulesConfig = _DEFAULT_CONFIG,
) -> tuple[ReferenceAmo, ReferenceAmc]:
    """Both reference payers on the reference data at the given paths (demo data if None)
    and the given stores (fresh in-memory ones if None)."""
    table = load_lpp_table(lpp_table)
    catalogue = load_contracts(contracts)
    amo = ReferenceAmo(table=table, history=history or InMemoryDeliveryHistory(), config=config)
    amc = ReferenceAmc(
        catalogue=catalogue, table=table, ledger=ledger or InMemoryForfaitLedger(), config=config
    )
    return amo, amc
