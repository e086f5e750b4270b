"""The demo reference data and the two engines run together on it, for adjudication tests.

``TABLE`` (the demo LPP table) and ``CATALOGUE`` (the demo mutuelle contracts) are loaded once;
``run`` adjudicates a request as the service does (the AMO first, then the AMC on the AMO's
decision) at the fixed clock ``NOW`` of ``tests.support.requests``.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapter.domain import ReimbursementRequest
from adapter.rules import (
    AmcResult,
    AmoResult,
    DeliveryRecord,
    LedgerEntry,
    RulesConfig,
    adjudicate_amc,
    adjudicate_amo,
    load_contracts,
    load_lpp_table,
)
from tests.support.requests import NOW

__all__ = ["CATALOGUE", "TABLE", "run"]

TABLE = load_lpp_table()
CATALOGUE = load_contracts()


def run(
    req: ReimbursementRequest,
    *,
    history: Iterable[DeliveryRecord] = (),
    ledger: Iterable[LedgerEntry] = (),
    config: RulesConfig | None = None,
) -> tuple[AmoResult, AmcResult | None]:
    """Both engines on the demo data, the AMC on the AMO's decision."""
    config = config or RulesConfig()
    amo = adjudicate_amo(req, table=TABLE, history=history, now=NOW, config=config)
    amc = adjudicate_amc(
        req, amo.decision, catalogue=CATALOGUE, table=TABLE, ledger=ledger, now=NOW, config=config
    )
    return amo, amc
