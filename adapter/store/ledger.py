"""The AMC forfait ledger port (``adapter.payers.ports.ForfaitLedger``) on the database.

Amounts are stored in integer cents. The service takes the beneficiary's NIR as a lock key
for the write transaction, so two submissions for one patient never consume the same
forfait balance concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from adapter.domain.values import Money, Nir
from adapter.errors import UsageError
from adapter.rules.ledger import LedgerEntry
from adapter.store.models import LedgerRow

__all__ = ["DbForfaitLedger"]


class DbForfaitLedger:
    """Ledger entries by beneficiary NIR, oldest care day first."""

    __slots__ = ("_session", "_writable")

    def __init__(self, session: Session, *, writable: bool) -> None:
        self._session = session
        self._writable = writable

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]:
        rows = self._session.scalars(
            select(LedgerRow).where(LedgerRow.nir == nir.value).order_by(LedgerRow.day, LedgerRow.id)
        )
        return tuple(
            LedgerEntry(
                nir=nir,
                contract_id=row.contract_id,
                guarantee_id=row.guarantee_id,
                day=row.day,
                consumed=Money.from_cents(row.consumed_cents),
                units=row.units,
                submission=row.submission,
            )
            for row in rows
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
        if values:
            self._session.execute(insert(LedgerRow), values)
