"""The eligibility checks' rows: one per answered question, the tenant's audit record and replay."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, insert, select

from adapter.store.models import EligibilityRow, table_of

__all__ = ["BY_CLIENT", "BY_KEY", "INSERT", "EligibilityCheck"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityCheck:
    """An answered eligibility question as stored: who asked, when, under which key, the outcome
    (``open``, ``partial`` or ``closed``) and the answer's exact bytes."""

    id: str
    client_id: str
    key_system: str
    key_value: str
    content_hash: str
    outcome: str
    response_json: bytes
    asked_at: datetime
    request_id: str | None


FIELDS = tuple(f.name for f in fields(EligibilityCheck))
_TABLE = table_of(EligibilityRow)
_C = _TABLE.c
_ROW = select(*(_C[name] for name in FIELDS))
BY_KEY = _ROW.where(
    _C.client_id == bindparam("client_id"),
    _C.key_system == bindparam("key_system"),
    _C.key_value == bindparam("key_value"),
)
BY_CLIENT = _ROW.where(_C.client_id == bindparam("client_id")).order_by(_C.asked_at, _C.id)
INSERT = insert(_TABLE)
