"""CEAM and S1: a person insured in another EU/EEA state is identified by the card's personal
number, the card or form rides on the AMO Coverage, the history is keyed by a derived key, and all
of it survives the JSON view, the payer protocol and the Bundle round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapter.domain import (
    AmoCoverage,
    CardKind,
    DateRange,
    ForeignCard,
    ForeignId,
    IdentityKind,
    Nir,
)
from adapter.domain.jsonable import from_jsonable, to_jsonable
from adapter.domain.request import ReimbursementRequest
from adapter.errors import ConventionError, InvalidValueError
from adapter.intake import read_submission
from adapter.intake.eligibility import read_eligibility
from adapter.payers import protocol, protocol_eligibility
from mappings import systems
from mappings.fhir import jsonio
from mappings.inbound import from_bundle, to_bundle
from tests.support import bundles as fb
from tests.support.eligibility import EligibilityCase, eligibility_bundle
from tests.support.identifiers import nir

EHIC = "51-ehic-visitor"
S1 = "52-s1-pensioner"
NOW = datetime(2026, 7, 20, 8, 0, tzinfo=UTC)


def _request(bundle: dict[str, object]) -> ReimbursementRequest:
    return read_submission(jsonio.dumps(bundle)).request


def _issues(bundle: dict[str, object]) -> list[tuple[str, str | None]]:
    with pytest.raises(ConventionError) as caught:
        read_submission(jsonio.dumps(bundle))
    return [(issue.code, issue.expression) for issue in caught.value.issues]


def test_a_ceam_holder_is_identified_by_the_personal_number_and_keyed_by_the_derived_key() -> None:
    request = _request(fb.bundle(EHIC))
    beneficiary = request.beneficiary
    assert beneficiary.identity is IdentityKind.EHIC
    assert beneficiary.foreign_id == ForeignId("DE:X123456789")
    assert beneficiary.nir == ForeignId("DE:X123456789").key
    assert request.amo.insured == beneficiary.nir  # no subscriberId: the holder is the insured
    assert request.amo.card == ForeignCard(
        kind=CardKind.EHIC,
        number="80276000010000012345",
        institution=ForeignId("DE:101575519"),
        expiry=date(2028, 12, 31),
    )
    assert request.amc is None


def test_an_s1_holder_has_an_open_ended_form_and_a_mutuelle() -> None:
    request = _request(fb.bundle(S1))
    assert request.beneficiary.identity is IdentityKind.S1
    assert request.amo.card is not None
    assert request.amo.card.kind is CardKind.S1
    assert request.amo.card.expiry is None
    assert request.amo.open_rights == request.amo.rights
    assert request.amc is not None


def test_the_derived_key_is_nir_shaped_outside_the_nir_space_and_stable() -> None:
    key = ForeignId("BE:51.02.14-123.45").key
    assert isinstance(key, Nir)
    assert key.value[0] == "7"
    assert key.value[5:7] == "00"  # département 00: never a person's NIR or INS-NIA
    assert ForeignId("BE:51021412345").key == key  # separators and case do not change the person
    assert ForeignId("DE:x 123-456.789").key == ForeignId("DE:X123456789").key  # letters upper-cased
    assert ForeignId("NL:51021412345").key != key  # another state's number is another person


@pytest.mark.parametrize("value", ["X123456789", "DEU:123", "de:123", "DE:", "DE:12#4", "DE:" + "9" * 41])
def test_a_foreign_number_is_written_cc_colon_number(value: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        ForeignId(value)
    assert caught.value.code == "foreign-id-format"


def test_the_card_closes_the_rights_on_its_expiry() -> None:
    request = _request(fb.bundle(EHIC))
    amo = request.amo
    assert amo.open_rights == DateRange(start=date(2026, 7, 1), end=date(2028, 12, 31))
    assert amo.card is not None
    expired = ForeignCard(
        kind=CardKind.EHIC, number="1", institution=amo.card.institution, expiry=date(2026, 6, 30)
    )
    before = AmoCoverage(
        organisme=amo.organisme,
        nature=amo.nature,
        exoneration=amo.exoneration,
        insured=amo.insured,
        rights=amo.rights,
        card=expired,
    )
    assert before.open_rights is not None
    assert not any(before.open_rights.contains(day) for day in (date(2026, 6, 30), date(2026, 7, 1)))
    no_period = AmoCoverage(
        organisme=amo.organisme,
        nature=amo.nature,
        exoneration=amo.exoneration,
        insured=amo.insured,
        card=expired,
    )
    assert no_period.open_rights == DateRange(start=date.min, end=date(2026, 6, 30))


def test_the_view_the_protocol_and_the_bundle_carry_the_card_both_ways() -> None:
    standard = to_jsonable(_request(fb.bundle("01-purchase-standard")))
    assert "card" not in standard["amo"]
    assert "foreign_id" not in standard["beneficiary"]
    for case in (EHIC, S1):
        request = _request(fb.bundle(case))
        view = to_jsonable(request)
        assert view["beneficiary"]["identity"] == request.beneficiary.identity
        assert view["beneficiary"]["foreign_id"] == str(request.beneficiary.foreign_id)
        assert request.amo.card is not None
        assert view["amo"]["card"]["kind"] == request.amo.card.kind.value
        assert from_jsonable(ReimbursementRequest, view) == request
        message = protocol.amo_request_message("claim-0051.amo", request, NOW)  # checked against the schema
        assert protocol.read_amo_request(message).request == request
        assert from_bundle(to_bundle(request)) == request


def test_a_card_holder_without_the_card_on_the_coverage_is_refused() -> None:
    bundle = fb.bundle(EHIC)
    index, coverage = fb.entry_of(bundle, "Coverage")
    del coverage["identifier"]
    assert _issues(bundle) == [("coverage-card", f"Bundle.entry[{index}].resource.identifier")]


def test_neither_nir_nor_nia_nor_card_names_all_three() -> None:
    bundle = fb.bundle(EHIC)
    index, patient = fb.entry_of(bundle, "Patient")
    patient["identifier"][0]["system"] = "https://example.org/passport"
    with pytest.raises(ConventionError) as caught:
        read_submission(jsonio.dumps(bundle))
    (issue,) = caught.value.issues
    assert (issue.code, issue.expression) == ("nir-missing", f"Bundle.entry[{index}].resource.identifier")
    assert systems.NIR in issue.message
    assert systems.INS_NIA in issue.message
    assert fb.CANON.eu_person in issue.message


def test_a_nir_wins_over_a_card_personal_number() -> None:
    """A person who got a NIR keeps the card on the Coverage: keyed and named by the NIR."""
    bundle = fb.bundle(EHIC)
    _, patient = fb.entry_of(bundle, "Patient")
    definitive = nir("2790499134052")
    patient["identifier"].append({"system": systems.NIR, "value": definitive})
    request = _request(bundle)
    assert request.beneficiary.identity is None
    assert request.beneficiary.foreign_id is None
    assert request.beneficiary.nir.value == definitive
    assert request.amo.insured == request.beneficiary.nir
    assert request.amo.card is not None


def test_an_eligibility_question_carries_the_card_over_the_protocol() -> None:
    case = EligibilityCase(name="ceam", description="", base=S1)
    question = read_eligibility(jsonio.dumps(eligibility_bundle(case))).request
    assert question.beneficiary.identity is IdentityKind.S1
    assert question.amo.card is not None
    message = protocol_eligibility.amo_eligibility_request("check-0052.amo", question, NOW)  # schema-checked
    assert protocol_eligibility.read_amo_eligibility_request(message).request == question
