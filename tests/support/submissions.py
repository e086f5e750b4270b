"""Stored-submission rows for the store tests (invented identifiers, NIRs with valid keys)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapter.domain.values import Nir
from adapter.store import NewSubmission
from tests.support.identifiers import nir

T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
KEY_SYSTEM = "https://hospital.example/submissions"


PATIENT = Nir(nir("2840375123456"))
OTHER_PATIENT = Nir(nir("1920169123789"))


def submission(n: int = 1, **changes: Any) -> NewSubmission:
    """The ``n``-th synthetic submission (distinct key, ids and time), with fields overridden."""
    raw = f'{{"resourceType":"Bundle","id":"sub-{n}"}}'.encode()
    fields: dict[str, Any] = {
        "id": str(uuid.UUID(int=n)),
        "key_system": KEY_SYSTEM,
        "key_value": f"SUB-{n:04d}",
        "content_hash": hashlib.sha256(raw).hexdigest(),
        "media_type": "application/fhir+json",
        "raw": raw,
        "request_json": f'{{"submission":"SUB-{n:04d}"}}',
        "amo_decision_json": '{"benefit":"60.00"}',
        "amc_decision_json": '{"benefit":"40.00"}',
        "findings_json": "[]",
        "response_json": f'{{"resourceType":"Bundle","id":"resp-{n}","note":"réglé"}}'.encode(),
        "amo_response_id": f"amo-{n}",
        "amc_response_id": f"amc-{n}",
        "patient_nir": PATIENT.value,
        "provider_finess": "750712184",
        "provider_siret": None,
        "amo_organisme": "011751234",
        "amc_number": "MUT0001",
        "claim_identifier_system": "https://hospital.example/claims",
        "claim_identifier_value": f"CLM-{n:04d}",
        "use": "claim",
        "outcome": "complete",
        "client_id": "hospital-a",
        "received_at": T0 + timedelta(minutes=n),
        "stored_at": T0 + timedelta(minutes=n, seconds=1),
    }
    fields.update(changes)
    return NewSubmission(**fields)


def with_key(new: NewSubmission, value: str) -> NewSubmission:
    """The same submission under another idempotency key value."""
    return replace(new, key_value=value)
