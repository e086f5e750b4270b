"""Regenerate every file under ``fixtures/`` from ``tests.support.bundles``, deterministically.

Run ``python -m tests.build_fixtures`` from the repository root to rewrite the files, or
``python -m tests.build_fixtures --check`` to list what differs without writing (exit 1).
``tests/test_fixtures_consistency.py`` fails when the files on disk are not what this
module renders, so the fixtures cannot drift from their definitions.

Each invalid input is one valid scenario with exactly one defect, so its expected issue list
is exact; the reporting rules that make it exact are written in ``fixtures/README.md``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from lxml import etree

from mappings.fhir import jsonio
from tests.support import bundles as fb
from tests.support import eligibility as fe
from tests.support.identifiers import finess, nir

__all__ = [
    "ASSUMED_TARIFFS",
    "EXPECTED_SUFFIX",
    "FHIR_NS",
    "FIXTURES",
    "INVALID_CASES",
    "WORKED_EXAMPLES",
    "XML_TWINS",
    "InvalidCase",
    "WorkedExample",
    "check",
    "dumps_json",
    "dumps_xml",
    "main",
    "meta",
    "readme",
    "render_all",
    "write",
]

FIXTURES: Final = Path(__file__).resolve().parent.parent / "fixtures"
FHIR_NS: Final = "http://hl7.org/fhir"
XHTML_NS: Final = "http://www.w3.org/1999/xhtml"

XML_TWINS: Final = frozenset(
    {"01-purchase-standard", "02-rental-bed", "09-telemonitoring", "13-idnat-identifiers"}
)
"""Valid scenarios also written as FHIR XML."""

EXPECTED_SUFFIX: Final = ".expected.meta.json"
"""Suffix of a worked example's expected amounts beside its Bundle in ``valid/``.

The ``.meta.json`` ending keeps it out of every reader of ``valid/`` that takes the other
``.json`` files there for Bundles."""


# -- rendering ---------------------------------------------------------------------------


def dumps_json(value: object) -> bytes:
    """Pretty JSON (2-space indent, UTF-8) where a Decimal keeps its scale: 150.00 stays 150.00.

    ``json.dumps`` can only write floats, which would turn the amounts into 150.0.
    """
    return jsonio.dumps(value, indent=2) + b"\n"


def _xml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"no FHIR XML form for {type(value).__name__}")


def _xml_resource(resource: Mapping[str, Any], parent: etree._Element | None) -> etree._Element:
    tag = f"{{{FHIR_NS}}}{resource['resourceType']}"
    if parent is not None:
        element = etree.SubElement(parent, tag)
    else:  # the root declares FHIR as the default namespace (lxml-stubs refuse the None key)
        element = etree.Element(tag, nsmap={None: FHIR_NS})  # type: ignore[dict-item]
    for name, value in resource.items():
        if name != "resourceType":
            _xml_element(element, name, value)
    return element


def _xml_element(parent: etree._Element, name: str, value: object) -> None:
    if isinstance(value, list):
        for item in value:
            _xml_element(parent, name, item)
        return
    element = etree.SubElement(parent, f"{{{FHIR_NS}}}{name}")
    if isinstance(value, Mapping):
        if "resourceType" in value:
            _xml_resource(value, element)
            return
        for key, item in value.items():
            if key == "url" and name in ("extension", "modifierExtension"):
                element.set("url", str(item))
            else:
                _xml_element(element, key, item)
    else:
        element.set("value", _xml_value(value))


def dumps_xml(resource: Mapping[str, Any]) -> bytes:
    """FHIR XML of a JSON-shaped resource whose keys are already in FHIR element order.

    Hand-written rather than ``model_dump_xml`` because that one rewrites 150.00 as 150.0 and
    the integer quantity 4 as 4.0; the consistency test checks the element order against it.
    """
    root = _xml_resource(resource, None)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


# -- invalid inputs ----------------------------------------------------------------------

Issues = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class InvalidCase:
    """One valid scenario with one defect, and every error the validator must report for it."""

    name: str
    base: str
    defect: str
    status: int
    issues: Issues
    make: Callable[[fb.Case], bytes]
    suffix: str = "json"

    @property
    def expected(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "issues": [{"code": code, "expression": path} for code, path in self.issues],
        }


Mutation = Callable[[dict[str, Any], fb.Case], None]


def _json_defect(mutate: Mutation) -> Callable[[fb.Case], bytes]:
    def make(case: fb.Case) -> bytes:
        bundle = fb.build_bundle(case)
        mutate(bundle, case)
        return dumps_json(bundle)

    return make


def _res(bundle: dict[str, Any], case: fb.Case, role: str) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][fb.entry_index(case, role)]["resource"]
    return resource


def _claim(bundle: dict[str, Any]) -> dict[str, Any]:
    claim: dict[str, Any] = bundle["entry"][0]["resource"]
    return claim


def _at(case: fb.Case, role: str, path: str = "") -> str:
    return f"Bundle.entry[{fb.entry_index(case, role)}].resource{path}"


_CLAIM = "Bundle.entry[0].resource"
_ITEM0 = f"{_CLAIM}.item[0]"


def _truncated_json(case: fb.Case) -> bytes:
    text = dumps_json(fb.build_bundle(case)).decode("utf-8")
    return text[: text.rindex("  ]")].encode("utf-8")


def _xml_text(case: fb.Case) -> str:
    return dumps_xml(fb.build_bundle(case)).decode("utf-8")


def _xml_declaration_split(text: str) -> tuple[str, str]:
    head, _, body = text.partition("\n")
    return head + "\n", body


def _truncated_xml(case: fb.Case) -> bytes:
    text = _xml_text(case)
    return text[: text.rindex("</Bundle>")].encode("utf-8")


def _xxe(case: fb.Case) -> bytes:
    head, body = _xml_declaration_split(_xml_text(case))
    doctype = '<!DOCTYPE Bundle [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
    narrative = (
        "<Patient>\n"
        "          <text>\n"
        '            <status value="generated"/>\n'
        f'            <div xmlns="{XHTML_NS}">&xxe;</div>\n'
        "          </text>\n"
    )
    body = body.replace("<Patient>\n", narrative, 1)
    return (head + doctype + body).encode("utf-8")


def _billion_laughs(case: fb.Case) -> bytes:
    head, body = _xml_declaration_split(_xml_text(case))
    lines = ["<!DOCTYPE Bundle [", '  <!ENTITY lol0 "lol">']
    for level in range(1, 10):
        lines.append(f'  <!ENTITY lol{level} "' + f"&lol{level - 1};" * 10 + '">')
    doctype = "\n".join([*lines, "]>", ""])
    family = f'<family value="{case.patient.family}"/>'
    body = body.replace(family, '<family value="&lol9;"/>', 1)
    return (head + doctype + body).encode("utf-8")


def _no_namespace(case: fb.Case) -> bytes:
    return _xml_text(case).replace(f'<Bundle xmlns="{FHIR_NS}">', "<Bundle>", 1).encode("utf-8")


def _patient_alone(case: fb.Case) -> bytes:
    return dumps_json(fb.build_resource(case, "patient"))


def _set_resource_type(value: str | None) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        resource = _res(bundle, case, "prescriber")
        del resource["resourceType"]
        if value is not None:
            bundle["entry"][fb.entry_index(case, "prescriber")]["resource"] = {
                "resourceType": value,
                **resource,
            }

    return mutate


def _set_claim(key: str, value: object) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        _claim(bundle)[key] = value

    return mutate


def _drop_claim(key: str) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        del _claim(bundle)[key]

    return mutate


def _set_bundle(key: str, value: object) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        bundle[key] = value

    return mutate


def _drop_bundle(key: str) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        del bundle[key]

    return mutate


def _identifier(role: str, change: Callable[[str], str]) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        identifier = _res(bundle, case, role)["identifier"][0]
        identifier["value"] = change(identifier["value"])

    return mutate


def _swap_claim_and_patient(bundle: dict[str, Any], case: fb.Case) -> None:
    entries = bundle["entry"]
    entries[0], entries[1] = entries[1], entries[0]


def _duplicate_patient_entry(bundle: dict[str, Any], case: fb.Case) -> None:
    bundle["entry"].append(copy.deepcopy(bundle["entry"][fb.entry_index(case, "patient")]))


def _entry_request(bundle: dict[str, Any], case: fb.Case) -> None:
    bundle["entry"][fb.entry_index(case, "patient")]["request"] = {
        "method": "POST",
        "url": "Patient",
    }


def _second_claim(bundle: dict[str, Any], case: fb.Case) -> None:
    claim = copy.deepcopy(bundle["entry"][0]["resource"])
    full_url = f"urn:uuid:{fb.case_uuid(case.name, 'second-claim')}"
    bundle["entry"].append({"fullUrl": full_url, "resource": claim})


def _dangling_prescription(bundle: dict[str, Any], case: fb.Case) -> None:
    _claim(bundle)["prescription"] = {
        "reference": f"urn:uuid:{fb.case_uuid(case.name, 'absent-prescription')}"
    }


def _patient_is_practitioner(bundle: dict[str, Any], case: fb.Case) -> None:
    _claim(bundle)["patient"] = fb.reference(case, "prescriber")


def _wrong_nir_key(value: str) -> str:
    key = int(value[13:])
    return f"{value[:13]}{key % 97 + 1:02d}"


def _wrong_last_digit(value: str) -> str:
    return value[:-1] + str((int(value[-1]) + 1) % 10)


def _first_item(bundle: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = _claim(bundle)["item"][0]
    return item


def _bad_lpp_code(bundle: dict[str, Any], case: fb.Case) -> None:
    coding = _first_item(bundle)["productOrService"]["coding"][0]
    coding["code"] = coding["code"][:6]


def _bad_gtin(bundle: dict[str, Any], case: fb.Case) -> None:
    coding = _first_item(bundle)["productOrService"]["coding"][0]
    coding["code"] = coding["code"][:-1] + str((int(coding["code"][-1]) + 1) % 10)


def _net_and_total(value: str) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        _first_item(bundle)["net"] = fb.money(Decimal(value))
        _claim(bundle)["total"] = fb.money(Decimal(value))

    return mutate


def _all_usd(bundle: dict[str, Any], case: fb.Case) -> None:
    item = _first_item(bundle)
    for money in (item["unitPrice"], item["net"], _claim(bundle)["total"]):
        money["currency"] = "USD"


def _quantity_zero(bundle: dict[str, Any], case: fb.Case) -> None:
    _first_item(bundle)["quantity"] = {"value": 0}
    _net_and_total("0.00")(bundle, case)


def _amo_not_focal(bundle: dict[str, Any], case: fb.Case) -> None:
    _claim(bundle)["insurance"][0]["focal"] = False


def _no_prescription(bundle: dict[str, Any], case: fb.Case) -> None:
    del _claim(bundle)["prescription"]
    del bundle["entry"][fb.entry_index(case, "prescription")]


def _prescription_for_other_patient(bundle: dict[str, Any], case: fb.Case) -> None:
    full_url = f"urn:uuid:{fb.case_uuid(case.name, 'other-patient')}"
    bundle["entry"].append({"fullUrl": full_url, "resource": fb.patient_resource(fb.OTHER_PATIENT)})
    _res(bundle, case, "prescription")["subject"] = {"reference": full_url}


def _duplicate_item_sequence(bundle: dict[str, Any], case: fb.Case) -> None:
    _claim(bundle)["item"][1]["sequence"] = 1


def _reversed_rental_period(bundle: dict[str, Any], case: fb.Case) -> None:
    period = _first_item(bundle)["servicedPeriod"]
    period["start"], period["end"] = period["end"], period["start"]


def _invalid_cases() -> Iterator[InvalidCase]:
    base = "01-purchase-standard"
    case = fb.SCENARIOS[base]
    prescriber_id = _at(case, "prescriber", ".identifier[0].value")
    yield InvalidCase(
        name="01-invalid-json",
        base=base,
        defect="The JSON stops after the last entry (unterminated array and object).",
        status=400,
        issues=(("invalid-json", None),),
        make=_truncated_json,
    )
    yield InvalidCase(
        name="02-invalid-xml",
        base=base,
        defect="The XML lacks its closing `</Bundle>` tag.",
        status=400,
        issues=(("invalid-xml", None),),
        make=_truncated_xml,
        suffix="xml",
    )
    yield InvalidCase(
        name="03-xxe-external-entity",
        base=base,
        defect=(
            "A DOCTYPE declares an external entity (`file:///etc/passwd`) used in the Patient "
            "narrative; the document is otherwise well formed."
        ),
        status=400,
        issues=(("xml-forbidden", None),),
        make=_xxe,
        suffix="xml",
    )
    yield InvalidCase(
        name="04-billion-laughs",
        base=base,
        defect="Nested internal entities (10^9 expansions) used in Patient.name.family.",
        status=400,
        issues=(("xml-forbidden", None),),
        make=_billion_laughs,
        suffix="xml",
    )
    yield InvalidCase(
        name="05-xml-no-namespace",
        base=base,
        defect="The root `<Bundle>` has no xmlns, so no element is in the FHIR namespace.",
        status=400,
        issues=(("xml-namespace", None),),
        make=_no_namespace,
        suffix="xml",
    )
    yield InvalidCase(
        name="06-root-is-patient",
        base=base,
        defect="The body is the Patient resource alone instead of a Bundle.",
        status=400,
        issues=(("resource-type-wrong", "Patient"),),
        make=_patient_alone,
    )
    yield InvalidCase(
        name="07-resource-type-unknown",
        base=base,
        defect='The prescriber entry says resourceType "Prescriber", which FHIR R4 lacks.',
        status=400,
        issues=(("resource-type-unknown", _at(case, "prescriber")),),
        make=_json_defect(_set_resource_type("Prescriber")),
    )
    yield InvalidCase(
        name="08-resource-type-missing",
        base=base,
        defect="The prescriber entry's resource has no resourceType.",
        status=400,
        issues=(("resource-type-missing", _at(case, "prescriber")),),
        make=_json_defect(_set_resource_type(None)),
    )
    yield InvalidCase(
        name="09-element-unknown",
        base=base,
        defect='The Claim carries an element "foo" that FHIR does not define.',
        status=400,
        issues=(("element-unknown", f"{_CLAIM}.foo"),),
        make=_json_defect(_set_claim("foo", "bar")),
    )

    def french_birth_date(bundle: dict[str, Any], case: fb.Case) -> None:
        _res(bundle, case, "patient")["birthDate"] = "14/03/1958"

    yield InvalidCase(
        name="10-element-invalid",
        base=base,
        defect='Patient.birthDate is written "14/03/1958" (not a FHIR date).',
        status=400,
        issues=(("element-invalid", _at(case, "patient", ".birthDate")),),
        make=_json_defect(french_birth_date),
    )
    yield InvalidCase(
        name="11-element-required",
        base=base,
        defect="The Claim has no status (1..1 in R4).",
        status=400,
        issues=(("element-required", f"{_CLAIM}.status"),),
        make=_json_defect(_drop_claim("status")),
    )
    yield InvalidCase(
        name="12-bundle-type-transaction",
        base=base,
        defect='Bundle.type is "transaction" instead of "collection".',
        status=422,
        issues=(("bundle-type", "Bundle.type"),),
        make=_json_defect(_set_bundle("type", "transaction")),
    )
    yield InvalidCase(
        name="13-claim-not-first",
        base=base,
        defect="The Patient is entry 0 and the Claim entry 1.",
        status=422,
        issues=(("claim-not-first", "Bundle.entry[0]"),),
        make=_json_defect(_swap_claim_and_patient),
    )
    yield InvalidCase(
        name="14-bundle-empty",
        base=base,
        defect="The Bundle has no entry at all.",
        status=422,
        issues=(("bundle-empty", "Bundle.entry"),),
        make=_json_defect(_drop_bundle("entry")),
    )
    yield InvalidCase(
        name="15-bundle-identifier-missing",
        base=base,
        defect="Bundle.identifier (the idempotency key) is absent.",
        status=422,
        issues=(("bundle-identifier-missing", "Bundle.identifier"),),
        make=_json_defect(_drop_bundle("identifier")),
    )
    yield InvalidCase(
        name="16-bundle-timestamp-missing",
        base=base,
        defect="Bundle.timestamp is absent.",
        status=422,
        issues=(("bundle-timestamp-missing", "Bundle.timestamp"),),
        make=_json_defect(_drop_bundle("timestamp")),
    )
    extra = len(fb.roles(case))
    yield InvalidCase(
        name="17-fullurl-duplicate",
        base=base,
        defect=(f"A copy of the Patient entry is appended as entry {extra}, repeating its fullUrl."),
        status=422,
        issues=(("fullurl-duplicate", f"Bundle.entry[{extra}].fullUrl"),),
        make=_json_defect(_duplicate_patient_entry),
    )
    yield InvalidCase(
        name="18-entry-request-forbidden",
        base=base,
        defect="The Patient entry carries request {POST Patient} inside a collection.",
        status=422,
        issues=(("entry-request-forbidden", "Bundle.entry[1].request"),),
        make=_json_defect(_entry_request),
    )
    yield InvalidCase(
        name="19-claim-multiple",
        base=base,
        defect=f"A second copy of the Claim (new fullUrl) is appended as entry {extra}.",
        status=422,
        issues=(("claim-multiple", f"Bundle.entry[{extra}]"),),
        make=_json_defect(_second_claim),
    )
    yield InvalidCase(
        name="20-reference-unresolved",
        base=base,
        defect="Claim.prescription points to a urn:uuid that no entry has.",
        status=422,
        issues=(("reference-unresolved", f"{_CLAIM}.prescription.reference"),),
        make=_json_defect(_dangling_prescription),
    )
    yield InvalidCase(
        name="21-reference-target-type",
        base=base,
        defect="Claim.patient points to the Practitioner entry.",
        status=422,
        issues=(("reference-target-type", f"{_CLAIM}.patient.reference"),),
        make=_json_defect(_patient_is_practitioner),
    )
    yield InvalidCase(
        name="22-claim-status-cancelled",
        base=base,
        defect='Claim.status is "cancelled".',
        status=422,
        issues=(("claim-status", f"{_CLAIM}.status"),),
        make=_json_defect(_set_claim("status", "cancelled")),
    )
    yield InvalidCase(
        name="23-claim-use-invalid",
        base=base,
        defect='Claim.use is "bill", which the claim-use value set lacks.',
        status=422,
        issues=(("code-invalid", f"{_CLAIM}.use"),),
        make=_json_defect(_set_claim("use", "bill")),
    )
    nir_path = _at(case, "patient", ".identifier[0].value")
    yield InvalidCase(
        name="24-nir-key",
        base=base,
        defect="The patient's NIR has a wrong key (the last two digits).",
        status=422,
        issues=(("nir-key", nir_path),),
        make=_json_defect(_identifier("patient", _wrong_nir_key)),
    )
    yield InvalidCase(
        name="25-nir-format",
        base=base,
        defect="The patient's NIR has 13 characters (the key is missing).",
        status=422,
        issues=(("nir-format", nir_path),),
        make=_json_defect(_identifier("patient", lambda value: value[:13])),
    )
    yield InvalidCase(
        name="26-rpps-format",
        base=base,
        defect="The prescriber's RPPS has 10 digits instead of 11.",
        status=422,
        issues=(("rpps-format", prescriber_id),),
        make=_json_defect(_identifier("prescriber", lambda value: value[:10])),
    )
    hospital = fb.SCENARIOS["04-ald"]
    yield InvalidCase(
        name="27-finess-format",
        base=hospital.name,
        defect="The hospital's FINESS has 8 characters instead of 9.",
        status=422,
        issues=(("finess-format", _at(hospital, "provider", ".identifier[0].value")),),
        make=_json_defect(_identifier("provider", lambda value: value[:8])),
    )
    yield InvalidCase(
        name="28-siret-key",
        base=base,
        defect="The supplier's SIRET has a wrong last digit (Luhn fails).",
        status=422,
        issues=(("siret-format", _at(case, "provider", ".identifier[0].value")),),
        make=_json_defect(_identifier("provider", _wrong_last_digit)),
    )
    yield InvalidCase(
        name="29-lpp-code-format",
        base=base,
        defect="The item's LPP code has 6 characters.",
        status=422,
        issues=(("lpp-code-format", f"{_ITEM0}.productOrService.coding[0].code"),),
        make=_json_defect(_bad_lpp_code),
    )
    yield InvalidCase(
        name="30-net-mismatch",
        base=base,
        defect="item.net is 140.00 for 1 × 150.00 (Claim.total follows: 140.00).",
        status=422,
        issues=(("net-mismatch", f"{_ITEM0}.net"),),
        make=_json_defect(_net_and_total("140.00")),
    )
    yield InvalidCase(
        name="31-total-mismatch",
        base=base,
        defect="Claim.total is 200.00 while the only item's net is 150.00.",
        status=422,
        issues=(("total-mismatch", f"{_CLAIM}.total"),),
        make=_json_defect(_set_claim("total", fb.money(Decimal("200.00")))),
    )
    yield InvalidCase(
        name="32-currency-usd",
        base=base,
        defect="unitPrice, net and total are all in USD (amounts unchanged).",
        status=422,
        issues=(
            ("currency", f"{_ITEM0}.unitPrice.currency"),
            ("currency", f"{_ITEM0}.net.currency"),
            ("currency", f"{_CLAIM}.total.currency"),
        ),
        make=_json_defect(_all_usd),
    )
    yield InvalidCase(
        name="33-item-quantity-zero",
        base=base,
        defect="item.quantity.value is 0 (net and total 0.00, so the amounts agree).",
        status=422,
        issues=(("item-quantity", f"{_ITEM0}.quantity.value"),),
        make=_json_defect(_quantity_zero),
    )
    yield InvalidCase(
        name="34-insurance-amo-not-focal",
        base=base,
        defect="Claim.insurance[0] (the AMO coverage, sequence 1) has focal false.",
        status=422,
        issues=(("insurance-order", f"{_CLAIM}.insurance[0].focal"),),
        make=_json_defect(_amo_not_focal),
    )
    yield InvalidCase(
        name="35-prescription-missing",
        base=base,
        defect="The Claim has no prescription and the DeviceRequest entry is left out.",
        status=422,
        issues=(("prescription-missing", f"{_CLAIM}.prescription"),),
        make=_json_defect(_no_prescription),
    )
    yield InvalidCase(
        name="36-prescription-patient",
        base=base,
        defect=(
            f"A second Patient is appended as entry {extra} and the DeviceRequest's subject points to it."
        ),
        status=422,
        issues=(("prescription-patient", _at(case, "prescription", ".subject")),),
        make=_json_defect(_prescription_for_other_patient),
    )
    idnat = fb.SCENARIOS["13-idnat-identifiers"]
    yield InvalidCase(
        name="37-idnat-prefix",
        base=idnat.name,
        defect=(
            'The prescriber\'s idNatPs starts with "3" (a FINESS: an establishment) instead of '
            '"8" (RPPS) or "0" (ADELI).'
        ),
        status=422,
        issues=(("idnat-prefix", _at(idnat, "prescriber", ".identifier[0].value")),),
        make=_json_defect(_identifier("prescriber", lambda _: "3" + finess("75010002"))),
    )
    yield InvalidCase(
        name="38-amo-organisme-format",
        base=base,
        defect="The AMO organisme number has 8 digits instead of 9.",
        status=422,
        issues=(("amo-organisme-format", _at(case, "amo", ".identifier[0].value")),),
        make=_json_defect(_identifier("amo", lambda value: value[:8])),
    )
    yield InvalidCase(
        name="39-item-sequence-duplicate",
        base="03-two-lines",
        defect="Both items have sequence 1.",
        status=422,
        issues=(("item-sequence", f"{_CLAIM}.item[1].sequence"),),
        make=_json_defect(_duplicate_item_sequence),
    )
    yield InvalidCase(
        name="40-period-invalid",
        base="02-rental-bed",
        defect="The rental's servicedPeriod ends (2026-03-02) before it starts (2026-03-29).",
        status=422,
        issues=(("period-invalid", f"{_ITEM0}.serviced.ofType(Period).end"),),
        make=_json_defect(_reversed_rental_period),
    )

    yield InvalidCase(
        name="41-date-as-number",
        base=base,
        defect="Bundle.timestamp is the JSON number 1772440200 (a Unix time), not a FHIR instant string.",
        status=400,
        issues=(("element-invalid", "Bundle.timestamp"),),
        make=_json_defect(_timestamp_as_number),
    )
    yield InvalidCase(
        name="42-empty-array",
        base=base,
        defect="Patient.name is an empty array (FHIR JSON never has one).",
        status=400,
        issues=(("element-invalid", _at(case, "patient", ".name")),),
        make=_json_defect(_empty_patient_name),
    )
    yield InvalidCase(
        name="43-logical-reference",
        base=base,
        defect="Claim.provider names the supplier by identifier only, not by a reference to its entry.",
        status=422,
        issues=(("reference-unresolved", f"{_CLAIM}.provider"),),
        make=_json_defect(_provider_by_identifier),
    )
    yield InvalidCase(
        name="44-prescription-device-missing",
        base=base,
        defect="The DeviceRequest's only coding is from another code system and it has no text.",
        status=422,
        issues=(("prescription-device-missing", _at(case, "prescription", ".code.ofType(CodeableConcept)")),),
        make=_json_defect(_prescription_without_device),
    )
    yield InvalidCase(
        name="60-gtin-check-digit",
        base="42-non-listed-forfait",
        defect="The GTIN of a device off the LPP has a wrong check digit.",
        status=422,
        issues=(("gtin-format", f"{_ITEM0}.productOrService.coding[0].code"),),
        make=_json_defect(_bad_gtin),
    )

    nia = fb.SCENARIOS["50-ins-nia-patient"]
    yield InvalidCase(
        name="55-ins-nia-key",
        base=nia.name,
        defect="The patient's INS-NIA has a wrong key: it is checked as a NIR's (97 − number mod 97).",
        status=422,
        issues=(("nir-key", _at(nia, "patient", ".identifier[0].value")),),
        make=_json_defect(_identifier("patient", _wrong_nir_key)),
    )

    ehic = fb.SCENARIOS["51-ehic-visitor"]
    yield InvalidCase(
        name="56-no-nir-nor-card",
        base=ehic.name,
        defect=(
            "The card holder's personal number is under an unknown system: the Patient has neither "
            "NIR, INS-NIA nor CEAM/S1 personal number."
        ),
        status=422,
        issues=(("nir-missing", _at(ehic, "patient", ".identifier")),),
        make=_json_defect(_patient_system("https://example.org/passport")),
    )
    yield InvalidCase(
        name="57-ehic-no-expiry",
        base=ehic.name,
        defect=(
            "The CEAM on the AMO Coverage states when it was issued but not its expiry date (card field 9)."
        ),
        status=422,
        issues=(("coverage-card", _at(ehic, "amo-coverage", ".identifier[0].period.end")),),
        make=_json_defect(_drop_card_expiry),
    )
    yield InvalidCase(
        name="58-ehic-institution",
        base=ehic.name,
        defect="The competent institution is not written CC:number (no country code).",
        status=422,
        issues=(
            ("foreign-id-format", _at(ehic, "amo-coverage", ".identifier[0].assigner.identifier.value")),
        ),
        make=_json_defect(_card_institution("101575519")),
    )
    yield InvalidCase(
        name="59-card-holder-without-card",
        base=ehic.name,
        defect="The patient is identified by a CEAM personal number but the AMO Coverage carries no card.",
        status=422,
        issues=(("coverage-card", _at(ehic, "amo-coverage", ".identifier")),),
        make=_json_defect(_drop_card),
    )


def _patient_system(system: str) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        _res(bundle, case, "patient")["identifier"][0]["system"] = system

    return mutate


def _drop_card_expiry(bundle: dict[str, Any], case: fb.Case) -> None:
    _res(bundle, case, "amo-coverage")["identifier"][0]["period"] = {"start": "2024-01-01"}


def _card_institution(value: str) -> Mutation:
    def mutate(bundle: dict[str, Any], case: fb.Case) -> None:
        _res(bundle, case, "amo-coverage")["identifier"][0]["assigner"]["identifier"]["value"] = value

    return mutate


def _drop_card(bundle: dict[str, Any], case: fb.Case) -> None:
    del _res(bundle, case, "amo-coverage")["identifier"]


def _timestamp_as_number(bundle: dict[str, Any], case: fb.Case) -> None:
    bundle["timestamp"] = 1772440200


def _empty_patient_name(bundle: dict[str, Any], case: fb.Case) -> None:
    _res(bundle, case, "patient")["name"] = []


def _provider_by_identifier(bundle: dict[str, Any], case: fb.Case) -> None:
    claim = _claim(bundle)
    claim["provider"] = {"identifier": copy.deepcopy(_res(bundle, case, "provider")["identifier"][0])}


def _prescription_without_device(bundle: dict[str, Any], case: fb.Case) -> None:
    _res(bundle, case, "prescription")["codeCodeableConcept"] = {
        "coding": [{"system": "https://codes.example/devices", "code": "D-1"}]
    }


INVALID_CASES: Final[tuple[InvalidCase, ...]] = tuple(_invalid_cases())


# -- worked examples ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkedExample:
    """A row of domain-fr.md §3.4, copied from the document: the oracle, never computed here.

    Amounts are the document's, as text with two decimals; ``rate`` is the AMO taux in
    percent. ``amc`` and ``rac`` are None when the example has no mutuelle.
    """

    example: str
    situation: str
    price: str
    br: str
    rate: str
    amo: str
    tm: str
    depassement: str
    amc: str | None
    rac: str | None

    @property
    def expected(self) -> dict[str, Any]:
        """The ``.expected.meta.json`` document: AMO totals, taux, and the AMC's share."""
        amc = None if self.amc is None else {"benefit": self.amc, "reste-a-charge": self.rac}
        return {
            "example": self.example,
            "amo": {
                "submitted": self.price,
                "eligible": self.br,
                "rate": self.rate,
                "benefit": self.amo,
                "ticket-moderateur": self.tm,
                "depassement": self.depassement,
            },
            "amc": amc,
        }


def _worked(
    example: str,
    situation: str,
    price: str,
    br: str,
    rate: str,
    amo: str,
    tm: str,
    depassement: str,
    amc: str | None,
    rac: str | None,
) -> WorkedExample:
    """Positional, so that the table below reads in the columns of the document's table."""
    return WorkedExample(
        example=example,
        situation=situation,
        price=price,
        br=br,
        rate=rate,
        amo=amo,
        tm=tm,
        depassement=depassement,
        amc=amc,
        rac=rac,
    )


WORKED_EXAMPLES: Final[Mapping[str, WorkedExample]] = {
    # fixture: example, situation, price, BR, taux, AMO, TM, dépassement, AMC, reste à charge
    "01-purchase-standard": _worked(
        "3.4 #1", "LPP device, standard; 150 % BR incl. AMO",
        "150.00", "100.00", "60", "60.00", "40.00", "50.00", "90.00", "0.00",
    ),
    "16-minimal-contract": _worked(
        "3.4 #2", "same, minimal contract; 100 % BR incl. AMO",
        "150.00", "100.00", "60", "60.00", "40.00", "50.00", "40.00", "50.00",
    ),
    "17-excl-amo-wording": _worked(
        "3.4 #3", "same, \"excl. AMO\" wording; 125 % BR excl. AMO",
        "150.00", "100.00", "60", "60.00", "40.00", "50.00", "90.00", "0.00",
    ),
    "04-ald": _worked(
        "3.4 #4", "ALD patient (exonération 4, 100 %); 150 % BR incl. AMO",
        "150.00", "100.00", "100", "100.00", "0.00", "50.00", "50.00", "0.00",
    ),
    "06-alsace-moselle": _worked(
        "3.4 #5", "Alsace-Moselle (taux 90 %, assumed); 100 % BR incl. AMO",
        "150.00", "100.00", "90", "90.00", "10.00", "50.00", "10.00", "50.00",
    ),
    "19-forfait-partly-used": _worked(
        "3.4 #6", "annual forfait, partly used (70 € already used); TM + 100 €/yr",
        "150.00", "100.00", "60", "60.00", "40.00", "50.00", "70.00", "20.00",
    ),
    "02-rental-bed": _worked(
        "3.4 #7", "bed rental, 4 weeks (code 1241763); contrat responsable",
        "49.40", "49.40", "60", "29.64", "19.76", "0.00", "19.76", "0.00",
    ),
    "10-hearing-aid-classe-1": _worked(
        "3.4 #8", "hearing aid classe I, adult, 1 ear; 100 % Santé",
        "950.00", "400.00", "60", "240.00", "160.00", "550.00", "710.00", "0.00",
    ),
    "11-hearing-aid-classe-2": _worked(
        "3.4 #9", "hearing aid classe II, 1 ear; 100 % BR incl. + 500 €",
        "1500.00", "400.00", "60", "240.00", "160.00", "1100.00", "660.00", "600.00",
    ),
    "09-telemonitoring": _worked(
        "3.4 #10", "heart-failure telemonitoring, 1 month (28 + 50); contrat responsable",
        "78.00", "78.00", "60", "46.80", "31.20", "0.00", "31.20", "0.00",
    ),
    "20-telemonitoring-ald": _worked(
        "3.4 #10b", "same, patient in ALD",
        "78.00", "78.00", "100", "78.00", "0.00", "0.00", "0.00", "0.00",
    ),
    "21-hospital-rounding": _worked(
        "3.4 hospital rounding check", "hospital LPP, PU 1,234.56 × 2, taux 60 %; C2S pays the MRC",
        "2469.12", "2469.12", "60", "1481.47", "987.65", "0.00", "987.65", "0.00",
    ),
    "22-hearing-aid-left-ear": _worked(
        "3.4 #11", "hearing aid classe I, left ear named; 100 % Santé",
        "950.00", "400.00", "60", "240.00", "160.00", "550.00", "710.00", "0.00",
    ),
    "23-hearing-aids-both-ears": _worked(
        "3.4 #12", "hearing aids classe I, one per ear; 100 % Santé",
        "1900.00", "800.00", "60", "480.00", "320.00", "1100.00", "1420.00", "0.00",
    ),
    "26-supplier-two-year-deadline": _worked(
        "3.4 #13", "supplier billing 18 months after the care; 100 % BR incl. AMO",
        "150.00", "100.00", "60", "60.00", "40.00", "50.00", "40.00", "50.00",
    ),
    "29-css-hearing-aid": _worked(
        "3.4 #14", "CSS, hearing aid classe I at the PLV; CSS up to the PLV",
        "950.00", "400.00", "60", "240.00", "160.00", "550.00", "710.00", "0.00",
    ),
    "30-css-price-above-tariff": _worked(
        "3.4 #15", "CSS, code without PLV billed above the tariff; CSS up to the tariff",
        "150.00", "100.00", "60", "60.00", "40.00", "50.00", "40.00", "50.00",
    ),
    "31-ame": _worked(
        "3.4 #16", "AME, 100 % of the tariff, no AMC",
        "150.00", "100.00", "100", "100.00", "0.00", "50.00", None, None,
    ),
    "32-at-mp-above-tariff": _worked(
        "3.4 #17", "AT/MP, 150 % of the tariff within the price; 100 % BR incl. AMO",
        "120.00", "100.00", "150", "120.00", "0.00", "20.00", "0.00", "0.00",
    ),
    "33-at-mp-above-ceiling": _worked(
        "3.4 #18", "AT/MP, price above 150 % of the tariff; 100 % BR incl. AMO",
        "180.00", "100.00", "150", "150.00", "0.00", "80.00", "0.00", "30.00",
    ),
    "34-rental-tariff-change": _worked(
        "3.4 #19", "oxygen rental, 4 weeks across a tariff change; 100 % BR incl. AMO",
        "80.00", "78.50", "60", "47.10", "31.40", "1.50", "31.40", "1.50",
    ),
    "35-optics-class-a": _worked(
        "3.4 #20", "optics class A frame + 2 lenses at their PLV; 100 % Santé",
        "95.00", "48.00", "60", "28.80", "19.20", "47.00", "66.20", "0.00",
    ),
    "36-optics-class-b-ceilings": _worked(
        "3.4 #21", "optics class B frame 180 + 2 very complex lenses 400; frais réels within the ceilings",
        "980.00", "0.15", "60", "0.09", "0.06", "979.85", "799.91", "180.00",
    ),
    "37-optics-floor": _worked(
        "3.4 #22", "2 class B simple lenses at 90; 100 % BR raised to the floor 25 per lens",
        "180.00", "0.10", "60", "0.06", "0.04", "179.90", "50.00", "129.94",
    ),
    "42-non-listed-forfait": _worked(
        "3.4 #23", "connected device off the LPP at 120; yearly forfait 150 for connected devices",
        "120.00", "0.00", "0", "0.00", "0.00", "0.00", "120.00", "0.00",
    ),
    "43-non-listed-product": _worked(
        "3.4 #24", "connected device off the LPP at 90, by GTIN; 50 % of the price",
        "90.00", "0.00", "0", "0.00", "0.00", "0.00", "45.00", "45.00",
    ),
    "45-pecan-first-period": _worked(
        "3.4 #25", "PECAN first-period forfait 435; contrat responsable",
        "435.00", "435.00", "60", "261.00", "174.00", "0.00", "174.00", "0.00",
    ),
    "48-telemonitoring-majoration": _worked(
        "3.4 #26", "heart-failure telemonitoring, 1 month (majoré 56 + technical 50); contrat responsable",
        "106.00", "106.00", "60", "63.60", "42.40", "0.00", "42.40", "0.00",
    ),
}  # fmt: skip
"""Every worked example of domain-fr.md §3.4 by the fixture that reproduces it.

Example 6 needs 70 € of the forfait already spent: its fixture's meta names
``18-forfait-first-use`` in ``preceded-by``, to submit first against the same ledger. The
hospital rounding check gives BR, MRO and MRC only: the fixture bills at the tariff (no
dépassement) and the C2S pays the MRC, so nothing is left to the patient."""


def meta(case: fb.Case) -> dict[str, Any]:
    """The ``.meta.json`` document: what the scenario shows and what the payers answer."""
    document: dict[str, Any] = {"description": case.description, "outcome": case.outcome}
    if case.amc_outcome is not None:
        document["amc-outcome"] = case.amc_outcome
    if case.preceded_by:
        document["preceded-by"] = list(case.preceded_by)
    return document


# -- cancellations -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelCase:
    """A ``Claim/$cancel`` check of the kit: the Parameters sent (``cancel/NN-name.json``), the claim
    submitted first when there is one (``cancel/NN-name.claim.json``, a fresh claim of its own so
    that the valid scenarios are untouched) and what the service must answer."""

    name: str
    description: str
    claim: fb.Case | None
    parameters: dict[str, Any]
    status: int
    issues: tuple[tuple[str, str | None], ...] = ()

    @property
    def expected(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "issues": [{"code": code, "expression": expression} for code, expression in self.issues],
        }


def _cancel_parameters(identifier: dict[str, str], reason: str) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "identifier", "valueIdentifier": identifier},
            {"name": "reason", "valueCoding": {"system": fb.CANON.cancel_reason, "code": reason}},
        ],
    }


def _cancel_cases() -> Iterator[CancelCase]:
    base = fb.SCENARIOS["50-ins-nia-patient"]
    claim = replace(
        base,
        name="60-cancel-by-identifier",
        submission="SUB-2026-006001",
        patient=replace(base.patient, nir=nir("8870499134305"), given="Carmen", birth_date=date(1987, 4, 2)),
    )
    identifier = fb.build_bundle(claim)["identifier"]
    yield CancelCase(
        name=claim.name,
        description=(
            "A claim of its own (`.claim.json`) is submitted, then withdrawn by its Bundle.identifier "
            "(reason `not-delivered`): HTTP 200, every ClaimResponse `cancelled`; sent again, the "
            "same answer byte for byte."
        ),
        claim=claim,
        parameters=_cancel_parameters(identifier, "not-delivered"),
        status=200,
    )
    yield CancelCase(
        name="61-cancel-unknown-claim",
        description="A cancellation naming a Bundle.identifier this client never submitted: 404.",
        claim=None,
        parameters=_cancel_parameters(
            {"system": identifier["system"], "value": "SUB-2026-NEVER"}, "duplicate"
        ),
        status=404,
        issues=(("not-found", None),),
    )
    yield CancelCase(
        name="62-cancel-reason-unknown",
        description="A cancellation whose reason is not a code of the cancel-reason code system: 422.",
        claim=None,
        parameters=_cancel_parameters(identifier, "changed-my-mind"),
        status=422,
        issues=(("cancel-reason-unknown", "Parameters.parameter[1].valueCoding.code"),),
    )


CANCEL_CASES: Final[tuple[CancelCase, ...]] = tuple(_cancel_cases())


# -- README ------------------------------------------------------------------------------

_README_HEAD = """\
# Fixtures: submission Bundles for the FHIR LPP adapter

A conformance kit for `POST [base]/Claim/$submit` (see `docs/conventions.md` §2): valid
submission Bundles covering the French reimbursement situations the adapter handles, and
invalid inputs, each with the exact list of errors the adapter must report. The files are
plain data, usable by any tool; nothing here is Python.

## Layout

```
fixtures/
  README.md                             this file (generated)
  valid/<NN>-<name>.json                a valid submission Bundle (FHIR R4 JSON)
  valid/<NN>-<name>.xml                 the same Bundle in FHIR R4 XML, for some scenarios
  valid/<NN>-<name>.meta.json           what the scenario shows and what the payers answer
  valid/<NN>-<name>.expected.meta.json  a worked example's amounts (domain-fr.md §3.4)
  invalid/<NN>-<name>.json|.xml         an input with exactly one defect
  invalid/<NN>-<name>.expected.json     what the adapter must answer to it
  cancel/<NN>-<name>.json               a `Claim/$cancel` Parameters body
  cancel/<NN>-<name>.claim.json         the claim it withdraws, submitted first (when there is one)
  cancel/<NN>-<name>.expected.json      what the adapter must answer to the cancellation
```

Each valid Bundle is a `collection` with `identifier`, `timestamp` and the Claim as entry 0,
followed by Patient, Practitioner (prescriber), Organization (provider), Organization (AMO),
Organization (AMC), Coverage (AMO), Coverage (AMC) and DeviceRequest; the two AMC entries are
absent when there is no mutuelle. fullUrls are `urn:uuid:` (uuid5 of the case name and the
entry's role, so they are stable), except in `08-no-mutuelle`, which uses relative `Type/id`
fullUrls and references to show the other accepted form. Amounts are JSON numbers with two
decimals (`150.00`); quantities are integers; datetimes carry the Paris UTC offset.

A `.meta.json` file reads `{"description": "...", "outcome": "complete"}`: `outcome` is
the `ClaimResponse.outcome` of every ClaimResponse the reference payers answer (`error` for a
scenario the payers reject); `"amc-outcome"`, when present, is the AMC's where it differs (a
device off the LPP: the AMO refuses it, a mutuelle may pay it).
`"preceded-by": ["18-forfait-first-use"]` names scenarios to submit first against the same
history and ledger.

An invalid input's `.expected.json` file reads:

```json
{"status": 422, "issues": [{"code": "nir-key",
  "expression": "Bundle.entry[1].resource.identifier[0].value"}]}
```

- `status`: the HTTP status (400 when the input cannot be read as a FHIR Bundle, 422 when it
  can but breaks the conventions).
- `issues`: every **error-severity** issue of the OperationOutcome, all reported at once.
  `code` is a code of the adapter's error catalogue (`adapter.errors.CATALOGUE`), carried in
  `issue.details.coding` under `{base}/CodeSystem/error`; `expression` is `issue.expression`
  (or `null` when the input has no FHIR structure to point into). Warnings are not listed and
  do not count; the order of issues is not significant.

## Using the kit

- Every `valid/*.json` and `valid/*.xml` file must be accepted: HTTP 200 and a response
  Bundle whose first entry is the AMO ClaimResponse. An XML file and its JSON twin describe the
  same submission and share its `Bundle.identifier`: against one store, the second one sent is
  a replay of the first (same content), which the adapter answers with the stored response.
- Every `invalid/*` input must be refused with the `status` of its expected file and exactly
  its issues: compare the multiset of `(code, expression)` pairs of error-severity issues.
- Send JSON as `application/fhir+json` and XML as `application/fhir+xml`.
- A worked example's `.expected.meta.json` gives, as text with two decimals, the totals its
  ClaimResponses must carry: for the AMO, `submitted`, `eligible`, `benefit`,
  `ticket-moderateur` and `depassement`, and the taux (`rate`, the `eligpercent` value of every
  item); for the AMC, `benefit` and `reste-a-charge` (`amc` is null without a mutuelle). With
  the command line: `adapter submit` on the scenarios of `preceded-by`, then the example, in
  one invocation.
- After each valid scenario, its reads: `GET [base]/Claim/{id}` (the id its ClaimResponses'
  `request` names) is the submitted Claim with `meta.versionId` and `meta.lastUpdated`, an
  `ETag` `W/"<versionId>"` and `Last-Modified`, and `If-None-Match` with that ETag answers a
  bodiless 304; `GET [base]/Bundle/{id}` holds the submitted entries; `GET
  [base]/ClaimResponse/{id}` the AMO answer with the same validators; `POST
  [base]/ClaimResponse/_search` with the form `request=Claim/{id}` finds exactly the answer's
  ClaimResponses. The token needs `system/ClaimResponse.read` as well as `system/Claim.write`.
- `adapter conformance --base-url URL --token TOKEN` does all of the above against a running
  service (any implementation of this contract) and prints one verdict per input (and one per
  scenario's reads, `reads/<file>`), with what was wrong; `--report FILE` writes them as JSON.
  Run it against a fresh store, or one that already holds the kit (the answers are then
  replays).

## Reporting rules the expected files assume

An invalid input is one valid scenario with one defect. For its expected list to be exact, the
validator reports each defect once, at the element at fault, and does not report knock-on
effects:

1. **Reading stops at the first layer that fails.** A 400 input (unreadable JSON or XML,
   forbidden XML constructs, wrong namespace, wrong or unknown resource type, FHIR
   structure errors) gets only its parse issues; the conventions are not checked.
2. **Expressions** are FHIRPath from the `Bundle` root with zero-based indexes and the
   `resource` step: `Bundle.entry[3].resource.identifier[0].value`. A choice element is named
   by its base name and the type it holds, as FHIRPath does, never by its JSON name:
   `Bundle.entry[0].resource.item[0].serviced.ofType(Period).end`, not `…servicedPeriod.end`;
   no other type casts.
3. **A resource without `resourceType`** is `resource-type-missing` at
   `Bundle.entry[N].resource` only (fhir.resources would otherwise report its elements as
   unknown elements of the abstract Resource).
4. **An empty Bundle** is `bundle-empty` only (not also `claim-not-first`).
5. **A malformed identifier** in an accepted system gives its format or key code only
   (`nir-key`, `nir-format`, `rpps-format`, `idnat-prefix`, `finess-format`, `siret-format`,
   `amo-organisme-format`…), not the matching "missing" code (`nir-missing`,
   `prescriber-missing`, `provider-identifier-missing`, `payor-identifier`), which is for an
   identifier absent from every accepted system.
6. **A broken reference** (`reference-unresolved`, `reference-target-type`) is reported once
   at `<element>.reference`; checks that compare against its target (DeviceRequest.subject or
   Coverage.beneficiary against Claim.patient) are skipped while the target is unusable.
7. **Amounts are checked as written:** `item.net` against `quantity × unitPrice`, and
   `Claim.total` against the sum of the `item.net` values as given, so a wrong net with a total
   that matches it yields `net-mismatch` only. `currency` is reported on every Money element
   that is not in EUR.
8. **Duplicates** (`fullurl-duplicate`, `claim-multiple`, `item-sequence`) are reported on the
   second occurrence.
9. **A period that ends before it starts** (`period-invalid`, `coverage-period`) is reported at
   its `end`.

Business findings of the reference payers (prices above the PLV, renewal intervals…) are not
validation errors and never appear in the expected files.
"""


ASSUMED_TARIFFS: Final[Mapping[str, str]] = {
    "1241763": "BR 12.35 per week (secondary source)",
    "1612544": "50.00 per month, PLV 50.00 (organisational level)",
    "6285133": "BR 1,030.00 (given as an upper bound, secondary source)",
    "9900001": "BR 100.00, no PLV",
    "9900002": "BR 1,234.56, no PLV (hospital rounding check)",
    "9900101": "BR 400.00, PLV 950.00, 100 % Santé classe I, from 20 years",
    "9900103": "BR 400.00, no PLV, classe II, from 20 years",
    "9900301": "28.00 per month, PLV 28.00",
    "9900401": "BR 15.00 per box, PLV 15.00",
    "9900402": "BR 43.59, PLV 43.59, from 18 years",
    "9900501": "BR 3,938.00, no PLV, entente préalable required",
    "9900601": "BR 20.00 per week until 30/6/2026, 18.50 per week from 1/7/2026, no PLV",
    "7206130": "BR 9.00, PLV 30.00, optics class A frame, from 16 years",
    "9900711": "BR 19.50, PLV 32.50, optics class A simple lens",
    "9900712": "BR 0.05, no PLV, optics class B simple lens",
    "9900713": "BR 0.05, no PLV, optics class B very complex lens",
    "9900714": "BR 0.05, no PLV, optics class B frame",
    "9900303": "56.00 per month, PLV 56.00 (operator forfait majoré 1)",
    "9900611": "435.00, PLV 435.00 (PECAN first-period forfait)",
    "9900612": "38.30 per month, PLV 38.30 (PECAN monthly forfait)",
    "9900801": "BR 10.00, no PLV, usual quantity 2",
    "03760000010016": "GTIN, not on the LPP (no tariff)",
    "03760000010023": "GTIN, not on the LPP (no tariff)",
    "03760000010030": "GTIN, not on the LPP (no tariff)",
}
"""What the scenarios assume each LPP code is worth; documented for the payers' demo data."""


def _amounts(case: fb.Case) -> str:
    parts = [f"{line.code} × {line.quantity} @ {line.unit_price}" for line in case.lines]
    total = sum((line.net for line in case.lines), Decimal("0.00"))
    return f"{'; '.join(parts)} = {total}"


def _valid_table() -> Iterator[str]:
    yield "| file | XML twin | items (code × qty @ unit price = total) | scenario |"
    yield "|---|---|---|---|"
    for name, case in fb.SCENARIOS.items():
        twin = "yes" if name in XML_TWINS else ""
        yield f"| `valid/{name}.json` | {twin} | {_amounts(case)} | {case.description} |"


def _reference_data() -> Iterator[str]:
    codes: dict[str, str] = {}
    plans: dict[str, list[str]] = {}
    for name, case in fb.SCENARIOS.items():
        for line in case.lines:
            codes.setdefault(line.code, line.display)
        if case.amc is not None:
            plans.setdefault(case.amc.plan, []).append(name)
    yield "| LPP code (or GTIN) | label in the fixtures | tariff assumed |"
    yield "|---|---|---|"
    for code, label in sorted(codes.items()):
        yield f"| `{code}` | {label} | {ASSUMED_TARIFFS[code]} |"
    yield ""
    yield "| AMC contract (Coverage.class plan) | used by |"
    yield "|---|---|"
    for plan, names in sorted(plans.items()):
        yield f"| `{plan}` | {', '.join(names)} |"


def _worked_table() -> Iterator[str]:
    yield ("| example | fixture | case | price | BR | taux | AMO | TM | dépassement | AMC | reste à charge |")
    yield "|---|---|---|---|---|---|---|---|---|---|---|"
    for name, example in WORKED_EXAMPLES.items():
        fixture = f"`valid/{name}.json`"
        before = fb.SCENARIOS[name].preceded_by
        if before:
            fixture += " after " + ", ".join(f"`valid/{other}.json`" for other in before)
        amounts = [example.price, example.br, f"{example.rate} %", example.amo, example.tm]
        amounts += [example.depassement, example.amc or "—", example.rac or "—"]
        yield f"| {example.example} | {fixture} | {example.situation} | {' | '.join(amounts)} |"


def _expected_cell(case: InvalidCase) -> str:
    issues = "<br>".join(
        f"`{code}` at `{path}`" if path is not None else f"`{code}` (no expression)"
        for code, path in case.issues
    )
    return f"{case.status}: {issues}"


def _cancel_table() -> Iterator[str]:
    yield "| file | checks | expected |"
    yield "|---|---|---|"
    for case in CANCEL_CASES:
        expected = f"{case.status}" + "".join(f" `{code}`" for code, _ in case.issues)
        yield f"| `cancel/{case.name}.json` | {case.description} | {expected} |"


def _invalid_table() -> Iterator[str]:
    yield "| file | based on | defect | expected |"
    yield "|---|---|---|---|"
    for case in INVALID_CASES:
        file = f"`invalid/{case.name}.{case.suffix}`"
        yield f"| {file} | {case.base} | {case.defect} | {_expected_cell(case)} |"


_README_TAIL = """\
## Provenance

All synthetic. Patients, prescribers, providers, caisses, mutuelles, member numbers and
submission numbers are invented; NIRs have valid keys but belong to nobody, and FINESS and
SIRET numbers pass their Luhn check without designating a real establishment. Names are
invented words. Real LPP codes and tariffs come from the project's domain notes
(domain-fr.md §1.1, §2.1, §3.4), which mark several of them as secondary sources; codes
starting with 99 are the demo codes of the adapter's demo LPP table (their label says so),
standing for devices whose real code is not pinned there. Dates are in 2026: each
prescription precedes delivery by less than 6 months and each Claim is created after
delivery, except the predetermination, which is created before the planned delivery.

## Regenerating

The files are generated by `tests/build_fixtures.py` from the builders in
`tests/support/bundles.py`; do not edit them by hand. From the repository root:

```
python -m tests.build_fixtures          # rewrite every file (stale ones are removed)
python -m tests.build_fixtures --check  # list differences, exit 1 if any
```

The output is byte-for-byte deterministic. `tests/test_fixtures_consistency.py` fails when the
files on disk differ from what the builders produce, and checks that every valid Bundle parses
with fhir.resources (R4B), that each XML twin equals its JSON, that every NIR, FINESS, SIRET
and other identifier passes the adapter's value objects, and that every expected code is in
the catalogue. Review the diff of the fixture files like code.
"""


_ELIGIBILITY_HEAD = """
## Eligibility questions (`eligibility/`)

For `POST [base]/CoverageEligibilityRequest/$submit` (docs/http-api.md): each question is a
`collection` Bundle led by a CoverageEligibilityRequest, built from the claim scenario it names.
Its `.meta.json` gives `description`, `outcome` (`open`, `partial` or `closed`) and the claim
scenarios of `valid/` to submit before it (`preceded-by`: the conformance run submits the whole of
`valid/` first). Its `.expected.json` reads `{"status": 200, "responses": [...]}`: per payer, in
order (AMO, then the mutuelle), the insurer's identifier, `inforce` and, per planned device, its
LPP `code`, `excluded`, the payer's `benefit` and the `reste-a-charge` after it (amounts as text
with two decimals) and, when asked, `authorizationRequired`. A refused input's `.expected.json`
is `{"status", "issues"}` as for `invalid/`.

"""

_PRESCRIPTIONS_HEAD = """
## Prescriptions checked on their own (`prescriptions/`)

For `POST [base]/DeviceRequest/$validate`: each file is one DeviceRequest, its patient and
prescriber contained (or named by identifier). Its `.expected.json` reads
`{"description", "status", "issues"}`: 200 and every **error and warning** of the
OperationOutcome (`severity`, `code`, `expression`; information issues are not listed), or 400
and the parse errors of an unreadable input.

"""


def _eligibility_table() -> Iterator[str]:
    yield "| file | expected |"
    yield "|---|---|"
    for name, case in fe.ELIGIBILITY.items():
        yield f"| `eligibility/{name}.json` | 200, {case.outcome}: {case.description} |"
    for refused in fe.REFUSED_QUESTIONS:
        issues = "<br>".join(
            f"`{code}` at `{where}`" if where else f"`{code}`" for code, where in refused.issues
        )
        file = f"eligibility/{refused.name}.{refused.suffix}"
        yield f"| `{file}` | {refused.status} ({refused.defect}): {issues} |"


def _prescriptions_table() -> Iterator[str]:
    yield "| file | expected |"
    yield "|---|---|"
    for case in fe.PRESCRIPTIONS:
        found = (
            "<br>".join(f"{level} `{code}` at `{where}`" for level, code, where in case.issues) or "no error"
        )
        yield f"| `prescriptions/{case.name}.{case.suffix}` | {case.status}: {case.description}; {found} |"


def readme() -> str:
    """The fixtures README, with its tables generated from the same definitions as the files."""
    parts = [
        _README_HEAD,
        "\n## Valid scenarios\n\n",
        "Where a worked example of the domain notes (domain-fr.md §3.4) applies, the "
        "description cites it.\n\n",
        *(line + "\n" for line in _valid_table()),
        "\n## Worked examples\n\n",
        "Each worked example of domain-fr.md §3.4 has a fixture and, beside it, a "
        f"`{EXPECTED_SUFFIX}` file with the document's amounts (the oracle, copied from the "
        "document, not computed). `tests/test_worked_examples.py` submits them through "
        "`adapter submit` and compares the ClaimResponse totals to the cent.\n\n",
        *(line + "\n" for line in _worked_table()),
        "\n## Reference data the scenarios rely on\n\n",
        "The scenarios assume these LPP tariffs, as in the demo LPP table shipped with the "
        "adapter (codes starting with 99 are demo codes), and these AMC contracts in the demo "
        "contract catalogue.\n\n",
        *(line + "\n" for line in _reference_data()),
        "\n## Invalid inputs\n\n",
        *(line + "\n" for line in _invalid_table()),
        "\n## Cancellations\n\n",
        "Sent after the valid and invalid inputs, in order: a `.claim.json` to `Claim/$submit` "
        "(HTTP 200), then the Parameters to `Claim/$cancel`, whose answer must have the "
        "expected `status` and exactly its error issues (as for invalid inputs); a 200 must "
        "answer every ClaimResponse with `status` `cancelled`, and the same cancellation sent "
        "again must get the same answer byte for byte.\n\n",
        *(line + "\n" for line in _cancel_table()),
        _ELIGIBILITY_HEAD,
        *(line + "\n" for line in _eligibility_table()),
        _PRESCRIPTIONS_HEAD,
        *(line + "\n" for line in _prescriptions_table()),
        "\n",
        _README_TAIL,
    ]
    return "".join(parts)


# -- writing -----------------------------------------------------------------------------


def render_all() -> dict[str, bytes]:
    """Every fixture file, by path relative to ``fixtures/`` (POSIX separators)."""
    files: dict[str, bytes] = {"README.md": readme().encode("utf-8")}
    for name, case in fb.SCENARIOS.items():
        bundle = fb.build_bundle(case)
        files[f"valid/{name}.json"] = dumps_json(bundle)
        files[f"valid/{name}.meta.json"] = dumps_json(meta(case))
        if name in WORKED_EXAMPLES:
            files[f"valid/{name}{EXPECTED_SUFFIX}"] = dumps_json(WORKED_EXAMPLES[name].expected)
        if name in XML_TWINS:
            files[f"valid/{name}.xml"] = dumps_xml(bundle)
    for invalid in INVALID_CASES:
        files[f"invalid/{invalid.name}.{invalid.suffix}"] = invalid.make(fb.SCENARIOS[invalid.base])
        files[f"invalid/{invalid.name}.expected.json"] = dumps_json(invalid.expected)
    for cancel in CANCEL_CASES:
        if cancel.claim is not None:
            files[f"cancel/{cancel.name}.claim.json"] = dumps_json(fb.build_bundle(cancel.claim))
        files[f"cancel/{cancel.name}.json"] = dumps_json(cancel.parameters)
        files[f"cancel/{cancel.name}.expected.json"] = dumps_json(cancel.expected)
    files.update(_eligibility_files())
    files.update(_prescription_files())
    return files


def _eligibility_files() -> dict[str, bytes]:
    """``eligibility/``: each question, its meta and its expected answer; each refused input."""
    files: dict[str, bytes] = {}
    for name, case in fe.ELIGIBILITY.items():
        files[f"eligibility/{name}.json"] = dumps_json(fe.eligibility_bundle(case))
        document: dict[str, Any] = {"description": case.description, "outcome": case.outcome}
        if case.preceded_by:
            document["preceded-by"] = list(case.preceded_by)
        files[f"eligibility/{name}.meta.json"] = dumps_json(document)
        files[f"eligibility/{name}.expected.json"] = dumps_json(
            {"status": 200, "responses": list(case.expected)}
        )
    for refused in fe.REFUSED_QUESTIONS:
        files[f"eligibility/{refused.name}.{refused.suffix}"] = refused.make()
        issues = [{"code": code, "expression": where} for code, where in refused.issues]
        files[f"eligibility/{refused.name}.expected.json"] = dumps_json(
            {"status": refused.status, "issues": issues}
        )
    return files


def _prescription_files() -> dict[str, bytes]:
    """``prescriptions/``: each lone DeviceRequest and what checking it must say."""
    files: dict[str, bytes] = {}
    for case in fe.PRESCRIPTIONS:
        made = case.make()
        data = (
            made if isinstance(made, bytes) else dumps_xml(made) if case.suffix == "xml" else dumps_json(made)
        )
        files[f"prescriptions/{case.name}.{case.suffix}"] = data
        issues = [
            {"severity": level, "code": code, "expression": where} for level, code, where in case.issues
        ]
        files[f"prescriptions/{case.name}.expected.json"] = dumps_json(
            {"description": case.description, "status": case.status, "issues": issues}
        )
    return files


def _on_disk(root: Path) -> set[str]:
    found = {"README.md"} if (root / "README.md").exists() else set()
    for folder in ("valid", "invalid", "cancel", "eligibility", "prescriptions"):
        if (root / folder).is_dir():
            found |= {f"{folder}/{path.name}" for path in (root / folder).iterdir()}
    return found


def check(root: Path = FIXTURES) -> list[str]:
    """Paths that are missing, different or stale under ``root``; empty when up to date."""
    files = render_all()
    problems = [
        f"{path}: {'differs' if (root / path).exists() else 'missing'}"
        for path, content in sorted(files.items())
        if not (root / path).exists() or (root / path).read_bytes() != content
    ]
    problems += [f"{path}: stale" for path in sorted(_on_disk(root) - files.keys())]
    return problems


def write(root: Path = FIXTURES) -> int:
    """Write every fixture under ``root`` and delete stale ones; return the number written."""
    files = render_all()
    for stale in _on_disk(root) - files.keys():
        (root / stale).unlink()
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    """Command line: rewrite the fixtures, or with ``--check`` only report differences."""
    parser = argparse.ArgumentParser(prog="python -m tests.build_fixtures", description=__doc__)
    parser.add_argument("--check", action="store_true", help="report differences, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    count = write()
    print(f"{count} fixture files up to date in {FIXTURES.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
