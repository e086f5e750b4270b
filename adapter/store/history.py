"""The delivery history port (``adapter.payers.ports.DeliveryHistory``) on the database.

It works inside one store transaction, so the reference payers read what this transaction
already wrote and their records commit or roll back with the submission.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from adapter.domain.values import LppCode, Nir
from adapter.errors import UsageError
from adapter.rules.history import DeliveryRecord
from adapter.store.models import DeliveryRow

__all__ = ["DbDeliveryHistory"]


class DbDeliveryHistory:
    """Delivery records by beneficiary NIR, oldest care day first."""

    __slots__ = ("_session", "_writable")

    def __init__(self, session: Session, *, writable: bool) -> None:
        self._session = session
        self._writable = writable

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]:
        rows = self._session.scalars(
            select(DeliveryRow).where(DeliveryRow.nir == nir.value).order_by(DeliveryRow.day, DeliveryRow.id)
        )
        return tuple(
            DeliveryRecord(
                nir=nir,
                code=LppCode(row.code),
                day=row.day,
                quantity=row.quantity,
                provider=row.provider,
                submission=row.submission,
                prescription=row.prescription,
            )
            for row in rows
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
        if values:
            self._session.execute(insert(DeliveryRow), values)
