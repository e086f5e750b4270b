"""The response mapping: decisions ⇄ the $submit answer Bundle (conventions.md §3)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claimresponse import ClaimResponse
from hypothesis import HealthCheck, given, settings

from adapter.domain.decision import (
    Finding,
    LineDecision,
    Note,
    Outcome,
    PayerDecision,
    PayerKind,
    Rejection,
)
from adapter.domain.request import (
    AmcCoverage,
    AmoCoverage,
    Beneficiary,
    BillingProvider,
    BusinessIdentifier,
    ClaimType,
    ClaimUse,
    Exoneration,
    Line,
    NatureAssurance,
    Prescriber,
    Prescription,
    ReimbursementRequest,
)
from adapter.domain.values import (
    AmcNumber,
    AmoOrganisme,
    Finess,
    LppCode,
    Money,
    Nir,
    Rpps,
    nir_key,
)
from adapter.errors import ConventionError, UsageError
from mappings.fhir.jsonio import dumps as dumps_json
from mappings.fhir.jsonio import loads as loads_json
from mappings.outbound import (
    from_claim_response,
    from_response_bundle,
    to_claim_response,
    to_claim_responses,
)
from mappings.systems import Canon
from tests.strategies_decision import Submission, submissions

PARIS_WINTER = timezone(timedelta(hours=1))
CANON = Canon()
HL7_ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

_NIR13 = "2690599350123"  # synthetic: woman born May 1969, département 99
NIR = Nir(f"{_NIR13}{nir_key(_NIR13):02d}")


def _request(*, use: ClaimUse = ClaimUse.CLAIM, amc: bool = True, lines: int = 1) -> ReimbursementRequest:
    return ReimbursementRequest(
        submission=BusinessIdentifier(system="https://hospital.example/submissions", value="SUB-2026-0001"),
        submitted_at=datetime(2026, 3, 2, 10, 0, tzinfo=PARIS_WINTER),
        created=datetime(2026, 3, 2, 9, 55, tzinfo=PARIS_WINTER),
        use=use,
        claim_type=ClaimType.PROFESSIONAL,
        beneficiary=Beneficiary(nir=NIR),
        provider=BillingProvider(finess=Finess("750712184")),
        amo=AmoCoverage(
            organisme=AmoOrganisme("011751234"),
            nature=NatureAssurance.MALADIE,
            exoneration=Exoneration.NONE,
            insured=NIR,
        ),
        lines=tuple(
            Line(
                sequence=sequence,
                lpp_code=LppCode("1322065"),
                quantity=1,
                unit_price=Money.of("150.00"),
                delivery_date=date(2026, 3, 1),
            )
            for sequence in range(1, lines + 1)
        ),
        prescription=Prescription(
            authored_on=date(2026, 2, 20),
            prescriber=Prescriber(rpps=Rpps("10101201234")),
            lpp_code=LppCode("1322065"),
        ),
        amc=(
            AmcCoverage(amc_number=AmcNumber("123456789"), member_id="M-42", contract_id="DEMO-150")
            if amc
            else None
        ),
    )


def _amo_line(sequence: int = 1) -> LineDecision:
    return LineDecision(
        sequence=sequence,
        submitted=Money.of("150.00"),
        eligible=Money.of("100.00"),
        benefit=Money.of("60.00"),
        rate=Decimal(60),
        ticket_moderateur=Money.of("40.00"),
        depassement=Money.of("50.00"),
    )


def _amo(*lines: LineDecision, estimate: bool = False) -> PayerDecision:
    return PayerDecision(
        payer=PayerKind.AMO,
        insurer="011751234",
        created=datetime(2026, 3, 2, 10, 15, tzinfo=PARIS_WINTER),
        outcome=Outcome.COMPLETE,
        disposition="Facture traitée",
        lines=lines or (_amo_line(),),
        notes=(Note(fr="BR 100,00 € × 60 % = 60,00 €", en="BR €100.00 × 60% = €60.00"),),
        estimate=estimate,
    )


def _amc(estimate: bool = False) -> PayerDecision:
    return PayerDecision(
        payer=PayerKind.AMC,
        insurer="123456789",
        created=datetime(2026, 3, 2, 10, 16, tzinfo=PARIS_WINTER),
        outcome=Outcome.COMPLETE,
        disposition="Complément versé",
        lines=(
            LineDecision(
                sequence=1,
                submitted=Money.of("150.00"),
                eligible=Money.of("100.00"),
                benefit=Money.of("90.00"),
                reste_a_charge=Money.of("0.00"),
            ),
        ),
        notes=(
            Note(
                fr="BR 100,00 € × 60 % = 60,00 € ; mutuelle 150 % BR : 90,00 €",
                en="BR €100.00 × 60% = €60.00; mutual insurer 150% of BR: €90.00",
            ),
        ),
        estimate=estimate,
    )


def _adjudications(entries: Sequence[Mapping[str, Any]]) -> list[tuple[str, Decimal]]:
    """(category code, amount or value) for each adjudication of an item or total list."""
    return [
        (entry["category"]["coding"][0]["code"], entry["amount"]["value"])
        if "amount" in entry
        else (entry["category"]["coding"][0]["code"], entry["value"])
        for entry in entries
    ]


def _validate(bundle: dict[str, Any]) -> None:
    """The Bundle is valid R4 (R4B models), both as a dict and as the bytes we would send."""
    Bundle.model_validate(bundle)
    Bundle.model_validate_json(dumps_json(bundle))


def _non_blocking(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(finding for finding in findings if not finding.blocking)


# -- the worked example (domain-fr.md §3.4, example 1) --------------------------------------


def test_worked_example_amo_claim_response_field_by_field() -> None:
    """BR 100, price 150, AMO 60 %: the AMO answer carries 150/100/60 %/60/TM 40/dépassement 50."""
    bundle = to_claim_responses(_request(), _amo(), _amc())
    amo = bundle["entry"][0]["resource"]

    assert amo["resourceType"] == "ClaimResponse"
    assert amo["status"] == "active"
    assert amo["use"] == "claim"
    assert amo["type"]["coding"][0]["code"] == "professional"
    assert amo["patient"]["identifier"] == {
        "system": "urn:oid:1.2.250.1.213.1.4.8",
        "value": NIR.value,
    }
    assert amo["created"] == "2026-03-02T10:15:00+01:00"
    assert amo["insurer"]["identifier"] == {"system": CANON.amo_organisme, "value": "011751234"}
    assert amo["requestor"]["identifier"] == {
        "system": "https://finess.esante.gouv.fr",
        "value": "750712184",
    }
    assert amo["request"] == {
        "type": "Claim",
        "identifier": {"system": "https://hospital.example/submissions", "value": "SUB-2026-0001"},
    }
    assert amo["outcome"] == "complete"
    assert amo["disposition"] == "Facture traitée"
    assert amo["payeeType"]["coding"][0]["code"] == "provider"
    assert [item["itemSequence"] for item in amo["item"]] == [1]
    assert _adjudications(amo["item"][0]["adjudication"]) == [
        ("submitted", Decimal("150.00")),
        ("eligible", Decimal("100.00")),
        ("eligpercent", Decimal(60)),
        ("benefit", Decimal("60.00")),
        ("ticket-moderateur", Decimal("40.00")),
        ("depassement", Decimal("50.00")),
    ]
    assert _adjudications(amo["total"]) == [
        ("submitted", Decimal("150.00")),
        ("eligible", Decimal("100.00")),
        ("benefit", Decimal("60.00")),
        ("ticket-moderateur", Decimal("40.00")),
        ("depassement", Decimal("50.00")),
    ]
    assert amo["payment"] == {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype",
                    "code": "complete",
                }
            ]
        },
        "date": "2026-03-02",
        "amount": {"value": Decimal("60.00"), "currency": "EUR"},
    }
    assert amo["insurance"] == [
        {"sequence": 1, "focal": True, "coverage": {"type": "Coverage", "display": "AMO 011751234"}}
    ]
    assert "error" not in amo
    assert "extension" not in amo


def test_worked_example_amc_claim_response_field_by_field() -> None:
    """The AMC answer pays 90, leaves RAC 0, and points at the AMO answer as the prior payer."""
    bundle = to_claim_responses(_request(), _amo(), _amc())
    amo_url = bundle["entry"][0]["fullUrl"]
    amc = bundle["entry"][1]["resource"]

    assert amc["insurer"]["identifier"] == {"system": CANON.amc, "value": "123456789"}
    assert amc["created"] == "2026-03-02T10:16:00+01:00"
    assert _adjudications(amc["item"][0]["adjudication"]) == [
        ("submitted", Decimal("150.00")),
        ("eligible", Decimal("100.00")),
        ("benefit", Decimal("90.00")),
        ("reste-a-charge", Decimal("0.00")),
    ]
    assert amc["item"][0]["adjudication"][3]["category"]["coding"][0]["system"] == (CANON.adjudication)
    assert amc["payment"]["amount"] == {"value": Decimal("90.00"), "currency": "EUR"}
    assert amc["insurance"] == [
        {
            "sequence": 1,
            "focal": False,
            "coverage": {"type": "Coverage", "display": "AMO 011751234"},
            "claimResponse": {"reference": amo_url},
        },
        {
            "sequence": 2,
            "focal": True,
            "coverage": {"type": "Coverage", "display": "AMC 123456789"},
        },
    ]
    assert [(note["number"], note["language"]["coding"][0]["code"]) for note in amc["processNote"]] == [
        (1, "fr-FR"),
        (2, "en"),
    ]
    assert amc["processNote"][0]["text"] == ("BR 100,00 € × 60 % = 60,00 € ; mutuelle 150 % BR : 90,00 €")
    assert amc["processNote"][0]["type"] == "display"


def test_worked_example_bundle_envelope() -> None:
    """The answer is a collection Bundle echoing the submission identifier: AMO, then AMC."""
    bundle = to_claim_responses(_request(), _amo(), _amc())

    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert bundle["identifier"] == {
        "system": "https://hospital.example/submissions",
        "value": "SUB-2026-0001",
    }
    assert bundle["timestamp"] == "2026-03-02T10:15:00+01:00"
    assert [entry["resource"]["insurer"]["identifier"]["system"] for entry in bundle["entry"]] == [
        CANON.amo_organisme,
        CANON.amc,
    ]
    assert all(entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}" for entry in bundle["entry"])
    _validate(bundle)


def test_worked_example_round_trips() -> None:
    """Reading the worked example's answer back gives the very decisions that produced it."""
    amo, amc = _amo(), _amc()

    assert from_response_bundle(to_claim_responses(_request(), amo, amc)) == (amo, amc, ())


# -- JSON encoding --------------------------------------------------------------------------


def test_json_encoding_keeps_the_scale_of_amounts() -> None:
    """Amounts are written as JSON numbers with two decimals: 60.00, not 60.0 or "60.00"."""
    encoded = dumps_json(to_claim_responses(_request(), _amo(), _amc()))

    assert b'"value":60.00,"currency":"EUR"' in encoded
    assert b'"value":0.00,"currency":"EUR"' in encoded
    assert b'"value":60}' in encoded  # the eligpercent rate, as given
    assert "€".encode() in encoded
    assert json.loads(encoded)["entry"][0]["resource"]["payment"]["amount"]["value"] == 60.0


def test_loads_json_reads_numbers_back_as_decimals() -> None:
    """loads_json is dumps_json's inverse: amounts come back as the same Decimals."""
    bundle = to_claim_responses(_request(), _amo(), _amc())

    assert loads_json(dumps_json(bundle)) == bundle
    assert str(loads_json(dumps_json(bundle))["entry"][1]["resource"]["total"][2]["amount"]["value"]) == (
        "90.00"
    )


def test_json_encoding_matches_the_standard_encoder_without_decimals() -> None:
    """Without Decimals the output is what json.dumps writes compactly, escapes included."""
    value = {"a": [1, 2.5, True, False, None], "b": 'é"\\\n\u2028', "c": {"d": -0.0}}

    assert dumps_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        ({1: "x"}, TypeError),
        ({"x"}, TypeError),
    ],
)
def test_json_encoding_refuses_what_json_cannot_carry(value: Any, error: type[Exception]) -> None:
    """NaN, infinities, non-string keys and non-JSON types raise instead of writing bad JSON."""
    with pytest.raises(error):
        dumps_json(value)


# -- shapes ---------------------------------------------------------------------------------


def test_rejected_line_shape() -> None:
    """A rejected line keeps its adjudications, gets one error per reason; payment is partial."""
    rejected = replace(
        _amo_line(2),
        benefit=Money.zero(),
        ticket_moderateur=Money.of("100.00"),
        rejections=(
            Rejection(code="lpp-code-generic", text="Code LPP générique désactivé"),
            Rejection(code="prescription-expired", text=""),
        ),
    )
    amo = replace(_amo(_amo_line(1), rejected), outcome=Outcome.PARTIAL)
    bundle = to_claim_responses(_request(amc=False, lines=2), amo)
    resource = bundle["entry"][0]["resource"]

    assert len(bundle["entry"]) == 1
    assert _adjudications(resource["item"][1]["adjudication"])[3] == ("benefit", Decimal("0.00"))
    assert resource["error"] == [
        {
            "itemSequence": 2,
            "code": {
                "coding": [{"system": CANON.error, "code": "lpp-code-generic"}],
                "text": "Code LPP générique désactivé",
            },
        },
        {
            "itemSequence": 2,
            "code": {"coding": [{"system": CANON.error, "code": "prescription-expired"}]},
        },
    ]
    assert resource["outcome"] == "partial"
    assert resource["payment"]["type"]["coding"][0]["code"] == "partial"
    assert resource["payment"]["amount"]["value"] == Decimal("60.00")
    _validate(bundle)
    assert from_claim_response(resource) == amo


def test_predetermination_shape() -> None:
    """An estimate carries the same numbers, no payment, the estimate extension and says so."""
    request = _request(use=ClaimUse.PREDETERMINATION)
    bundle = to_claim_responses(request, _amo(estimate=True), _amc(estimate=True))

    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["use"] == "predetermination"
        assert resource["extension"] == [{"url": CANON.estimate, "valueBoolean": True}]
        assert "payment" not in resource
        assert resource["disposition"].startswith("Estimation / estimate — ")
    assert _adjudications(bundle["entry"][1]["resource"]["item"][0]["adjudication"])[2] == (
        "benefit",
        Decimal("90.00"),
    )
    _validate(bundle)
    assert from_response_bundle(bundle) == (_amo(estimate=True), _amc(estimate=True), ())


def test_estimate_without_disposition_still_says_it_is_an_estimate() -> None:
    """An estimate with no disposition gets the bare label, read back as no disposition."""
    amo = replace(_amo(estimate=True), disposition="")
    resource = to_claim_response(_request(use=ClaimUse.PREDETERMINATION), amo)

    assert resource["disposition"] == "Estimation / estimate"
    assert from_claim_response(resource) == amo


def test_no_amc_shape() -> None:
    """Without an AMC the answer holds the AMO ClaimResponse alone, with one focal coverage."""
    request = replace(_request(amc=False), tiers_payant=False)
    bundle = to_claim_responses(request, _amo())
    resource = bundle["entry"][0]["resource"]

    assert [entry["resource"]["resourceType"] for entry in bundle["entry"]] == ["ClaimResponse"]
    assert resource["insurance"] == [
        {"sequence": 1, "focal": True, "coverage": {"type": "Coverage", "display": "AMO 011751234"}}
    ]
    assert resource["payeeType"]["coding"][0]["code"] == "subscriber"
    _validate(bundle)
    assert from_response_bundle(bundle) == (_amo(), None, ())


def test_findings_become_warnings_and_blocking_ones_are_left_out() -> None:
    """Non-blocking findings become warnings typed by the catalogue; blocking ones are left out."""
    findings = (
        Finding(
            code="finess-key",
            text="Clé FINESS invalide",
            expression="Bundle.entry[4].resource.identifier[0].value",
        ),
        Finding(code="duplicate-line", text="Doublon probable", sequence=1),
        Finding(code="prescription-expired", text="Prescription expirée", blocking=True, sequence=1),
    )
    bundle = to_claim_responses(_request(), _amo(), _amc(), findings)
    outcome = bundle["entry"][2]["resource"]

    assert outcome["resourceType"] == "OperationOutcome"
    assert bundle["entry"][2]["fullUrl"] == f"urn:uuid:{outcome['id']}"
    assert outcome["issue"] == [
        {
            "severity": "warning",
            "code": "value",
            "details": {
                "coding": [{"system": CANON.error, "code": "finess-key"}],
                "text": "Clé FINESS invalide",
            },
            "expression": ["Bundle.entry[4].resource.identifier[0].value"],
        },
        {
            "extension": [{"url": f"{CANON.base}/StructureDefinition/item-sequence", "valuePositiveInt": 1}],
            "severity": "warning",
            "code": "business-rule",
            "details": {
                "coding": [{"system": CANON.error, "code": "duplicate-line"}],
                "text": "Doublon probable",
            },
        },
    ]
    _validate(bundle)
    assert from_response_bundle(bundle)[2] == findings[:2]


def test_only_blocking_findings_add_no_operation_outcome() -> None:
    """Blocking findings alone leave the answer without an OperationOutcome entry."""
    blocking = Finding(code="duplicate-line", text="Doublon", blocking=True)
    bundle = to_claim_responses(_request(), _amo(), _amc(), [blocking])

    assert [entry["resource"]["resourceType"] for entry in bundle["entry"]] == [
        "ClaimResponse",
        "ClaimResponse",
    ]


def test_ids_are_deterministic_and_distinct() -> None:
    """The same submission gives the same bytes; each payer and submission gets its own ids."""
    first = to_claim_responses(_request(), _amo(), _amc(), [Finding(code="x", text="y")])
    other = replace(
        _request(),
        submission=BusinessIdentifier(system="https://hospital.example/submissions", value="SUB-2"),
    )
    ids = [entry["resource"]["id"] for entry in first["entry"]] + [first["id"]]

    assert dumps_json(first) == dumps_json(
        to_claim_responses(_request(), _amo(), _amc(), [Finding(code="x", text="y")])
    )
    assert len(set(ids)) == 4
    assert to_claim_responses(other, _amo())["entry"][0]["resource"]["id"] != ids[0]


def test_claim_identifier_is_preferred_for_the_request_reference() -> None:
    """When the Claim has its own identifier, ClaimResponse.request names it."""
    claim = BusinessIdentifier(system="https://hospital.example/claims", value="C-9")
    resource = to_claim_response(replace(_request(), claim_identifier=claim), _amo())

    assert resource["request"] == {
        "type": "Claim",
        "identifier": {"system": claim.system, "value": "C-9"},
    }


def test_a_stored_claim_is_referenced_beside_its_identifier() -> None:
    """With claim_reference, both answers point at the stored Claim and still read back."""
    bundle = to_claim_responses(_request(), _amo(), _amc(), claim_reference="Claim/abc")
    responses = [entry["resource"] for entry in bundle["entry"]]

    assert [r["request"]["reference"] for r in responses] == ["Claim/abc", "Claim/abc"]
    assert from_response_bundle(bundle)[:2] == (_amo(), _amc())
    Bundle.model_validate(bundle)


def test_a_single_claim_response_validates_and_round_trips() -> None:
    """to_claim_response alone gives a valid ClaimResponse that reads back to the decision."""
    resource = to_claim_response(_request(), _amc(), prior="urn:uuid:00000000-0000-0000-0000-000000000001")

    ClaimResponse.model_validate(resource)
    assert from_claim_response(resource) == _amc()


# -- what FHIR cannot carry -----------------------------------------------------------------


@pytest.mark.parametrize(
    "decision",
    [
        replace(_amo(), created=datetime(2026, 3, 2, 10, 15)),  # noqa: DTZ001 - the point of the test
        replace(_amo(), created=datetime(2026, 3, 2, tzinfo=timezone(timedelta(seconds=30)))),
        replace(_amo(), notes=(Note(fr="", en="empty French"),)),
        replace(_amo(), disposition="bell \x07"),
        replace(_amo(), disposition="\u202f"),
        replace(_amo(), pre_auth_ref=""),
        replace(_amo(), lines=(_amo_line(1), _amo_line(1))),
        replace(
            _amo(),
            lines=(replace(_amo_line(), rejections=(Rejection(code="two  spaces", text=""),)),),
        ),
        replace(_amo(), lines=(replace(_amo_line(), rate=Decimal("NaN")),)),
    ],
    ids=[
        "naive",
        "offset-seconds",
        "empty-note",
        "control-char",
        "only-narrow-nbsp",
        "empty-preauth",
        "dup-seq",
        "bad-code",
        "nan-rate",
    ],
)
def test_values_fhir_cannot_carry_are_refused(decision: PayerDecision) -> None:
    """A decision field FHIR cannot carry raises UsageError rather than being dropped or mangled."""
    with pytest.raises(UsageError):
        to_claim_response(_request(), decision)


def test_misuse_is_refused() -> None:
    """Payers in the wrong slots, an AMC without coverage or a prior on the AMO raise UsageError."""
    with pytest.raises(UsageError):
        to_claim_responses(_request(), _amc())
    with pytest.raises(UsageError):
        to_claim_responses(_request(), _amo(), _amo())
    with pytest.raises(UsageError):
        to_claim_response(_request(amc=False), _amc())
    with pytest.raises(UsageError):
        to_claim_response(_request(), _amo(), prior="urn:uuid:x")
    with pytest.raises(UsageError):
        to_claim_responses(_request(), _amo(), findings=[Finding(code="x", text="", sequence=0)])


# -- reading what others send ---------------------------------------------------------------


def _amo_resource() -> dict[str, Any]:
    return to_claim_response(_request(), _amo())


def _issues(resource: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    with pytest.raises(ConventionError) as caught:
        from_claim_response(resource)
    return [(issue.code, issue.expression) for issue in caught.value.issues]


def test_reader_reports_every_problem_with_its_path() -> None:
    """Bad currency, unknown insurer system and bad outcome are all reported with their FHIRPath."""
    resource = _amo_resource()
    resource["item"][0]["adjudication"][0]["amount"]["currency"] = "USD"
    resource["insurer"]["identifier"]["system"] = "https://other.example/payers"
    resource["outcome"] = "done"

    assert _issues(resource) == [
        ("payor-identifier", "ClaimResponse.insurer.identifier.system"),
        ("code-invalid", "ClaimResponse.outcome"),
        ("currency", "ClaimResponse.item[0].adjudication[0].amount.currency"),
    ]


def test_reader_requires_the_core_adjudications() -> None:
    """An item without its benefit adjudication is refused; an unknown category is ignored."""
    resource = _amo_resource()
    resource["item"][0]["adjudication"][3]["category"]["coding"][0]["code"] = "copay"

    assert _issues(resource) == [("element-required", "ClaimResponse.item[0].adjudication")]


def test_reader_refuses_amounts_beyond_the_cent_and_naive_times() -> None:
    """60.005 € and a created without time zone are refused with money-invalid and date-invalid."""
    resource = _amo_resource()
    resource["item"][0]["adjudication"][0]["amount"]["value"] = Decimal("60.005")
    resource["created"] = "2026-03-02"

    assert _issues(resource) == [
        ("date-invalid", "ClaimResponse.created"),
        ("money-invalid", "ClaimResponse.item[0].adjudication[0].amount.value"),
    ]


def test_reader_refuses_errors_for_unknown_items_and_unpaired_notes() -> None:
    """An error on a missing item and an odd number of process notes are reported."""
    resource = to_claim_response(
        _request(),
        replace(_amo(), lines=(replace(_amo_line(), rejections=(Rejection(code="x", text="y"),)),)),
    )
    resource["error"][0]["itemSequence"] = 7
    resource["processNote"].pop()

    assert _issues(resource) == [
        ("element-invalid", "ClaimResponse.error[0].itemSequence"),
        ("element-invalid", "ClaimResponse.processNote"),
    ]


def test_reader_refuses_a_bundle_without_amo_answer() -> None:
    """A Bundle holding only the AMC ClaimResponse is not a $submit answer."""
    bundle = to_claim_responses(_request(), _amo(), _amc())
    del bundle["entry"][0]

    with pytest.raises(ConventionError) as caught:
        from_response_bundle(bundle)

    assert [(issue.code, issue.expression) for issue in caught.value.issues] == [
        ("element-required", "Bundle.entry")
    ]


def test_reader_refuses_other_resources() -> None:
    """A Claim handed to the ClaimResponse reader is refused as the wrong resource type."""
    assert _issues({"resourceType": "Claim"}) == [("resource-type-wrong", "ClaimResponse.resourceType")]


# -- properties -----------------------------------------------------------------------------


@PROPERTY
@given(submissions())
def test_bundle_round_trip(submission: Submission) -> None:
    """Each generated answer is valid R4 and gives back its decisions and non-blocking findings."""
    bundle = to_claim_responses(submission.request, submission.amo, submission.amc, submission.findings)

    _validate(bundle)
    assert from_response_bundle(bundle) == (
        submission.amo,
        submission.amc,
        _non_blocking(submission.findings),
    )


@PROPERTY
@given(submissions())
def test_bundle_round_trip_through_json(submission: Submission) -> None:
    """The answer survives encoding, whether read back with Decimals or with json.loads floats."""
    bundle = to_claim_responses(submission.request, submission.amo, submission.amc, submission.findings)
    expected = (submission.amo, submission.amc, _non_blocking(submission.findings))
    encoded = dumps_json(bundle)

    assert from_response_bundle(loads_json(encoded)) == expected
    assert from_response_bundle(json.loads(encoded)) == expected


@PROPERTY
@given(submissions(with_amc=True))
def test_single_claim_response_round_trip(submission: Submission) -> None:
    """to_claim_response then from_claim_response gives back each decision, AMO and AMC."""
    assert submission.amc is not None

    for decision in (submission.amo, submission.amc):
        assert from_claim_response(to_claim_response(submission.request, decision)) == decision
