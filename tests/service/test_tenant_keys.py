"""Idempotency keys belong to the submitting tenant (issue #15, item 4), on every backend.

Two tenants that use one Bundle.identifier both succeed, each with ids of its own, each reads
its own answer, and neither can take, block or detect the other's key. The development client
keeps the unscoped ids, so a single-tenant deployment answers exactly as before.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapter.access import Caller
from adapter.errors import ConflictError
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.service.claims import StoreService, submission_id
from adapter.store import Store
from mappings.fhir import jsonio
from tests.support.identifiers import siret

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SIRET_A = "81234567600124"  # the provider of fixture 01
SIRET_B = siret("55512345", "0001")
TENANT_A = Caller(client_id="billing-a", siret=frozenset({SIRET_A}))
TENANT_B = Caller(client_id="billing-b", siret=frozenset({SIRET_B}))
DEV = Caller(client_id="dev-client", everything=True)


@pytest.fixture
def service(store: Store) -> StoreService:
    return StoreService(store, SubmitFlow(ReferencePayers.load()))


def _bundle(provider_siret: str = SIRET_A) -> dict[str, Any]:
    bundle = jsonio.loads((FIXTURES / "01-purchase-standard.json").read_bytes())
    provider = bundle["entry"][0]["resource"]["provider"]["reference"]
    for entry in bundle["entry"]:
        if entry["fullUrl"] == provider:
            entry["resource"]["identifier"][0]["value"] = provider_siret
    return bundle


def _ids(answer_json: bytes) -> set[str]:
    bundle = jsonio.loads(answer_json)
    return (
        {bundle["id"]}
        | {e["resource"]["id"] for e in bundle["entry"]}
        | {e["fullUrl"] for e in bundle["entry"]}
    )


def test_two_tenants_with_one_bundle_identifier_both_succeed_apart(service: StoreService) -> None:
    """B submitting A's Bundle.identifier first neither blocks A (no 409) nor shares an id with it;
    each tenant replays and reads only its own answer."""
    data_a = jsonio.dumps(_bundle(SIRET_A))
    data_b = jsonio.dumps(_bundle(SIRET_B))
    b_first = service.submit(data_b, Format.JSON, caller=TENANT_B, now=NOW)  # B squats A's key
    a_first = service.submit(data_a, Format.JSON, caller=TENANT_A, now=NOW)
    assert not a_first.replayed
    assert not b_first.replayed
    assert not _ids(a_first.json) & _ids(b_first.json)

    assert service.submit(data_a, Format.JSON, caller=TENANT_A, now=NOW).json == a_first.json
    assert service.submit(data_b, Format.JSON, caller=TENANT_B, now=NOW).json == b_first.json
    changed = {**_bundle(SIRET_A), "timestamp": "2026-05-30T10:00:00+02:00"}
    with pytest.raises(ConflictError):  # A's own key with other content: still A's 409
        service.submit(jsonio.dumps(changed), Format.JSON, caller=TENANT_A, now=NOW)

    for tenant, answer, other in ((TENANT_A, a_first, b_first), (TENANT_B, b_first, a_first)):
        mine = jsonio.loads(answer.json)["entry"][0]["resource"]
        theirs = jsonio.loads(other.json)["entry"][0]["resource"]
        read = service.claim_response(mine["id"], caller=tenant)
        assert read is not None
        assert {key: value for key, value in read.resource.items() if key != "meta"} == mine
        assert read.resource["meta"]["versionId"] == "1"
        assert service.claim_response(theirs["id"], caller=tenant) is None
        claim_id = mine["request"]["reference"].removeprefix("Claim/")
        their_claim = theirs["request"]["reference"].removeprefix("Claim/")
        assert service.claim(claim_id, caller=tenant) is not None
        claim = service.claim_resource(claim_id, caller=tenant)
        bundle = service.submitted_bundle(claim_id, caller=tenant)
        assert claim is not None
        assert bundle is not None
        assert (claim.resource["resourceType"], claim.resource["id"]) == ("Claim", claim_id)
        assert (bundle.resource["resourceType"], bundle.resource["id"]) == ("Bundle", claim_id)
        assert service.claim_resource(their_claim, caller=tenant) is None
        assert service.submitted_bundle(their_claim, caller=tenant) is None
        shared = _bundle()["identifier"]  # both tenants submitted under it
        claims = service.search_claims(caller=tenant, identifier=(shared["system"], shared["value"]))
        assert ([c["id"] for c in claims.resources], claims.total) == ([claim_id], 1)
        page = service.search_claim_responses(
            caller=tenant, request="https://supplier.example/fhir/submissions|SUB-2026-000101"
        )
        assert page.resources
        assert {r["id"] for r in page.resources} <= {
            e["resource"]["id"] for e in jsonio.loads(answer.json)["entry"]
        }


def test_a_tenants_submission_does_not_reveal_another_tenants_key(service: StoreService) -> None:
    """Reusing another tenant's identifier answers exactly what a fresh identifier would: the ids
    depend on the tenant and the key only, never on who else used the key."""
    data_b = jsonio.dumps(_bundle(SIRET_B))
    alone = service.submit(data_b, Format.JSON, caller=TENANT_B, now=NOW)
    with service.store.write() as tx:  # forget B's submission, then let A use the key first
        tx._connection.exec_driver_sql("DELETE FROM submissions")
    service.submit(jsonio.dumps(_bundle(SIRET_A)), Format.JSON, caller=TENANT_A, now=NOW)
    after_a = service.submit(data_b, Format.JSON, caller=TENANT_B, now=NOW)
    assert not after_a.replayed
    assert _ids(after_a.json) == _ids(alone.json)


def test_the_development_client_keeps_the_unscoped_ids(service: StoreService) -> None:
    """A single-tenant deployment (no clients file, or authentication off) answers as before keys
    belonged to tenants: the stored Claim's id is uuid5 over the key alone."""
    answer = service.submit(jsonio.dumps(_bundle()), Format.JSON, caller=DEV, now=NOW)
    claim = jsonio.loads(answer.json)["entry"][0]["resource"]["request"]["reference"]
    key = ("https://supplier.example/fhir/submissions", "SUB-2026-000101")
    assert claim == f"Claim/{submission_id(*key)}"
    assert submission_id(*key, "billing-a") != submission_id(*key)
    assert uuid.UUID(submission_id(*key, "billing-a")).version == 5
    other = service.submit(jsonio.dumps(_bundle()), Format.JSON, caller=TENANT_A, now=NOW)
    assert not other.replayed
    assert not _ids(other.json) & _ids(answer.json)


def test_the_new_reads_never_show_another_tenants_rows(service: StoreService) -> None:
    """Claim and Bundle reads, ClaimResponse vread and history, and every search (any sort, any
    page) show a tenant its own submissions only: another's are unknown (the API's 404)."""
    mine = service.submit(jsonio.dumps(_bundle(SIRET_A)), Format.JSON, caller=TENANT_A, now=NOW)
    theirs = service.submit(jsonio.dumps(_bundle(SIRET_B)), Format.JSON, caller=TENANT_B, now=NOW)
    my_ids = {e["resource"]["id"] for e in jsonio.loads(mine.json)["entry"]}
    their_claim = jsonio.loads(theirs.json)["entry"][0]["resource"]
    their_claim_id = their_claim["request"]["reference"].removeprefix("Claim/")

    assert service.claim_resource(their_claim_id, caller=TENANT_A) is None
    assert service.submitted_bundle(their_claim_id, caller=TENANT_A) is None
    assert service.claim_response_history(their_claim["id"], caller=TENANT_A) is None
    for sort in ("created", "-created", "_lastUpdated", "-_lastUpdated"):
        for offset in (0, 1):
            page = service.search_claim_responses(caller=TENANT_A, sort=sort, offset=offset, count=1)
            assert page.total == 2
            assert {r["id"] for r in page.resources} <= my_ids
        claims = service.search_claims(caller=TENANT_A, sort=sort)
        assert claims.total == 1
        assert their_claim_id not in {c["id"] for c in claims.resources}
    by_patient = service.search_claim_responses(
        caller=TENANT_A, patient_identifier=their_claim["patient"]["identifier"]["value"]
    )
    assert {r["id"] for r in by_patient.resources} <= my_ids
