"""The AMC forfait ledger port (``adapter.payers.ports.ForfaitLedger``) on the database.

Amounts are stored in integer cents. The service takes the beneficiary's NIR as a lock key
for the write transaction, so two submissions for one patient never consume the same
forfait balance concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, insert, select

from adapter.domain.values import Money, Nir
from adapter.errors import UsageError
from adapter.rules.ledger import LedgerEntry
from adapter.store.models import LedgerRow, table_of

__all__ = ["DbForfaitLedger"]

_LEDGER = table_of(LedgerRow)
_L = _LEDGER.c
_BY_NIR = (
    select(_L.contract_id, _L.guarantee_id, _L.day, _L.consumed_cents, _L.units, _L.submission)
    .where(_L.nir == bindparam("nir"))
    .order_by(_L.day, _L.id)
)
_INSERT = insert(_LEDGER)


class DbForfaitLedger:
    """Ledger entries by beneficiary NIR, oldest care day first."""

    __slots__ = ("_connection", "_writable")

    def __init__(self, connection: Connection, *, writable: bool) -> None:
        self._connection = connection
        self._writable = writable

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]:
        rows = self._connection.execute(_BY_NIR, {"nir": nir.value})
        return tuple(
            LedgerEntry(
                nir=nir,
                contract_id=contract_id,
                guarantee_id=guarantee_id,
                day=day,
                consumed=Money.from_cents(cents),
                units=units,
                submission=submission,
            )
            for contract_id, guarantee_id, day, cents, units, submission in rows
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
            }
            for entry in entries
        ]
        if values:  # one executemany for all the entries
            self._connection.execute(_INSERT, values)
