"""Choice elements are named the FHIRPath way in issue expressions: ``serviced.ofType(Period)``."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.errors import Issue
from mappings.fhir import fhirpath_choices, with_fhirpath_choices

BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "entry": [
        {
            "resource": {
                "resourceType": "Claim",
                "item": [{"servicedDate": "2026-03-02"}],
                "billablePeriod": {},
            }
        },
        {"resource": {"resourceType": "DeviceRequest", "occurrencePeriod": {"start": "2026-03-02"}}},
        {
            "resource": {
                "resourceType": "Coverage",
                "costToBeneficiary": [{"valueMoney": {"value": 1}}],
                "extension": [{"url": "https://x.example", "valueString": "x"}],
            }
        },
    ],
}


@pytest.mark.parametrize(
    ("json_path", "fhirpath"),
    [
        (
            "Bundle.entry[0].resource.item[0].servicedDate",
            "Bundle.entry[0].resource.item[0].serviced.ofType(date)",
        ),
        ("Bundle.entry[0].resource.billablePeriod.start", "Bundle.entry[0].resource.billablePeriod.start"),
        (
            "Bundle.entry[1].resource.occurrencePeriod.start",
            "Bundle.entry[1].resource.occurrence.ofType(Period).start",
        ),
        (
            "Bundle.entry[2].resource.costToBeneficiary[0].valueMoney.value",
            "Bundle.entry[2].resource.costToBeneficiary[0].value.ofType(Money).value",
        ),
        (
            "Bundle.entry[2].resource.extension[0].valueString",
            "Bundle.entry[2].resource.extension[0].value.ofType(string)",
        ),
        # What cannot be followed is kept as written: an unknown element, a missing entry.
        ("Bundle.entry[0].resource.foo.valueString", "Bundle.entry[0].resource.foo.valueString"),
        ("Bundle.entry[9].resource.valueString", "Bundle.entry[9].resource.valueString"),
        ("Bundle.identifier", "Bundle.identifier"),
        ("Patient.name", "Patient.name"),
    ],
)
def test_choice_elements_take_their_fhirpath_name(json_path: str, fhirpath: str) -> None:
    assert fhirpath_choices(json_path, BUNDLE) == fhirpath


def test_issues_keep_everything_but_the_expression() -> None:
    issues = [Issue("period-invalid", "m", "Bundle.entry[1].resource.occurrencePeriod"), Issue("x", "n")]

    assert with_fhirpath_choices(issues, BUNDLE) == [
        Issue("period-invalid", "m", "Bundle.entry[1].resource.occurrence.ofType(Period)"),
        Issue("x", "n"),
    ]
