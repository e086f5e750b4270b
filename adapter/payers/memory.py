"""In-memory stores for the reference payers: the embedded default and the tests.

Process memory does not survive a restart or span processes; a database-backed store
implements the same Protocols (``adapter.payers.ports``) for anything that must.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from adapter.domain.values import Nir
from adapter.rules.history import DeliveryRecord
from adapter.rules.ledger import LedgerEntry

__all__ = ["InMemoryDeliveryHistory", "InMemoryForfaitLedger", "InMemoryRecords"]


class InMemoryDeliveryHistory:
    """Delivery records by beneficiary NIR."""

    def __init__(self, records: Iterable[DeliveryRecord] = ()) -> None:
        self._lock = threading.Lock()
        self._by_nir: dict[str, list[DeliveryRecord]] = {}
        self.record(records)

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]:
        with self._lock:
            return tuple(self._by_nir.get(nir.value, ()))

    def record(self, records: Iterable[DeliveryRecord]) -> None:
        with self._lock:
            for record in records:
                self._by_nir.setdefault(record.nir.value, []).append(record)


class InMemoryForfaitLedger:
    """AMC ledger entries by beneficiary NIR."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self._lock = threading.Lock()
        self._by_nir: dict[str, list[LedgerEntry]] = {}
        self.apply(entries)

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]:
        with self._lock:
            return tuple(self._by_nir.get(nir.value, ()))

    def apply(self, entries: Iterable[LedgerEntry]) -> None:
        with self._lock:
            for entry in entries:
                self._by_nir.setdefault(entry.nir.value, []).append(entry)


@dataclass(frozen=True, slots=True)
class InMemoryRecords:
    """``PayerRecords`` in process memory: ``adapter submit`` and the tests."""

    history: InMemoryDeliveryHistory = field(default_factory=InMemoryDeliveryHistory)
    ledger: InMemoryForfaitLedger = field(default_factory=InMemoryForfaitLedger)
