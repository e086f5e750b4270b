"""What the store keeps of an adjudicated submission: one row, built from the flow's result.

The store owns its columns: the service hands over what happened (the submission as
received, its adjudication, the answer's bytes) and this module decides what is kept and
in which form. The ``*_json`` columns hold ``to_jsonable``'s view of the request, the
decisions and the findings, for audit; nothing reads them back to answer a request.
"""

from __future__ import annotations

from datetime import datetime

from adapter.domain.jsonable import to_jsonable
from adapter.flow import Adjudicated
from adapter.store.records import NewSubmission
from mappings.fhir import jsonio

__all__ = ["submission_row"]


def _json(obj: object) -> str:
    return jsonio.dumps(to_jsonable(obj)).decode("utf-8")


def submission_row(
    *,
    id: str,
    adjudicated: Adjudicated,
    response_json: bytes,
    raw: bytes | None,
    media_type: str,
    content_hash: str,
    client_id: str,
    at: datetime,
    state: str = "complete",
    received_at: datetime | None = None,
    dead_reason: str | None = None,
) -> NewSubmission:
    """The row of one adjudicated submission; ``id`` is the stored Claim's id. ``state`` is
    ``pending`` for a queued answer; ``received_at`` is the submission's reception when the row
    is a later answer (a worker's), ``at`` otherwise."""
    request = adjudicated.submission.request
    key, provider, claim_identifier = request.submission, request.provider, request.claim_identifier
    return NewSubmission(
        id=id,
        key_system=key.system,
        key_value=key.value,
        content_hash=content_hash,
        media_type=media_type,
        raw=raw,
        request_json=_json(request),
        amo_decision_json=_json(adjudicated.amo),
        amc_decision_json=None if adjudicated.amc is None else _json(adjudicated.amc),
        findings_json=_json(adjudicated.findings),
        response_json=response_json,
        amo_response_id=adjudicated.amo_response_id,
        amc_response_id=adjudicated.amc_response_id,
        patient_nir=request.beneficiary.nir.value,
        provider_finess=None if provider.finess is None else provider.finess.value,
        provider_siret=None if provider.siret is None else provider.siret.value,
        amo_organisme=request.amo.organisme.value,
        amc_number=None if request.amc is None else request.amc.amc_number.value,
        claim_identifier_system=None if claim_identifier is None else claim_identifier.system,
        claim_identifier_value=None if claim_identifier is None else claim_identifier.value,
        use=request.use.value,
        outcome=adjudicated.outcome.value,
        client_id=client_id,
        received_at=at if received_at is None else received_at,
        stored_at=at,
        state=state,
        dead_reason=dead_reason,
    )
