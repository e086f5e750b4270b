"""Tables, as SQLAlchemy 2 typed declarative models.

The migrations in ``adapter.store.migrations`` create exactly these tables (a test compares
them). Money is stored in integer cents and decisions as the caller's JSON text, so no amount
ever passes through a float. Datetimes are stored in UTC and come back timezone-aware on both
backends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from adapter.errors import UsageError

__all__ = [
    "AuditRow",
    "Base",
    "CancellationRow",
    "DeliveryRow",
    "EligibilityRow",
    "LedgerRow",
    "OutboxRow",
    "SubmissionRow",
    "UtcDateTime",
    "table_of",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit key on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; a naive value is refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise UsageError("the store only accepts timezone-aware datetimes")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store UTC wall time, which also sorts as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (migrations refer to them)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), date: Date(), str: String()}


class SubmissionRow(Base):
    """One accepted submission: the input as received, the decisions and the exact response bytes."""

    __tablename__ = "submissions"
    __table_args__ = (
        # The idempotency key is the submitting tenant's (revision 0003).
        UniqueConstraint("client_id", "key_system", "key_value"),
        Index(None, "key_system", "key_value"),
        UniqueConstraint("amo_response_id"),
        UniqueConstraint("amc_response_id"),
        Index("ix_submissions_claim_identifier", "claim_identifier_system", "claim_identifier_value"),
        Index(None, "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_system: Mapped[str] = mapped_column(Text)
    key_value: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # NULL once purged (revision 0004)
    request_json: Mapped[str | None] = mapped_column(Text)  # NULL once purged
    amo_decision_json: Mapped[str] = mapped_column(Text)
    amc_decision_json: Mapped[str | None] = mapped_column(Text)
    findings_json: Mapped[str] = mapped_column(Text)
    response_json: Mapped[bytes] = mapped_column(LargeBinary)
    amo_response_id: Mapped[str] = mapped_column(String(64))
    amc_response_id: Mapped[str | None] = mapped_column(String(64))
    patient_nir: Mapped[str] = mapped_column(String(15), index=True)
    provider_finess: Mapped[str | None] = mapped_column(String(9), index=True)
    provider_siret: Mapped[str | None] = mapped_column(String(14), index=True)
    amo_organisme: Mapped[str] = mapped_column(String(9), index=True)
    amc_number: Mapped[str | None] = mapped_column(String(10), index=True)
    claim_identifier_system: Mapped[str | None] = mapped_column(Text)
    claim_identifier_value: Mapped[str | None] = mapped_column(Text)
    use: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    received_at: Mapped[datetime]
    stored_at: Mapped[datetime]
    purged_at: Mapped[datetime | None]
    # Pended claims (revision 0005): complete, pending (the payers have not decided) or dead.
    state: Mapped[str] = mapped_column(String(16), index=True, server_default="complete")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime | None]
    dead_reason: Mapped[str | None] = mapped_column(Text)


class SubmissionVersionRow(Base):
    """An earlier answer of a submission (a queued one, before the worker completed it)."""

    __tablename__ = "submission_versions"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))
    response_json: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]


class DeliveryRow(Base):
    """One paid delivery (``adapter.rules.history.DeliveryRecord``)."""

    __tablename__ = "delivery_records"

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    nir: Mapped[str] = mapped_column(String(15), index=True)
    code: Mapped[str] = mapped_column(String(7))
    day: Mapped[date]
    quantity: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str]
    submission: Mapped[str] = mapped_column(Text, index=True)
    prescription: Mapped[str | None] = mapped_column(Text)
    ear: Mapped[str | None] = mapped_column(String(8))
    reversed_at: Mapped[datetime | None]  # the claim was cancelled (revision 0007): no longer counted


class LedgerRow(Base):
    """One use of an AMC guarantee (``adapter.rules.ledger.LedgerEntry``), money in cents."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    nir: Mapped[str] = mapped_column(String(15), index=True)
    contract_id: Mapped[str]
    guarantee_id: Mapped[str]
    day: Mapped[date]
    consumed_cents: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(Integer)
    submission: Mapped[str] = mapped_column(Text, index=True)
    ear: Mapped[str | None] = mapped_column(String(8))
    reversed_at: Mapped[datetime | None]  # the claim was cancelled (revision 0007): no longer counted


class CancellationRow(Base):
    """A withdrawn claim: who cancelled it, when, why, and the answer version it made."""

    __tablename__ = "cancellations"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255))
    reason_code: Mapped[str] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(128))
    cancelled_at: Mapped[datetime]


class AuditRow(Base):
    """Who did what, when, with which result; never the payload itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(255))
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(128))


class EligibilityRow(Base):
    """One answered eligibility question (revision 0006): its audit record (who asked, when, the
    request identifier, the outcome) and the answer's bytes, which a repeat of the question replays.
    No NIR: the question itself is not kept."""

    __tablename__ = "eligibility_checks"
    __table_args__ = (UniqueConstraint("client_id", "key_system", "key_value"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    key_system: Mapped[str] = mapped_column(Text)
    key_value: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    response_json: Mapped[bytes] = mapped_column(LargeBinary)
    asked_at: Mapped[datetime] = mapped_column(index=True)
    request_id: Mapped[str | None] = mapped_column(String(128))


class OutboxRow(Base):
    """An event to publish after commit; workers lease it, then mark it completed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(index=True)


def table_of(model: type[Base]) -> Table:
    """A model's ``Table``, for Core statements (no ORM unit of work on the hot paths)."""
    return Base.metadata.tables[model.__tablename__]
