"""In-memory stores: records and ledger entries kept per beneficiary."""

from __future__ import annotations

from datetime import date

from adapter.domain import LppCode
from adapter.payers import InMemoryDeliveryHistory, InMemoryForfaitLedger
from adapter.rules import DeliveryRecord, LedgerEntry
from tests.support.requests import OTHER_PATIENT, PATIENT, euros


def test_delivery_history_is_kept_per_beneficiary() -> None:
    """Records come back for their own NIR only, in the order recorded."""
    first = DeliveryRecord(
        nir=PATIENT, code=LppCode("9900001"), day=date(2026, 1, 5), quantity=1, provider="P", submission="S1"
    )
    second = DeliveryRecord(
        nir=PATIENT, code=LppCode("9900002"), day=date(2026, 2, 5), quantity=2, provider="P", submission="S2"
    )
    history = InMemoryDeliveryHistory([first])

    history.record([second])

    assert history.deliveries(PATIENT) == (first, second)
    assert history.deliveries(OTHER_PATIENT) == ()


def test_forfait_ledger_is_kept_per_beneficiary() -> None:
    """Ledger entries come back for their own NIR only."""
    entry = LedgerEntry(
        nir=PATIENT,
        contract_id="C",
        guarantee_id="g",
        day=date(2026, 1, 5),
        consumed=euros("10.00"),
        units=1,
        submission="S1",
    )
    ledger = InMemoryForfaitLedger()

    ledger.apply([entry])

    assert ledger.entries(PATIENT) == (entry,)
    assert ledger.entries(OTHER_PATIENT) == ()
