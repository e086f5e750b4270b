"""Eligibility on the store (both backends): nothing consumed, the question kept as the tenant's
audit record, replayed, refused with other content, and never seen by another tenant."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from adapter.access import Caller
from adapter.auth import OrganisationForbidden
from adapter.eligibility_flow import EligibilityFlow
from adapter.errors import ConflictError, ConventionError
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.payers.reference_eligibility import ReferenceEligibility
from adapter.service.claims import StoreService
from adapter.service.eligibility import EligibilityUseCases
from adapter.store import Store
from mappings.fhir import jsonio
from tests.support.bundles import as_bytes, bundle
from tests.support.eligibility import ELIGIBILITY, eligibility_bundle
from tests.support.identifiers import siret

NOW = datetime(2026, 6, 20, 8, 0, tzinfo=UTC)
PHARMACY = siret("81234567", "0012")  # the provider of the forfait scenarios
TENANT_A = Caller(client_id="billing-a", siret=frozenset({PHARMACY}))
TENANT_B = Caller(client_id="billing-b", siret=frozenset({PHARMACY}))
STRANGER = Caller(client_id="billing-c", siret=frozenset({siret("55512345", "0001")}))
DEV = Caller(client_id="dev-client", everything=True)


@pytest.fixture
def service(store: Store) -> StoreService:
    payers = ReferencePayers.load()
    eligibility = EligibilityFlow(ReferenceEligibility(table=payers.table, catalogue=payers.catalogue))
    return StoreService(store, SubmitFlow(payers), eligibility=EligibilityUseCases(store, eligibility))


def _forfait_question() -> bytes:
    return as_bytes(eligibility_bundle(ELIGIBILITY["05-forfait-used-up"]))


def _amc_item(answer: dict[str, Any]) -> dict[str, Any]:
    amc = answer["entry"][1]["resource"]
    assert amc["insurer"]["identifier"]["value"] == "MUTEX00001"
    item: dict[str, Any] = amc["insurance"][0]["item"][0]
    return item


def _benefit(item: dict[str, Any], code: str) -> dict[str, Any]:
    found = [b for b in item["benefit"] if b["type"]["coding"][0]["code"] == code]
    assert len(found) == 1, code
    return found[0]


def test_the_forfait_left_comes_from_the_ledger_and_asking_consumes_nothing(service: StoreService) -> None:
    """After 18-forfait-first-use (70.00 of the 100.00 forfait spent), the question about
    19's device says 30.00 left and the mutuelle's 70.00; asking twice, then submitting the
    claim, gives the claim exactly the answer it gets without the questions."""
    service.submit(as_bytes(bundle("18-forfait-first-use")), Format.JSON, caller=DEV, now=NOW)
    answer = service.check_eligibility(_forfait_question(), Format.JSON, caller=DEV, now=NOW)
    item = _amc_item(answer.resource)
    forfait = _benefit(item, "forfait")
    assert forfait["allowedMoney"]["value"] == jsonio.loads(b"100.00")
    assert forfait["usedMoney"]["value"] == jsonio.loads(b"70.00")
    assert _benefit(item, "benefit")["allowedMoney"]["value"] == jsonio.loads(b"70.00")
    assert _benefit(item, "reste-a-charge")["allowedMoney"]["value"] == jsonio.loads(b"20.00")
    amo_item = answer.resource["entry"][0]["resource"]["insurance"][0]["item"][0]
    assert _benefit(amo_item, "benefit")["allowedMoney"]["value"] == jsonio.loads(b"60.00")
    assert _benefit(amo_item, "rate")["allowedUnsignedInt"] == 60

    again = service.check_eligibility(_forfait_question(), Format.JSON, caller=DEV, now=NOW)
    assert again.replayed
    assert again.json == answer.json
    claim = service.submit(as_bytes(bundle("19-forfait-partly-used")), Format.JSON, caller=DEV, now=NOW)
    amc = claim.resource["entry"][1]["resource"]
    benefit = [a for a in amc["item"][0]["adjudication"] if a["category"]["coding"][0]["code"] == "benefit"]
    assert benefit[0]["amount"]["value"] == jsonio.loads(b"70.00")  # domain-fr §3.4 example 6: unchanged


def test_a_question_is_kept_as_the_tenants_audit_record(service: StoreService, store: Store) -> None:
    answer = service.check_eligibility(
        _forfait_question(), Format.JSON, caller=TENANT_A, now=NOW, request_id="req-1"
    )
    assert answer.outcome == "open"
    [check] = service.eligibility_checks(caller=TENANT_A)
    assert (check.client_id, check.key_value, check.outcome, check.request_id) == (
        "billing-a",
        "ELIG-05-forfait-used-up",
        "open",
        "req-1",
    )
    assert check.asked_at == NOW
    assert check.response_json == answer.json
    assert service.eligibility_checks(caller=TENANT_B) == []
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT action, outcome, client_id FROM audit_log")).all()
    assert [tuple(row) for row in rows] == [("eligibility", "open", "billing-a")]
    nir = bundle("19-forfait-partly-used")["entry"][1]["resource"]["identifier"][0]["value"]
    with store.engine.connect() as connection:  # no column holds the patient's NIR
        [stored] = connection.execute(text("SELECT * FROM eligibility_checks")).all()
    assert all(nir not in str(value) for value in stored if not isinstance(value, bytes))


def test_tenants_keys_are_their_own_and_other_content_is_refused(service: StoreService) -> None:
    first_a = service.check_eligibility(_forfait_question(), Format.JSON, caller=TENANT_A, now=NOW)
    first_b = service.check_eligibility(_forfait_question(), Format.JSON, caller=TENANT_B, now=NOW)
    assert not first_a.replayed
    assert not first_b.replayed
    ids_a = {e["resource"]["id"] for e in first_a.resource["entry"]}
    ids_b = {e["resource"]["id"] for e in first_b.resource["entry"]}
    assert not ids_a & ids_b  # each tenant's answer has ids of its own
    changed = eligibility_bundle(ELIGIBILITY["05-forfait-used-up"])
    changed["timestamp"] = "2026-06-17T10:00:00+02:00"
    with pytest.raises(ConflictError):
        service.check_eligibility(as_bytes(changed), Format.JSON, caller=TENANT_A, now=NOW)
    assert len(service.eligibility_checks(caller=TENANT_A)) == 1
    assert len(service.eligibility_checks(caller=TENANT_B)) == 1


def test_a_tenant_asks_only_for_its_own_organisations(service: StoreService) -> None:
    with pytest.raises(OrganisationForbidden):
        service.check_eligibility(_forfait_question(), Format.JSON, caller=STRANGER, now=NOW)
    assert service.eligibility_checks(caller=STRANGER) == []


def test_a_broken_question_names_its_element_and_keeps_nothing(service: StoreService) -> None:
    broken = copy.deepcopy(eligibility_bundle(ELIGIBILITY["01-standard-benefits"]))
    del broken["entry"][0]["resource"]["servicedDate"]
    with pytest.raises(ConventionError) as refused:
        service.check_eligibility(as_bytes(broken), Format.JSON, caller=DEV, now=NOW)
    assert [(i.code, i.expression) for i in refused.value.issues] == [
        ("eligibility-serviced", "Bundle.entry[0].resource.servicedDate")
    ]
    assert service.eligibility_checks(caller=DEV) == []
