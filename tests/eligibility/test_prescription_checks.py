"""A prescription checked on its own (``DeviceRequest/$validate``, ``adapter validate``): every
finding with its severity and FHIRPath; only unreadable input is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from adapter.errors import Issue, ParseError
from adapter.intake import Format
from adapter.prescription_flow import validate_prescription
from adapter.rules.lpp_loader import load_lpp_table
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from tests.support.bundles import CANON, OTHER_PATIENT, patient_resource
from tests.support.eligibility import lone_prescription
from tests.support.identifiers import rpps

TABLE = load_lpp_table()
TODAY = date(2026, 12, 1)


def _check(resource: dict[str, Any], fmt: Format = Format.JSON) -> list[tuple[str, str, str | None]]:
    data = jsonio.dumps(resource) if fmt is Format.JSON else dump_xml(resource)
    issues = validate_prescription(data, fmt, table=TABLE, today=TODAY)
    return [(i.severity.value, i.code, i.expression) for i in issues]


def _codes(found: list[tuple[str, str, str | None]], severity: str) -> list[str]:
    return [code for level, code, _ in found if level == severity]


def test_a_clean_prescription_has_information_only() -> None:
    found = _check(lone_prescription("01-purchase-standard", coverage=True))
    assert _codes(found, "error") == []
    assert _codes(found, "warning") == []
    assert ("information", "prescription-checked", "DeviceRequest.codeCodeableConcept") in found


def test_json_and_xml_agree_and_logical_references_are_read() -> None:
    resource = lone_prescription("01-purchase-standard", contained=False)
    assert _check(resource) == _check(resource, Format.XML)
    assert _codes(_check(resource), "error") == []


def _with_code(resource: dict[str, Any], code: str) -> dict[str, Any]:
    resource["codeCodeableConcept"] = {"coding": [{"system": CANON.lpp, "code": code}]}
    return resource


def test_a_code_not_in_the_table_on_the_day_and_a_deactivated_generic_are_errors() -> None:
    unknown = _check(_with_code(lone_prescription("01-purchase-standard"), "9999999"))
    assert ("error", "lpp-code-unknown", "DeviceRequest.codeCodeableConcept") in unknown
    generic = _check(_with_code(lone_prescription("01-purchase-standard"), "1326761"))
    assert ("error", "lpp-code-generic", "DeviceRequest.codeCodeableConcept") in generic


def test_an_entente_prealable_is_a_warning_to_write_it() -> None:
    found = _check(lone_prescription("15-accord-prealable"))
    assert ("warning", "entente-prealable-required", "DeviceRequest.codeCodeableConcept") in found


def test_age_bounds_against_the_contained_patients_birth_date() -> None:
    """An adult hearing aid (from 20) for a child born in 2016: an error on the subject."""
    resource = _with_code(lone_prescription("01-purchase-standard"), "9900101")
    resource["contained"][0]["birthDate"] = "2016-05-04"
    assert ("error", "age-out-of-range", "DeviceRequest.subject") in _check(resource)
    del resource["contained"][0]["birthDate"]
    assert ("information", "prescription-checked", "DeviceRequest.subject") in _check(resource)


def test_quantity_caps_per_delivery_year_and_renewal() -> None:
    resource = _with_code(
        lone_prescription("01-purchase-standard"), "9900401"
    )  # strips: 2 per delivery, 4 a year
    resource["parameter"] = [{"code": {"text": "quantity"}, "valueQuantity": {"value": 5}}]
    found = _check(resource)
    where = "DeviceRequest.parameter[0].valueQuantity.value"
    assert ("error", "quantity-delivery-cap", where) in found
    assert ("error", "quantity-yearly-cap", where) in found
    hearing = _with_code(lone_prescription("01-purchase-standard"), "9900101")
    hearing["contained"][0]["birthDate"] = "1950-01-01"
    hearing["parameter"] = [{"code": {"text": "quantity"}, "valueQuantity": {"value": 3}}]
    assert ("error", "renewal-too-early", where) in _check(hearing)


def test_the_ald_part_against_the_exoneration() -> None:
    """04-ald is in the ALD part under exonération 4: fine; without the ALD extension: a warning."""
    assert _codes(_check(lone_prescription("04-ald", coverage=True)), "warning") == []
    outside = lone_prescription("04-ald", coverage=True)
    del outside["extension"]
    assert ("warning", "prescription-ald-part", "DeviceRequest.extension") in _check(outside)
    no_cover = _check(lone_prescription("04-ald"))
    assert ("information", "prescription-checked", "DeviceRequest") in no_cover


def test_the_prescriber_rpps_and_its_key() -> None:
    resource = lone_prescription("01-purchase-standard")
    good = rpps("1000345678")
    resource["contained"][1]["identifier"][0]["value"] = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert ("warning", "prescriber-identifier-suspect", "DeviceRequest.requester") in _check(resource)
    resource["contained"][1]["identifier"][0]["value"] = "123"
    assert ("error", "rpps-format", "DeviceRequest.contained[1].identifier[0].value") in _check(resource)


def test_what_a_lone_prescription_must_carry() -> None:
    resource = lone_prescription("01-purchase-standard")
    resource["subject"] = {"display": "Mme Exemple"}  # FHIR wants a subject; the checks want the NIR
    del resource["authoredOn"]
    found = _check(resource)
    assert ("error", "prescription-patient-missing", "DeviceRequest.subject") in found
    assert ("error", "prescription-date-missing", "DeviceRequest.authoredOn") in found
    uncoded = lone_prescription("01-purchase-standard")
    uncoded["codeCodeableConcept"] = {"text": "Un fauteuil roulant"}
    assert ("information", "prescription-uncoded", "DeviceRequest.codeCodeableConcept") in _check(uncoded)


def test_a_prescription_for_someone_else_than_the_patient_is_read_from_subject() -> None:
    resource = lone_prescription("01-purchase-standard")
    resource["contained"][0] = patient_resource(OTHER_PATIENT) | {"id": "patient"}
    assert _codes(_check(resource), "error") == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "invalid-json"),
        (jsonio.dumps({"resourceType": "Claim"}), "resource-type-wrong"),
        (jsonio.dumps({"resourceType": "DeviceRequest", "status": 7}), "element-invalid"),
    ],
)
def test_unreadable_input_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(ParseError) as refused:
        validate_prescription(data, Format.JSON, table=TABLE, today=TODAY)
    assert code in [issue.code for issue in refused.value.issues]
    assert all(isinstance(issue, Issue) for issue in refused.value.issues)
