"""The Bundle validated in parts (each entry's resource by its own class) agrees with the whole model.

``structure_issues`` first validates a Bundle's shell and each entry's resource separately, and
only when that finds an error validates the whole Bundle for the issues. Its verdict must be the
whole model's on every input: a Bundle the model refuses is never accepted in parts.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from mappings.fhir import jsonio, structure_issues, validates_in_parts, walk

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BUNDLES = sorted(
    path for path in FIXTURES.glob("*/*.json") if not path.name.endswith((".expected.json", ".meta.json"))
)
VALID = sorted(path for path in (FIXTURES / "valid").glob("*.json") if not path.name.endswith(".meta.json"))


def _whole_model_accepts(bundle: dict[str, Any]) -> bool:
    try:
        Bundle.model_validate(bundle)
    except (ValidationError, KeyError):
        return False
    return True


def _bundles() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in BUNDLES:
        try:
            value = jsonio.loads(path.read_bytes())
        except ValueError:
            continue  # the fixture that is not JSON
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            found.append((path.stem, value))
    return found


@pytest.mark.parametrize(
    ("name", "bundle"), _bundles(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_every_fixture_bundle_gets_the_whole_models_verdict(name: str, bundle: dict[str, Any]) -> None:
    """Valid and invalid fixtures alike: the verdict in parts is the whole model's."""
    assert validates_in_parts(bundle) is _whole_model_accepts(bundle)


def _claim_entry(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(entry for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Claim")


def _unknown_element(bundle: dict[str, Any]) -> None:
    _claim_entry(bundle)["resource"]["colour"] = "blue"


def _wrong_type(bundle: dict[str, Any]) -> None:
    _claim_entry(bundle)["resource"]["item"][0]["sequence"] = "first"


def _required_missing(bundle: dict[str, Any]) -> None:
    del _claim_entry(bundle)["resource"]["status"]


def _null_element(bundle: dict[str, Any]) -> None:
    _claim_entry(bundle)["resource"]["patient"] = None


def _datatype_as_resource(bundle: dict[str, Any]) -> None:
    bundle["entry"].append({"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Address", "city": "Lyon"}})


def _resource_not_an_object(bundle: dict[str, Any]) -> None:
    bundle["entry"].append({"fullUrl": "urn:uuid:2", "resource": ["Patient"]})


def _resource_without_type(bundle: dict[str, Any]) -> None:
    bundle["entry"].append({"fullUrl": "urn:uuid:3", "resource": {"id": "x"}})


def _entry_not_an_object(bundle: dict[str, Any]) -> None:
    bundle["entry"].append("Patient/x")


def _entries_not_a_list(bundle: dict[str, Any]) -> None:
    bundle["entry"] = {"resource": bundle["entry"][0]["resource"]}


def _bad_entry_element_beside_a_good_resource(bundle: dict[str, Any]) -> None:
    _claim_entry(bundle)["search"] = {"mode": "everything"}


def _bad_bundle_element(bundle: dict[str, Any]) -> None:
    bundle["total"] = -1


def _nest_a_bundle(bundle: dict[str, Any], gender: str, full_url: str) -> None:
    inner = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "gender": gender}}],
    }
    bundle["entry"].append({"fullUrl": full_url, "resource": inner})


def _nested_bundle_with_a_bad_resource(bundle: dict[str, Any]) -> None:
    _nest_a_bundle(bundle, "robot", "urn:uuid:4")


def _nested_valid_bundle(bundle: dict[str, Any]) -> None:
    _nest_a_bundle(bundle, "female", "urn:uuid:5")


MUTATIONS = [
    _unknown_element,
    _wrong_type,
    _required_missing,
    _null_element,
    _datatype_as_resource,
    _resource_not_an_object,
    _resource_without_type,
    _entry_not_an_object,
    _entries_not_a_list,
    _bad_entry_element_beside_a_good_resource,
    _bad_bundle_element,
    _nested_bundle_with_a_bad_resource,
    _nested_valid_bundle,
]


REFUSED_BY_THE_MODEL = {
    _unknown_element,
    _wrong_type,
    _required_missing,
    _resource_not_an_object,
    _entry_not_an_object,
    _entries_not_a_list,
    _bad_bundle_element,
}
"""The others (nulls, codes outside their value set) are the walk's to refuse, or valid."""


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda mutate: mutate.__name__.strip("_"))
@pytest.mark.parametrize("path", VALID[:3], ids=lambda path: path.stem)
def test_a_broken_bundle_is_judged_as_the_whole_model_judges_it(path: Path, mutate: Any) -> None:
    """Each mutation is refused in parts exactly when the whole model refuses it."""
    bundle = copy.deepcopy(jsonio.loads(path.read_bytes()))
    mutate(bundle)

    accepted = _whole_model_accepts(bundle)

    assert validates_in_parts(bundle) is accepted
    assert (structure_issues(bundle) == []) is accepted
    if mutate in REFUSED_BY_THE_MODEL:
        assert not accepted
    if mutate is _nested_valid_bundle:
        assert accepted


@pytest.mark.parametrize(
    ("resource", "element", "code"),
    [
        ("Device", "udiCarrier", {"entryType": "card"}),
        ("Observation", "status", "unknown"),
        ("CapabilityStatement", "format", ["application/fhir+xml"]),
    ],
)
def test_codes_beyond_an_incomplete_list_are_not_refused(resource: str, element: str, code: Any) -> None:
    """fhir.resources cuts some required code lists at R4's "+" ("and more") or lists words of
    the definition; those elements are not checked, rather than valid codes refused."""
    value = [code] if element == "udiCarrier" else code
    assert walk({"resourceType": resource, element: value}).codes == []


def test_a_code_outside_a_whole_list_is_still_refused() -> None:
    assert [i.code for i in walk({"resourceType": "Patient", "gender": "f"}).codes] == ["code-invalid"]


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        (
            {"resourceType": "Device", "udiCarrier": [{"entryType": "scanned"}]},
            "Device.udiCarrier[0].entryType",
        ),
        ({"resourceType": "Observation", "status": "done"}, "Observation.status"),
        (
            {"resourceType": "Observation", "valueQuantity": {"value": 1, "comparator": "~"}},
            "Observation.valueQuantity.comparator",
        ),
    ],
)
def test_codes_fhir_resources_does_not_list_are_checked_against_the_specification(
    resource: dict[str, Any], path: str
) -> None:
    """Those lists come from the R4 value sets (mappings/required-codes.json)."""
    assert [(i.code, i.expression) for i in walk(resource).codes] == [("code-invalid", path)]
