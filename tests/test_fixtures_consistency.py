"""The fixture files are what the builders produce, and each one says what it claims to.

Valid Bundles must parse with fhir.resources (R4B), carry identifiers the adapter's value
objects accept and amounts that add up; invalid inputs must come with an expected file whose
codes are in the catalogue and whose expressions point into the input.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhirpathpy import evaluate as fhirpath_evaluate
from fhirpathpy.models import models as fhirpath_models
from lxml import etree
from pydantic import ValidationError

from adapter.domain.values import (
    Adeli,
    AmcNumber,
    AmoOrganisme,
    Finess,
    ForeignId,
    Gtin,
    LppCode,
    Money,
    Nir,
    Rpps,
    Siret,
    luhn_valid,
    nir_key,
)
from adapter.errors import CATALOGUE, InputError
from adapter.rules import load_lpp_table
from mappings import systems
from mappings.fhir.xml import parse_xml
from tests import build_fixtures
from tests.support import bundles, identifiers

FIXTURES = build_fixtures.FIXTURES
CANON = bundles.CANON

VALID_JSON = sorted(
    path for path in (FIXTURES / "valid").glob("*.json") if not path.name.endswith(".meta.json")
)
VALID_XML = sorted((FIXTURES / "valid").glob("*.xml"))
INVALID_INPUTS = sorted(
    path for path in (FIXTURES / "invalid").iterdir() if not path.name.endswith(".expected.json")
)

PARSE_CODES = frozenset(
    {
        "invalid-json",
        "invalid-xml",
        "xml-forbidden",
        "xml-namespace",
        "input-too-large",
        "encoding-invalid",
        "resource-type-missing",
        "resource-type-unknown",
        "resource-type-wrong",
        "element-required",
        "element-unknown",
        "element-invalid",
    }
)
"""Codes of input that cannot be read as a FHIR Bundle (HTTP 400); the rest are 422."""

ABSENT_CODES = frozenset(
    {
        "element-required",
        "bundle-empty",
        "bundle-identifier-missing",
        "bundle-timestamp-missing",
        "prescription-missing",
        "coverage-card",
    }
)
"""Codes whose expression names an element that is absent from the input."""


@functools.cache
def _rendered() -> dict[str, bytes]:
    return build_fixtures.render_all()


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def _hardened() -> etree.XMLParser:
    return etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True, load_dtd=False)


def _resources(bundle: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in bundle.get("entry", []):
        yield entry["resource"]


def _by_full_url(bundle: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}


def _target(bundle: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, Any]:
    return _by_full_url(bundle)[reference["reference"]]


# -- the files are the builders' output ---------------------------------------------------


def test_files_on_disk_are_what_the_builders_produce() -> None:
    """Every fixture file equals its rendering, none is missing and none is stale."""
    assert build_fixtures.check() == []


def test_rendering_is_deterministic() -> None:
    """Two renderings of every fixture are byte-identical."""
    assert build_fixtures.render_all() == build_fixtures.render_all()


def test_the_kit_has_the_required_breadth() -> None:
    """At least 12 valid scenarios, 3 XML twins and 30 invalid inputs are shipped."""
    assert len(VALID_JSON) >= 12
    assert len(VALID_XML) >= 3
    assert len(INVALID_INPUTS) >= 30


def test_readme_lists_every_fixture() -> None:
    """The README table names every valid and invalid input file."""
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for path in [*VALID_JSON, *INVALID_INPUTS]:
        assert f"`{path.parent.name}/{path.name}`" in readme


def test_json_rendering_keeps_the_scale_of_amounts() -> None:
    """Decimals are written as JSON numbers with their two decimals, and read back equal."""
    text = build_fixtures.dumps_json({"value": Decimal("150.00"), "n": 4, "ok": True})
    assert b'"value": 150.00' in text
    assert json.loads(text, parse_float=Decimal) == {"value": Decimal("150.00"), "n": 4, "ok": True}


def test_identifier_helpers_make_values_the_adapter_accepts() -> None:
    """nir, finess, siret and rpps helpers produce values with valid keys, Corsica included."""
    corsican = identifiers.nir("115092A004912")
    assert Nir(corsican).value == corsican
    assert int(corsican[13:]) == nir_key("115092A004912")
    assert Finess(identifiers.finess("2A000015")).key_valid
    assert Finess(identifiers.finess("75010002")).key_valid
    assert Siret(identifiers.siret("81234567", "0012")).siren[:8] == "81234567"
    assert luhn_valid(Rpps(identifiers.rpps("1000345678")).value)


# -- valid scenarios -----------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID_JSON, ids=_ids(VALID_JSON))
def test_valid_json_parses_with_fhir_resources(path: Path) -> None:
    """Each valid JSON fixture is a FHIR R4 Bundle for fhir.resources R4B, Claim first."""
    bundle = Bundle.model_validate_json(path.read_bytes())
    assert bundle.type == "collection"
    first = (bundle.entry or [])[0].resource
    assert first is not None
    assert first.get_resource_type() == "Claim"


@pytest.mark.parametrize("path", VALID_XML, ids=_ids(VALID_XML))
def test_valid_xml_equals_its_json_twin(path: Path) -> None:
    """Each XML fixture parses with a hardened parser and equals its JSON twin field by field."""
    from_xml = Bundle.model_validate_xml(path.read_bytes(), xmlparser=_hardened())
    from_json = Bundle.model_validate_json(path.with_suffix(".json").read_bytes())
    assert from_xml.model_dump() == from_json.model_dump()


@pytest.mark.parametrize("path", VALID_XML, ids=_ids(VALID_XML))
def test_valid_xml_follows_fhir_element_order(path: Path) -> None:
    """The hand-written XML has the element order and values of fhir.resources' serialiser."""
    reference = Bundle.model_validate_json(path.with_suffix(".json").read_bytes())
    ours = list(etree.fromstring(path.read_bytes(), _hardened()).iter())
    theirs = list(etree.fromstring(reference.model_dump_xml(), _hardened()).iter())
    assert [element.tag for element in ours] == [element.tag for element in theirs]
    for mine, other in zip(ours, theirs, strict=True):
        assert sorted(mine.attrib) == sorted(other.attrib)
        value, expected = mine.get("value"), other.get("value")
        if value != expected:
            assert Decimal(str(value)) == Decimal(str(expected)), (mine.tag, value, expected)


def _check_identifier(system: str, value: str) -> None:
    if system in (systems.NIR, systems.INS_NIA):  # an INS-NIA is built and keyed as a NIR
        Nir(value)
    elif system == systems.RPPS or (system == systems.IDNATPS and value[0] == "8"):
        number = Rpps(value if system == systems.RPPS else value[1:]).value
        assert luhn_valid(number), f"the payers flag an RPPS failing Luhn: {value}"
    elif system == systems.IDNATPS:
        assert value[0] == "0", value
        Adeli(value[1:])
    elif system in (systems.FINESS, systems.IDNATST):
        number = value if system == systems.FINESS else value[1:]
        assert system == systems.FINESS or value[0] == "1", value
        assert Finess(number).key_valid, value
    elif system == systems.SIRET:
        Siret(value)
    elif system == CANON.amo_organisme:
        AmoOrganisme(value)
    elif system == CANON.amc:
        AmcNumber(value)
    elif system == CANON.eu_person:  # a CEAM/S1 holder's personal number, CC:number
        ForeignId(value)
    elif system in (CANON.ehic_card, CANON.s1_form):
        assert value.strip(), system
    else:
        pytest.fail(f"identifier system {system} is not one the conventions define")


@pytest.mark.parametrize("path", VALID_JSON, ids=_ids(VALID_JSON))
def test_valid_identifiers_pass_the_value_objects(path: Path) -> None:
    """Every NIR, RPPS/ADELI, FINESS, SIRET, organisme, AMC number and LPP code is accepted."""
    bundle = _load(path)
    checked = 0
    for resource in _resources(bundle):
        for identifier in resource.get("identifier", []):
            _check_identifier(identifier["system"], identifier["value"])
            checked += 1
            institution = identifier.get("assigner", {}).get("identifier")
            if institution is not None:  # the competent institution of a CEAM/S1
                assert institution["system"] == CANON.eu_institution
                ForeignId(institution["value"])
        if resource["resourceType"] == "Coverage" and resource["order"] == 1 and "subscriberId" in resource:
            Nir(resource["subscriberId"])  # a card holder's Coverage has none (no NIR)
            checked += 1
    claim = bundle["entry"][0]["resource"]
    for item in claim["item"]:
        coding = item["productOrService"]["coding"][0]
        if coding["system"] == systems.GTIN:  # a device off the LPP
            Gtin(coding["code"])
        else:
            assert coding["system"] == CANON.lpp
            LppCode(coding["code"])
    assert checked >= 5


@pytest.mark.parametrize("path", VALID_JSON, ids=_ids(VALID_JSON))
def test_valid_amounts_add_up(path: Path) -> None:
    """net = quantity × unitPrice for every item, total = Σ net, all in EUR with two decimals."""
    claim = _load(path)["entry"][0]["resource"]
    total = Money.zero()
    for item in claim["item"]:
        quantity = item["quantity"]["value"]
        assert isinstance(quantity, int)
        assert quantity > 0
        for money in (item["unitPrice"], item["net"]):
            assert money["currency"] == "EUR"
            assert Money.exact(money["value"]).amount == money["value"]
        assert Money.exact(item["unitPrice"]["value"]).times(quantity) == Money.exact(item["net"]["value"])
        total = total + Money.exact(item["net"]["value"])
    assert claim["total"]["currency"] == "EUR"
    assert Money.exact(claim["total"]["value"]) == total


@pytest.mark.parametrize("path", VALID_JSON, ids=_ids(VALID_JSON))
def test_valid_bundles_follow_the_conventions(path: Path) -> None:
    """Envelope, unique fullUrls, resolving references of the right types, same patient."""
    bundle = _load(path)
    assert bundle["type"] == "collection"
    assert bundle["identifier"]["system"].startswith("https://")
    assert datetime.fromisoformat(bundle["timestamp"]).tzinfo is not None
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert "request" not in entry
        if entry["fullUrl"].startswith("urn:uuid:"):
            assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", entry["fullUrl"])
        else:
            assert entry["fullUrl"] == f"{resource['resourceType']}/{resource['id']}"
    claim = bundle["entry"][0]["resource"]
    assert (claim["status"], claim["use"]) in {("active", "claim"), ("active", "predetermination")}
    patient = claim["patient"]
    assert _target(bundle, patient)["resourceType"] == "Patient"
    assert _target(bundle, claim["provider"])["resourceType"] == "Organization"
    prescription = _target(bundle, claim["prescription"])
    assert prescription["resourceType"] == "DeviceRequest"
    assert prescription["subject"] == patient
    assert _target(bundle, prescription["requester"])["resourceType"] == "Practitioner"
    insurance = claim["insurance"]
    order = [(entry["sequence"], entry["focal"]) for entry in insurance]
    assert order in ([(1, True)], [(1, True), (2, False)])
    for position, entry in enumerate(insurance, start=1):
        coverage = _target(bundle, entry["coverage"])
        assert coverage["resourceType"] == "Coverage"
        assert coverage["order"] == position
        assert coverage["beneficiary"] == patient
        assert coverage["type"]["coding"][0]["code"] == ("PUBLICPOL" if position == 1 else "EHCPOL")
        assert _target(bundle, coverage["payor"][0])["resourceType"] == "Organization"


def _delivery(item: Mapping[str, Any]) -> date:
    if "servicedDate" in item:
        return date.fromisoformat(item["servicedDate"])
    return date.fromisoformat(item["servicedPeriod"]["start"])


_OPTICS_CODES = frozenset(entry.code.value for entry in load_lpp_table() if entry.category == "optics")


@pytest.mark.parametrize("path", VALID_JSON, ids=_ids(VALID_JSON))
def test_valid_dates_are_plausible(path: Path) -> None:
    """Prescribed before delivery, delivered within 6 months (optics: within the validity by
    age, at most 5 years; one scenario expired on purpose), billed after delivery, in 2026 (or
    2025 for the billing-deadline scenarios, billed in 2026, and the optics histories)."""
    bundle = _load(path)
    claim = bundle["entry"][0]["resource"]
    prescription = _target(bundle, claim["prescription"])
    authored = date.fromisoformat(prescription["authoredOn"])
    created = datetime.fromisoformat(claim["created"]).date()
    for item in claim["item"]:
        delivered = _delivery(item)
        code = item["productOrService"]["coding"][0]["code"]
        assert authored <= delivered
        assert (delivered - authored).days <= (5 * 366 if code in _OPTICS_CODES else 183)
        late = created.year == 2026 or code in _OPTICS_CODES  # billed late, or an optics history
        assert delivered.year == 2026 or (delivered.year == 2025 and late)
        if claim["use"] == "claim":
            assert created >= delivered
        else:
            assert created <= delivered


# -- invalid inputs ------------------------------------------------------------------------


def _expected(path: Path) -> dict[str, Any]:
    expected: dict[str, Any] = _load(path.with_name(path.stem + ".expected.json"))
    return expected


@pytest.mark.parametrize("path", INVALID_INPUTS, ids=_ids(INVALID_INPUTS))
def test_invalid_input_has_an_expected_file_with_catalogue_codes(path: Path) -> None:
    """Each invalid input has an expected file: a status and issues with catalogue codes."""
    expected = _expected(path)
    assert set(expected) == {"status", "issues"}
    assert expected["issues"]
    for issue in expected["issues"]:
        assert set(issue) == {"code", "expression"}
        assert issue["code"] in CATALOGUE
        assert not CATALOGUE[issue["code"]].retired
        assert issue["expression"] is None or issue["expression"].startswith(("Bundle", "Patient"))


@pytest.mark.parametrize("path", INVALID_INPUTS, ids=_ids(INVALID_INPUTS))
def test_invalid_status_matches_its_codes(path: Path) -> None:
    """400 exactly when every expected code is a reading (parse) failure, else 422."""
    expected = _expected(path)
    codes = {issue["code"] for issue in expected["issues"]}
    assert expected["status"] == (400 if codes <= PARSE_CODES else 422)
    assert codes <= PARSE_CODES or not codes & PARSE_CODES


def _fhirpath(document: Mapping[str, Any], expression: str) -> list[Any]:
    """What an independent FHIRPath engine (fhirpathpy, on the R4 model) selects."""
    selected: list[Any] = fhirpath_evaluate(document, expression, {}, fhirpath_models["r4"])
    return selected


def _parent(expression: str) -> str:
    """The expression one step up: ``a.b[0].c.ofType(T)`` → ``a.b[0]``."""
    steps = re.findall(r"[A-Za-z]+(?:\.ofType\([A-Za-z]+\))?(?:\[\d+\])?", expression)
    return ".".join(steps[:-1])


def _document(path: Path) -> dict[str, Any] | None:
    """The input as FHIR JSON, or None when it cannot be read (its issues then have no expression)."""
    try:
        if path.suffix == ".xml":
            return parse_xml(path.read_bytes())
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    except (ValueError, InputError):
        return None


def _json_inputs() -> list[Path]:
    return [path for path in INVALID_INPUTS if path.suffix == ".json"]


UNPARSEABLE = frozenset(
    {
        "01-invalid-json.json",
        "02-invalid-xml.xml",
        "03-xxe-external-entity.xml",
        "04-billion-laughs.xml",
        "05-xml-no-namespace.xml",
    }
)
"""Inputs with no FHIR structure to point into: their issues carry no expression."""
OUTSIDE_THE_MODEL = frozenset(
    {
        "07-resource-type-unknown.json",  # a resource of a type R4 does not have
        "09-element-unknown.json",  # an element R4 does not define
        "42-empty-array.json",  # "name": [], which FHIRPath reads as no name at all
    }
)
"""Inputs whose expression names what FHIRPath on the R4 model cannot select: only its parent."""


@pytest.mark.parametrize("path", INVALID_INPUTS, ids=_ids(INVALID_INPUTS))
def test_invalid_expressions_select_their_element_in_the_input(path: Path) -> None:
    """Every expression, evaluated by fhirpathpy against the input, selects the element at fault;
    for an absent element (ABSENT_CODES), it selects nothing and its parent selects something.
    Exceptions: UNPARSEABLE inputs (no expression), OUTSIDE_THE_MODEL ones (the parent only).
    No expression uses a choice element's JSON name (``servicedPeriod``)."""
    document = _document(path)
    expected = _expected(path)["issues"]
    if path.name in UNPARSEABLE:
        assert document is None or path.name == "05-xml-no-namespace.xml"
        assert [issue["expression"] for issue in expected] == [None] * len(expected)
        return
    assert document is not None
    for issue in expected:
        expression = issue["expression"]
        assert expression is not None
        assert not re.search(
            r"\.(serviced|occurrence|value|code)(Period|Date|CodeableConcept|Reference)\b", expression
        )
        if issue["code"] in ABSENT_CODES:
            assert _fhirpath(document, expression) == [], expression
            assert _fhirpath(document, _parent(expression)), expression
        elif path.name in OUTSIDE_THE_MODEL:
            assert _fhirpath(document, _parent(expression)), expression
        else:
            assert _fhirpath(document, expression), expression


LAX_IN_FHIR_RESOURCES = frozenset({"41-date-as-number.json", "42-empty-array.json"})
"""400 inputs that fhir.resources reads all the same: a number as a date, an empty array."""


@pytest.mark.parametrize("path", _json_inputs(), ids=_ids(_json_inputs()))
def test_invalid_json_fails_or_passes_fhir_parsing_as_its_status_says(path: Path) -> None:
    """422 inputs are well-formed FHIR for fhir.resources; 400 element-* inputs are not, except
    the FHIR JSON rules its lax mode does not apply (the adapter's walk does)."""
    expected = _expected(path)
    codes = {issue["code"] for issue in expected["issues"]}
    if expected["status"] == 422 or path.name in LAX_IN_FHIR_RESOURCES:
        assert Bundle.model_validate_json(path.read_bytes()).get_resource_type() == "Bundle"
    elif codes <= {"element-required", "element-unknown", "element-invalid"}:
        with pytest.raises(ValidationError):
            Bundle.model_validate_json(path.read_bytes())


@pytest.mark.parametrize(
    "case", build_fixtures.INVALID_CASES, ids=[c.name for c in build_fixtures.INVALID_CASES]
)
def test_invalid_case_is_based_on_a_valid_scenario(case: build_fixtures.InvalidCase) -> None:
    """Every invalid input names a shipped valid scenario and differs from its rendering."""
    assert (FIXTURES / "valid" / f"{case.base}.json").exists()
    base = _rendered()[f"valid/{case.base}.{case.suffix}"]
    assert case.make(bundles.SCENARIOS[case.base]) != base
