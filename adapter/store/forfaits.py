"""The AMC forfait ledger port (``adapter.payers.ports.ForfaitLedger``) on the database.

Amounts are stored in integer cents. Entries are queued and sent with the transaction's next
statement, and a beneficiary's entries can be asked for ahead, as the delivery history's
(``adapter.store.deliveries``). The service takes the beneficiary's NIR as a lock key
for the write transaction, so two submissions for one patient never consume the same
forfait balance concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, insert, select

from adapter.domain.values import Money, Nir
from adapter.errors import UsageError
from adapter.rules.ledger import LedgerEntry
from adapter.store.models import LedgerRow, table_of
from adapter.store.prepared import BeneficiaryRows, Prepared, StatementQueue

__all__ = ["DbForfaitLedger"]

_LEDGER = table_of(LedgerRow)
_L = _LEDGER.c
_BY_NIR = Prepared(
    select(_L.contract_id, _L.guarantee_id, _L.day, _L.consumed_cents, _L.units, _L.submission, _L.ear)
    .where(_L.nir == bindparam("nir"), _L.reversed_at.is_(None))  # a cancelled claim's no longer count
    .order_by(_L.day, _L.id)
)
_COLUMNS = ("nir", "contract_id", "guarantee_id", "day", "consumed_cents", "units", "submission", "ear")
_INSERT = Prepared(insert(_LEDGER), _COLUMNS)


class DbForfaitLedger:
    """Ledger entries by beneficiary NIR, oldest care day first."""

    __slots__ = ("_queue", "_rows", "_writable")

    def __init__(self, queue: StatementQueue, *, writable: bool) -> None:
        self._queue = queue
        self._writable = writable
        self._rows = BeneficiaryRows(queue, _BY_NIR)

    def forget(self) -> None:
        """Drop what was read ahead: the rows changed under it (a cancellation)."""
        self._rows.forget()

    def preload(self, nir: Nir) -> None:
        """Queue the read of ``nir``'s entries now; :meth:`entries` then takes its rows."""
        self._rows.preload(nir.value)

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]:
        rows = self._rows.get(nir.value)
        return tuple(
            LedgerEntry(
                nir=nir,
                contract_id=contract_id,
                guarantee_id=guarantee_id,
                day=day,
                consumed=Money.from_cents(cents),
                units=units,
                submission=submission,
                ear=ear,
            )
            for contract_id, guarantee_id, day, cents, units, submission, ear in rows
        )

    def apply(self, entries: Iterable[LedgerEntry]) -> None:
        if not self._writable:
            raise UsageError("ledger entries are written inside Store.write()")
        values = [
            {
                "nir": entry.nir.value,
                "contract_id": entry.contract_id,
                "guarantee_id": entry.guarantee_id,
                "day": entry.day,
                "consumed_cents": entry.consumed.cents,
                "units": entry.units,
                "submission": entry.submission,
                "ear": entry.ear,
            }
            for entry in entries
        ]
        self._queue.write(_INSERT, values)
        self._rows.forget()  # preloaded entries no longer hold everything
