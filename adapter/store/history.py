"""The delivery history port (``adapter.payers.ports.DeliveryHistory``) on the database.

It works inside one store transaction, so the reference payers read what this transaction
already wrote and their records commit or roll back with the submission.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, insert, select

from adapter.domain.values import LppCode, Nir
from adapter.errors import UsageError
from adapter.rules.history import DeliveryRecord
from adapter.store.models import DeliveryRow, table_of

__all__ = ["DbDeliveryHistory"]

_DELIVERIES = table_of(DeliveryRow)
_D = _DELIVERIES.c
_BY_NIR = (
    select(_D.code, _D.day, _D.quantity, _D.provider, _D.submission, _D.prescription)
    .where(_D.nir == bindparam("nir"))
    .order_by(_D.day, _D.id)
)
_INSERT = insert(_DELIVERIES)


class DbDeliveryHistory:
    """Delivery records by beneficiary NIR, oldest care day first."""

    __slots__ = ("_connection", "_writable")

    def __init__(self, connection: Connection, *, writable: bool) -> None:
        self._connection = connection
        self._writable = writable

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]:
        rows = self._connection.execute(_BY_NIR, {"nir": nir.value})
        return tuple(
            DeliveryRecord(
                nir=nir,
                code=LppCode(code),
                day=day,
                quantity=quantity,
                provider=provider,
                submission=submission,
                prescription=prescription,
            )
            for code, day, quantity, provider, submission, prescription in rows
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
            }
            for record in records
        ]
        if values:  # one executemany for all the records
            self._connection.execute(_INSERT, values)
