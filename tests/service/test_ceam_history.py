"""A CEAM holder's history is keyed by the card's personal number: a second device within the
renewal interval is refused, whichever card or claim carries it, and the answers are found by the
personal number; an expired card is refused by the AMO as closed rights."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapter.access import Caller
from adapter.eligibility_flow import EligibilityFlow
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.payers.reference_eligibility import ReferenceEligibility
from adapter.service.claims import StoreService
from adapter.service.eligibility import EligibilityUseCases
from adapter.store import Store
from mappings.fhir import jsonio
from tests.support import bundles as fb
from tests.support.eligibility import EligibilityCase, eligibility_bundle

NOW = datetime(2026, 7, 20, 8, 0, tzinfo=UTC)
SUPPLIER = Caller(client_id="supplier", everything=True)
EHIC = fb.SCENARIOS["51-ehic-visitor"]


@pytest.fixture
def service(store: Store) -> StoreService:
    payers = ReferencePayers.load()
    eligibility = EligibilityFlow(ReferenceEligibility(table=payers.table, catalogue=payers.catalogue))
    return StoreService(store, SubmitFlow(payers), eligibility=EligibilityUseCases(store, eligibility))


def _meter(submission: str, on: date, card_number: str) -> bytes:
    """The CEAM visitor buys a glucose meter (9900402, renewed once every 48 months)."""
    assert EHIC.amo.card is not None
    case = dataclasses.replace(
        EHIC,
        submission=submission,
        amo=dataclasses.replace(EHIC.amo, card=dataclasses.replace(EHIC.amo.card, number=card_number)),
        lines=(
            fb.Line(
                code="9900402",
                display="Lecteur de glycémie, adulte (demo code)",
                unit_price=Decimal("43.59"),
                quantity=1,
                serviced_date=on,
            ),
        ),
    )
    return jsonio.dumps(fb.build_bundle(case))


def test_a_renewal_too_early_is_refused_on_a_new_card(service: StoreService) -> None:
    first = service.submit(
        _meter("SUB-CEAM-1", date(2026, 7, 13), "80276000010000012345"), Format.JSON, caller=SUPPLIER, now=NOW
    )
    assert first.outcome == "complete"
    second = service.submit(
        _meter("SUB-CEAM-2", date(2026, 7, 16), "80276000010000099999"), Format.JSON, caller=SUPPLIER, now=NOW
    )
    assert second.outcome == "error"
    assert "renewal-too-early" in second.json.decode()


def test_the_answers_are_found_by_the_personal_number(service: StoreService) -> None:
    service.submit(
        _meter("SUB-CEAM-3", date(2026, 7, 13), "80276000010000012345"), Format.JSON, caller=SUPPLIER, now=NOW
    )
    person = EHIC.patient.nir
    found = service.search_claim_responses(
        caller=SUPPLIER, patient_identifier=f"{fb.CANON.eu_person}|{person}"
    )
    assert found.total == 1
    other = service.search_claim_responses(
        caller=SUPPLIER, patient_identifier=f"{fb.CANON.eu_person}|NL:X123456789"
    )
    assert other.total == 0
    malformed = service.search_claim_responses(caller=SUPPLIER, patient_identifier=f"{fb.CANON.eu_person}|X1")
    assert malformed.total == 0


def test_an_expired_card_is_refused_as_closed_rights(service: StoreService) -> None:
    data = jsonio.dumps(fb.bundle("53-ehic-expired"))
    answer = service.submit(data, Format.JSON, caller=SUPPLIER, now=NOW)
    assert answer.outcome == "error"
    body = answer.json.decode()
    assert "rights-closed" in body
    assert "renewal-too-early" not in body


@pytest.mark.parametrize(("serviced", "inforce"), [(date(2026, 7, 13), True), (date(2029, 1, 2), False)])
def test_eligibility_names_the_holder_and_closes_on_the_expiry(
    service: StoreService, serviced: date, inforce: bool
) -> None:
    """The question about the CEAM visitor's device: asked before the card's expiry, the rights are
    open; after it (31 December 2028), closed. The answer names her by her personal number."""
    case = EligibilityCase(name=f"ceam-{serviced}", description="", base=EHIC.name, serviced=serviced)
    data = jsonio.dumps(eligibility_bundle(case))
    answer = service.check_eligibility(data, Format.JSON, caller=SUPPLIER, now=NOW)
    amo = answer.resource["entry"][0]["resource"]
    assert amo["patient"]["identifier"] == {"system": fb.CANON.eu_person, "value": EHIC.patient.nir}
    assert amo["insurance"][0]["inforce"] is inforce
