"""The reference payers' eligibility answers: the rules run in-process on the records they read.

Nothing is written: the history and the ledger are read for the beneficiary, the engines
estimate (``adapter.rules.eligibility``), and the answers go back.
"""

from __future__ import annotations

from datetime import datetime

from adapter.domain.eligibility import EligibilityAnswer, EligibilityRequest
from adapter.payers.ports import EligibilityPair, PayerRecords
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import ContractCatalogue
from adapter.rules.eligibility import amc_eligibility, amo_eligibility
from adapter.rules.lpp import LppTable

__all__ = ["ReferenceEligibility"]

_DEFAULT_CONFIG = RulesConfig()


class ReferenceEligibility:
    """``EligibilityPayers`` on the reference data: the LPP table and the contract catalogue."""

    def __init__(
        self, *, table: LppTable, catalogue: ContractCatalogue, config: RulesConfig = _DEFAULT_CONFIG
    ) -> None:
        self.table = table
        self.catalogue = catalogue
        self.config = config

    def bind_eligibility(self, records: PayerRecords) -> EligibilityPair:
        def amo(request: EligibilityRequest, now: datetime) -> EligibilityAnswer:
            history = records.history.deliveries(request.beneficiary.nir)
            return amo_eligibility(request, table=self.table, history=history, now=now, config=self.config)

        def amc(
            request: EligibilityRequest, answer: EligibilityAnswer, now: datetime
        ) -> EligibilityAnswer | None:
            if request.amc is None:
                return None
            ledger = records.ledger.entries(request.beneficiary.nir)
            return amc_eligibility(
                request,
                answer,
                catalogue=self.catalogue,
                table=self.table,
                ledger=ledger,
                now=now,
                config=self.config,
            )

        return EligibilityPair(amo=amo, amc=amc)
