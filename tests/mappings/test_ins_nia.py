"""The INS-NIA: accepted wherever a NIR is, keyed in the history like one, echoed under its own
system, and carried over the payer protocol."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapter.access import Caller
from adapter.domain import IdentityKind
from adapter.domain.jsonable import from_jsonable, to_jsonable
from adapter.domain.request import ReimbursementRequest
from adapter.flow import SubmitFlow
from adapter.intake import Format, read_submission
from adapter.payers import ReferencePayers, protocol
from adapter.service.claims import StoreService
from adapter.store import Store
from mappings import systems
from mappings.fhir import jsonio
from tests.support import bundles as fb
from tests.support.identifiers import nir

NIA_CASE = "50-ins-nia-patient"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
EVERYONE_ID = "dev-client"


def _request(bundle: dict[str, object]) -> ReimbursementRequest:
    return read_submission(jsonio.dumps(bundle)).request


def test_an_ins_nia_identifies_the_patient() -> None:
    request = _request(fb.bundle(NIA_CASE))
    assert request.beneficiary.identity is IdentityKind.NIA
    assert request.beneficiary.nir.value == fb.SCENARIOS[NIA_CASE].patient.nir
    assert request.amo.insured == request.beneficiary.nir  # Coverage.subscriberId: the same number


def test_a_nir_wins_over_an_ins_nia() -> None:
    bundle = fb.bundle(NIA_CASE)
    _, patient = fb.entry_of(bundle, "Patient")
    definitive = nir("2850599134156")
    patient["identifier"].append({"system": systems.NIR, "value": definitive})
    request = _request(bundle)
    assert request.beneficiary.identity is None
    assert request.beneficiary.nir.value == definitive


def test_the_view_of_a_nir_patient_is_unchanged_and_an_nia_one_says_so() -> None:
    standard = to_jsonable(_request(fb.bundle("01-purchase-standard")))
    assert "identity" not in standard["beneficiary"]
    request = _request(fb.bundle(NIA_CASE))
    view = to_jsonable(request)
    assert view["beneficiary"]["identity"] == "nia"
    assert from_jsonable(ReimbursementRequest, view) == request
    message = protocol.amo_request_message("claim-0050.amo", request, NOW)  # checked against the schema
    assert protocol.read_amo_request(message).request == request


def test_the_answer_and_the_search_name_the_patient_by_the_ins_nia(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        service = StoreService(store, SubmitFlow(ReferencePayers.load()))
        caller = Caller(client_id=EVERYONE_ID, everything=True)
        data = jsonio.dumps(fb.bundle(NIA_CASE))
        answer = service.submit(data, Format.JSON, caller=caller, now=NOW)
        patient = answer.resource["entry"][0]["resource"]["patient"]["identifier"]
        value = fb.SCENARIOS[NIA_CASE].patient.nir
        assert patient == {"system": systems.INS_NIA, "value": value}
        for token in (f"{systems.INS_NIA}|{value}", value):
            page = service.search_claim_responses(caller=caller, patient_identifier=token)
            assert page.total == 2
        assert (
            service.search_claim_responses(caller=caller, patient_identifier=f"{systems.NIR}|{value}").total
            == 2
        )
    finally:
        store.dispose()
