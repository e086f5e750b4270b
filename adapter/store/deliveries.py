"""The delivery history port (``adapter.payers.ports.DeliveryHistory``) on the database.

It works inside one store transaction, so the reference payers read what this transaction
already wrote and their records commit or roll back with the submission. Records are queued
and sent with the transaction's next statement (``adapter.store.prepared``); a beneficiary's
history can be asked for ahead (:meth:`DbDeliveryHistory.preload`) so that it travels with
the transaction's first read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, insert, select

from adapter.domain.values import LppCode, Nir
from adapter.errors import UsageError
from adapter.rules.history import DeliveryRecord
from adapter.store.models import DeliveryRow, table_of
from adapter.store.prepared import BeneficiaryRows, Prepared, StatementQueue

__all__ = ["DbDeliveryHistory"]

_DELIVERIES = table_of(DeliveryRow)
_D = _DELIVERIES.c
_BY_NIR = Prepared(
    select(_D.code, _D.day, _D.quantity, _D.provider, _D.submission, _D.prescription, _D.ear)
    .where(_D.nir == bindparam("nir"), _D.reversed_at.is_(None))  # a cancelled claim's no longer count
    .order_by(_D.day, _D.id)
)
_COLUMNS = ("nir", "code", "day", "quantity", "provider", "submission", "prescription", "ear")
_INSERT = Prepared(insert(_DELIVERIES), _COLUMNS)


class DbDeliveryHistory:
    """Delivery records by beneficiary NIR, oldest care day first."""

    __slots__ = ("_queue", "_rows", "_writable")

    def __init__(self, queue: StatementQueue, *, writable: bool) -> None:
        self._queue = queue
        self._writable = writable
        self._rows = BeneficiaryRows(queue, _BY_NIR)

    def forget(self) -> None:
        """Drop what was read ahead: the rows changed under it (a cancellation)."""
        self._rows.forget()

    def preload(self, nir: Nir) -> None:
        """Queue the read of ``nir``'s history now; :meth:`deliveries` then takes its rows."""
        self._rows.preload(nir.value)

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]:
        rows = self._rows.get(nir.value)
        return tuple(
            DeliveryRecord(
                nir=nir,
                code=LppCode(code),
                day=day,
                quantity=quantity,
                provider=provider,
                submission=submission,
                prescription=prescription,
                ear=ear,
            )
            for code, day, quantity, provider, submission, prescription, ear in rows
        )

    def record(self, records: Iterable[DeliveryRecord]) -> None:
        if not self._writable:
            raise UsageError("delivery records are written inside Store.write()")
        values = [
            {
                "nir": record.nir.value,
                "code": record.code.value,
                "day": record.day,
                "quantity": record.quantity,
                "provider": record.provider,
                "submission": record.submission,
                "prescription": record.prescription,
                "ear": record.ear,
            }
            for record in records
        ]
        self._queue.write(_INSERT, values)
        self._rows.forget()  # a preloaded history no longer holds everything
