"""The payer ports on the database: a transaction sees its own records, and they persist."""

from __future__ import annotations

from datetime import date

import pytest

from adapter.domain.values import LppCode, Money, Nir
from adapter.errors import UsageError
from adapter.payers.ports import DeliveryHistory, ForfaitLedger
from adapter.rules.history import DeliveryRecord
from adapter.rules.ledger import LedgerEntry
from adapter.store import Store
from tests.support.submissions import OTHER_PATIENT, PATIENT


def _delivery(
    day: date, *, quantity: int = 1, nir: Nir = PATIENT, prescription: str | None = None
) -> DeliveryRecord:
    return DeliveryRecord(
        nir=nir,
        code=LppCode("2355084"),
        day=day,
        quantity=quantity,
        provider="750712184",
        submission="SUB-0001",
        prescription=prescription,
    )


def _entry(day: date, consumed: str, *, nir: Nir = PATIENT) -> LedgerEntry:
    return LedgerEntry(
        nir=nir,
        contract_id="CTR-DEMO",
        guarantee_id="AUDIO",
        day=day,
        consumed=Money.of(consumed),
        units=2,
        submission="SUB-0001",
    )


def test_history_sees_its_own_writes_then_persists_oldest_first(store: Store) -> None:
    """Records written in a transaction are read back in it, and by later ones, ordered by day."""
    late = _delivery(date(2026, 3, 1), quantity=2, prescription="https://rx.example|RX-1")
    early = _delivery(date(2026, 1, 15))
    with store.write() as tx:
        history: DeliveryHistory = tx.history
        assert history.deliveries(PATIENT) == ()
        history.record([late, early])
        history.record([_delivery(date(2026, 2, 1), nir=OTHER_PATIENT)])
        assert list(history.deliveries(PATIENT)) == [early, late]
    with store.read() as tx:
        assert list(tx.history.deliveries(PATIENT)) == [early, late]
        assert len(tx.history.deliveries(OTHER_PATIENT)) == 1


def test_ledger_keeps_amounts_exact_to_the_cent(store: Store) -> None:
    """Money goes in and out as the same Decimal, in the transaction and after commit."""
    entries = [_entry(date(2026, 2, 1), "1234.56"), _entry(date(2025, 12, 31), "0.01")]
    with store.write() as tx:
        ledger: ForfaitLedger = tx.ledger
        ledger.apply(entries)
        assert [e.consumed for e in ledger.entries(PATIENT)] == [Money.of("0.01"), Money.of("1234.56")]
    with store.read() as tx:
        read = list(tx.ledger.entries(PATIENT))
    assert read == [entries[1], entries[0]]
    assert str(read[1].consumed.amount) == "1234.56"


def test_ports_roll_back_with_the_transaction(store: Store) -> None:
    """A failed transaction leaves neither delivery records nor ledger entries."""

    def write_then_fail() -> None:
        with store.write() as tx:
            tx.history.record([_delivery(date(2026, 3, 1))])
            tx.ledger.apply([_entry(date(2026, 3, 1), "10.00")])
            raise RuntimeError("adjudication failed")

    with pytest.raises(RuntimeError, match="adjudication failed"):
        write_then_fail()
    with store.read() as tx:
        assert tx.history.deliveries(PATIENT) == ()
        assert tx.ledger.entries(PATIENT) == ()


def test_ports_refuse_writes_in_a_read_transaction(store: Store) -> None:
    """record() and apply() need Store.write()."""
    with store.read() as tx:
        with pytest.raises(UsageError):
            tx.history.record([_delivery(date(2026, 3, 1))])
        with pytest.raises(UsageError):
            tx.ledger.apply([_entry(date(2026, 3, 1), "1.00")])
