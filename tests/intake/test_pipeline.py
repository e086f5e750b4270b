"""Intake: each stage refuses what it must, with the right status, code and FHIRPath."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapter.errors import ConventionError, InputError, ParseError
from adapter.intake import Format, Limits, check, read_submission
from mappings import systems
from tests.support.bundles import as_bytes, entry_of
from tests.support.requests import sample_bundle, sample_request


def issues_of(bundle: dict[str, Any] | bytes) -> tuple[int, set[tuple[str, str | None]]]:
    data = bundle if isinstance(bundle, bytes) else as_bytes(bundle)
    status, issues = check(data)
    return status, {(i.code, i.expression) for i in issues if i.is_error}


def test_sample_bundle_maps_back_to_its_request() -> None:
    """The reference Bundle passes every stage and yields the request it was written from."""
    submission = read_submission(as_bytes(sample_bundle()))
    assert submission.request == sample_request()
    assert submission.format is Format.JSON


def test_json_numbers_stay_decimal() -> None:
    """Amounts read from JSON never go through float."""
    submission = read_submission(as_bytes(sample_bundle()))
    assert str(submission.request.lines[1].unit_price.amount) == "12.35"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{", "invalid-json"),
        (b'{"resourceType": "Bundle", "total": NaN}', "invalid-json"),
        (b'{"resourceType": "Bundle", "entry": [-Infinity]}', "invalid-json"),
        (b"[]", "resource-type-missing"),
        (b"\xff\xfe{}", "encoding-invalid"),
        (b'{"resourceType": "Nope"}', "resource-type-unknown"),
        (b'{"resourceType": "Patient"}', "resource-type-wrong"),
    ],
)
def test_unreadable_payloads_are_400(data: bytes, code: str) -> None:
    """Bytes that are not a Bundle are refused before any convention check."""
    with pytest.raises(ParseError) as caught:
        read_submission(data, Format.JSON)
    assert caught.value.http_status == 400
    assert caught.value.issues[0].code == code


def test_size_and_depth_limits() -> None:
    """Bodies over the byte limit or nested too deep are refused as input-too-large."""
    data = as_bytes(sample_bundle())
    with pytest.raises(ParseError) as caught:
        read_submission(data, limits=Limits(max_bytes=100))
    assert caught.value.issues[0].code == "input-too-large"
    nested: dict[str, Any] = {"url": "https://x.example/e", "valueBoolean": True}
    for _ in range(100):
        nested = {"url": "https://x.example/e", "extension": [nested]}
    bundle = sample_bundle()
    bundle["entry"][1]["resource"]["extension"] = [nested]
    with pytest.raises(ParseError) as caught:
        read_submission(as_bytes(bundle))
    assert caught.value.issues[0].code == "input-too-large"
    bomb = b'{"resourceType":"Bundle","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ParseError) as caught:
        read_submission(bomb)
    assert caught.value.issues[0].code == "input-too-large"


def test_all_convention_issues_are_reported_at_once() -> None:
    """Several independent defects give several issues in one 422."""
    bundle = sample_bundle()
    index, patient = entry_of(bundle, "Patient")
    patient["identifier"][0]["value"] = "284037512345699"
    bundle["entry"][0]["resource"]["total"]["value"] = 1
    del bundle["timestamp"]
    status, found = issues_of(bundle)
    assert status == 422
    assert found == {
        ("nir-key", f"Bundle.entry[{index}].resource.identifier[0].value"),
        ("total-mismatch", "Bundle.entry[0].resource.total"),
        ("bundle-timestamp-missing", "Bundle.timestamp"),
    }


def test_references_resolve_by_relative_type_and_id() -> None:
    """``Type/id`` references resolve against entries whose fullUrl ends with Type/id."""
    bundle = sample_bundle()
    renames: dict[str, str] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        new = f"https://hospital.example/fhir/{resource['resourceType']}/{resource['id']}"
        renames[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
        entry["fullUrl"] = new
    text = as_bytes(bundle).decode()
    for old, new in renames.items():
        text = text.replace(f'"reference":"{old}"', f'"reference":"{new}"')
    submission = read_submission(text.encode())
    assert submission.request == sample_request()


def test_reference_to_the_wrong_type_and_dangling_reference() -> None:
    """A Claim.patient pointing at a Practitioner and a reference to nothing are both reported."""
    bundle = sample_bundle()
    practitioner_index, _ = entry_of(bundle, "Practitioner")
    claim = bundle["entry"][0]["resource"]
    claim["patient"]["reference"] = bundle["entry"][practitioner_index]["fullUrl"]
    claim["provider"]["reference"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    status, found = issues_of(bundle)
    assert status == 422
    assert ("reference-target-type", "Bundle.entry[0].resource.patient.reference") in found
    assert ("reference-unresolved", "Bundle.entry[0].resource.provider.reference") in found


def test_reference_type_element_must_match_the_target() -> None:
    """Reference.type that contradicts the resolved entry is an error on .type."""
    bundle = sample_bundle()
    bundle["entry"][0]["resource"]["patient"]["type"] = "Group"
    assert issues_of(bundle) == (
        422,
        {("reference-target-type", "Bundle.entry[0].resource.patient.type")},
    )


def test_idnat_forms_and_practitioner_role_are_read() -> None:
    """idNatPs 8+RPPS via a PractitionerRole, and idNatSt 1+FINESS, map like the bare forms."""
    bundle = sample_bundle()
    index, practitioner = entry_of(bundle, "Practitioner")
    practitioner["identifier"] = [{"system": systems.IDNATPS, "value": "810000123454"}]
    role_url = "urn:uuid:11111111-2222-4333-8444-555555555555"
    bundle["entry"].append(
        {
            "fullUrl": role_url,
            "resource": {
                "resourceType": "PractitionerRole",
                "practitioner": {"reference": bundle["entry"][index]["fullUrl"]},
            },
        }
    )
    _, device_request = entry_of(bundle, "DeviceRequest")
    device_request["requester"] = {"reference": role_url}
    _, provider = entry_of(bundle, "Organization")
    provider["identifier"] = [{"system": systems.IDNATST, "value": "1750712184"}]
    assert read_submission(as_bytes(bundle)).request == sample_request()


def test_unknown_idnatps_prefix_is_refused() -> None:
    """An idNatPs that is neither 8+RPPS nor 0+ADELI cannot identify a prescriber."""
    bundle = sample_bundle()
    index, practitioner = entry_of(bundle, "Practitioner")
    practitioner["identifier"] = [{"system": systems.IDNATPS, "value": "310000123454"}]
    assert issues_of(bundle) == (
        422,
        {("idnat-prefix", f"Bundle.entry[{index}].resource.identifier[0].value")},
    )


def test_finess_failing_luhn_is_a_warning_only() -> None:
    """A FINESS whose key fails Luhn is accepted with a finess-key warning."""
    bundle = sample_bundle()
    _, provider = entry_of(bundle, "Organization")
    provider["identifier"][0]["value"] = "750712185"
    submission = read_submission(as_bytes(bundle))
    assert [w.code for w in submission.warnings] == ["finess-key"]


def test_partial_dates_cannot_date_a_delivery() -> None:
    """FHIR allows 2026-03 but a delivery needs its day."""
    bundle = sample_bundle()
    bundle["entry"][0]["resource"]["item"][0]["servicedDate"] = "2026-03"
    assert issues_of(bundle) == (
        422,
        {("date-invalid", "Bundle.entry[0].resource.item[0].serviced.ofType(date)")},
    )


def test_ald_extension_and_prescribed_quantity_are_read() -> None:
    """The ALD flag and the prescribed quantity come from the DeviceRequest."""
    bundle = sample_bundle()
    _, device_request = entry_of(bundle, "DeviceRequest")
    device_request["extension"] = [
        {"url": "https://adapter.example/fhir/StructureDefinition/ald", "valueBoolean": True}
    ]
    request = read_submission(as_bytes(bundle)).request
    assert request.prescription.ald
    assert request.prescription.quantity == 1


def test_amc_insurance_must_not_be_focal_and_amo_must_be() -> None:
    """Sequence 1 is the focal AMO, sequence 2 the non-focal AMC."""
    bundle = sample_bundle()
    insurance = bundle["entry"][0]["resource"]["insurance"]
    insurance[0]["focal"], insurance[1]["focal"] = False, True
    assert issues_of(bundle) == (
        422,
        {
            ("insurance-order", "Bundle.entry[0].resource.insurance[0].focal"),
            ("insurance-order", "Bundle.entry[0].resource.insurance[1].focal"),
        },
    )


def test_coverage_classes_are_required_and_coded() -> None:
    """An AMO coverage without exoneration and with an unknown nature is refused on both."""
    bundle = sample_bundle()
    index, coverage = entry_of(bundle, "Coverage")
    coverage["class"] = [coverage["class"][0] | {"value": "99"}]
    assert issues_of(bundle) == (
        422,
        {
            ("coverage-class", f"Bundle.entry[{index}].resource.class[0].value"),
            ("coverage-class", f"Bundle.entry[{index}].resource.class"),
        },
    )


def test_structure_errors_are_400_with_pydantic_paths() -> None:
    """An unknown element and a bad datatype are structure errors at their FHIRPath."""
    bundle = sample_bundle()
    index, patient = entry_of(bundle, "Patient")
    patient["birthDate"] = "12/03/1984"
    bundle["entry"][0]["resource"]["colour"] = "blue"
    status, found = issues_of(bundle)
    assert status == 400
    assert found == {
        ("element-invalid", f"Bundle.entry[{index}].resource.birthDate"),
        ("element-unknown", "Bundle.entry[0].resource.colour"),
    }


def test_required_code_values_are_checked() -> None:
    """Codes bound to required value sets (here Patient.gender) must come from them."""
    bundle = sample_bundle()
    index, patient = entry_of(bundle, "Patient")
    patient["gender"] = "f"
    assert issues_of(bundle) == (422, {("code-invalid", f"Bundle.entry[{index}].resource.gender")})


def test_input_error_carries_every_issue() -> None:
    """ConventionError is an InputError whose issues list everything."""
    bundle = sample_bundle()
    bundle["type"] = "batch"
    with pytest.raises(ConventionError) as caught:
        read_submission(as_bytes(bundle))
    assert isinstance(caught.value, InputError)
    assert [i.code for i in caught.value.issues] == ["bundle-type"]


def test_primitives_must_have_their_json_kind() -> None:
    """FHIR JSON gives each primitive one JSON kind; pydantic's lax mode would read a number as a
    date (a Unix time), "true" as a boolean and "1" as an integer."""
    bundle = sample_bundle()
    index, patient = entry_of(bundle, "Patient")
    bundle["timestamp"] = 0
    patient["active"] = "true"
    bundle["entry"][0]["resource"]["item"][0]["sequence"] = "1"
    status, found = issues_of(bundle)
    assert status == 400
    assert found == {
        ("element-invalid", "Bundle.timestamp"),
        ("element-invalid", f"Bundle.entry[{index}].resource.active"),
        ("element-invalid", "Bundle.entry[0].resource.item[0].sequence"),
    }


def test_null_empty_objects_and_empty_arrays_are_refused() -> None:
    """JSON null, {} (ele-1: a value or children) and [] are not FHIR JSON, wherever they are."""
    bundle = sample_bundle()
    index, patient = entry_of(bundle, "Patient")
    claim = bundle["entry"][0]["resource"]
    claim["provider"] = {}
    claim["patient"] = None
    patient["name"] = []
    status, found = issues_of(bundle)
    assert status == 400
    assert {
        ("element-invalid", "Bundle.entry[0].resource.provider"),
        ("element-invalid", "Bundle.entry[0].resource.patient"),
        ("element-invalid", f"Bundle.entry[{index}].resource.name"),
    } <= found


def test_a_logical_reference_where_the_conventions_need_an_entry() -> None:
    """Claim.patient by identifier only is valid FHIR, but the claim needs the Patient entry."""
    bundle = sample_bundle()
    bundle["entry"][0]["resource"]["patient"] = {"display": "someone"}
    assert issues_of(bundle) == (422, {("reference-unresolved", "Bundle.entry[0].resource.patient")})


def test_an_identifier_without_value_is_named() -> None:
    """A NIR identifier with its system but no value: the value is required, at its FHIRPath."""
    bundle = sample_bundle()
    index, patient = entry_of(bundle, "Patient")
    del patient["identifier"][0]["value"]
    status, found = issues_of(bundle)
    assert status == 422
    assert ("element-required", f"Bundle.entry[{index}].resource.identifier[0].value") in found


def test_a_prescription_must_name_its_device() -> None:
    """A DeviceRequest whose coding is not LPP and that has no text names no device."""
    bundle = sample_bundle()
    index, request = entry_of(bundle, "DeviceRequest")
    request["codeCodeableConcept"] = {"coding": [{"system": "https://other.example/codes", "code": "X1"}]}
    assert issues_of(bundle) == (
        422,
        {("prescription-device-missing", f"Bundle.entry[{index}].resource.code.ofType(CodeableConcept)")},
    )


@pytest.mark.parametrize("amount", [Decimal("1E+400"), 10**30, Decimal("1000000000.00")])
def test_amounts_beyond_the_adapters_range_are_refused(amount: Decimal | int) -> None:
    """An amount past MAX_AMOUNT is refused by name, before it can overflow a sum or a column."""
    bundle = sample_bundle()
    bundle["entry"][0]["resource"]["item"][0]["unitPrice"]["value"] = amount
    status, found = issues_of(bundle)
    assert status == 422
    assert ("money-invalid", "Bundle.entry[0].resource.item[0].unitPrice.value") in found
