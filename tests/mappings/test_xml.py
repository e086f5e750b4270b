"""The FHIR XML codec: hardened reading, JSON-shaped output, spec-ordered writing, round trips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.patient import Patient
from lxml import etree
from pydantic import BaseModel

from adapter.errors import ParseError, UsageError
from mappings.fhir.xml import REPLACEMENT, dump_xml, parse_xml

_NS = 'xmlns="http://hl7.org/fhir"'
_XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
_NIR = "184059912345697"  # synthetic; key 97 is valid for 1840599123456
_HARDENED = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
    huge_tree=False,
)


def _doc(body: str, root: str = "Patient") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} {_NS}>{body}</{root}>'.encode()


def _refusal(data: bytes, **bounds: int) -> list[tuple[str, str | None]]:
    with pytest.raises(ParseError) as caught:
        parse_xml(data, **bounds)
    return [(issue.code, issue.expression) for issue in caught.value.issues]


def _codes(data: bytes, **bounds: int) -> set[str]:
    return {code for code, _ in _refusal(data, **bounds)}


def _snapshot(value: Any) -> Any:
    """A model as nested plain values, decimals compared digit for digit."""
    if isinstance(value, BaseModel):
        return {
            name: _snapshot(getattr(value, name))
            for name in type(value).model_fields
            if getattr(value, name) is not None
        }
    if isinstance(value, list):
        return [_snapshot(item) for item in value]
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    return value


def _claim() -> dict[str, Any]:
    return {
        "resourceType": "Claim",
        "id": "c1",
        "text": {"status": "generated", "div": f"<div {_XHTML}><p>Facture &amp; devis</p></div>"},
        "contained": [{"resourceType": "Organization", "id": "amo", "name": "CPAM"}],
        "status": "active",
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]
        },
        "use": "claim",
        "patient": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
        "created": "2025-03-14T10:00:00+01:00",
        "insurer": {"reference": "#amo"},
        "provider": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000002"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "AMO"}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"code": "1100001"}]},
                "quantity": {"value": Decimal("2")},
                "unitPrice": {"value": Decimal("100.00"), "currency": "EUR"},
                "net": {"value": Decimal("200.00"), "currency": "EUR"},
            }
        ],
        "total": {"value": Decimal("200.00"), "currency": "EUR"},
    }


def _bundle() -> dict[str, Any]:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": _NIR}],
        "name": [{"family": "Martin", "given": ["Camille", "Jeanne"]}],
        "birthDate": "1984-05-12",
        "_birthDate": {"id": "bd", "extension": [{"url": "https://x.example/e", "valueCode": "x"}]},
    }
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational"}],
    }
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "https://hospital.example/submissions", "value": "S-1"},
        "type": "collection",
        "timestamp": "2025-03-14T10:00:00+01:00",
        "entry": [
            {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000003", "resource": _claim()},
            {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": patient},
            {"response": {"status": "200", "outcome": outcome}},
        ],
    }


# -- refusals ---------------------------------------------------------------------------------

_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><name><text value="&xxe;"/></name></Patient>"""

_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Patient [
 <!ENTITY a "lol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<Patient xmlns="http://hl7.org/fhir"><id value="&d;"/></Patient>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(_XXE, "xml-forbidden", id="xxe-external-entity"),
        pytest.param(_LAUGHS, "xml-forbidden", id="billion-laughs"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE Patient><Patient xmlns="http://hl7.org/fhir"/>',
            "xml-forbidden",
            id="doctype-alone",
        ),
        pytest.param(
            b'<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?>' + _doc("")[38:],
            "xml-forbidden",
            id="processing-instruction-before-root",
        ),
        pytest.param(_doc('<active value="true"/><?evil x?>'), "xml-forbidden", id="pi-inside"),
        pytest.param(
            _doc('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>'),
            "xml-namespace",
            id="xinclude",
        ),
        pytest.param(
            b'<Patient xmlns="urn:other"><active value="true"/></Patient>',
            "xml-namespace",
            id="wrong-namespace",
        ),
        pytest.param(b'<Patient><active value="true"/></Patient>', "xml-namespace", id="no-namespace"),
        pytest.param(_doc('<active value="true">'), "invalid-xml", id="malformed"),
        pytest.param(b"", "invalid-xml", id="empty"),
        pytest.param(
            _doc('<name><text value="Zo\xe9"/></name>').replace(b"\xc3\xa9", b"\xe9"),
            "encoding-invalid",
            id="bad-utf8",
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="ISO-8859-1"?><Patient xmlns="http://hl7.org/fhir"/>',
            "encoding-invalid",
            id="declared-latin1",
        ),
        pytest.param(
            '<Patient xmlns="http://hl7.org/fhir"/>'.encode("utf-16"),
            "encoding-invalid",
            id="utf16",
        ),
        pytest.param(b'<Foo xmlns="http://hl7.org/fhir"/>', "resource-type-unknown", id="unknown-root"),
        pytest.param(b'<Coding xmlns="http://hl7.org/fhir"/>', "resource-type-unknown", id="datatype-root"),
        pytest.param(
            b'<DomainResource xmlns="http://hl7.org/fhir"/>',
            "resource-type-unknown",
            id="abstract-root",
        ),
    ],
)
def test_refusals_carry_their_code(data: bytes, code: str) -> None:
    """Each unsafe, malformed or foreign document is refused with its catalogue code."""
    assert _codes(data) == {code}


def test_doctype_in_a_comment_is_not_refused() -> None:
    """A comment that merely mentions <!DOCTYPE or <? is content-free, not a DTD or a PI."""
    data = _doc('<!-- <!DOCTYPE x> <?pi?> --><active value="true"/>')

    assert parse_xml(data) == {"resourceType": "Patient", "active": True}


def test_byte_order_mark_is_accepted() -> None:
    """A UTF-8 byte order mark before the declaration is still UTF-8."""
    data = b"\xef\xbb\xbf" + _doc('<active value="true"/>')

    assert parse_xml(data) == {"resourceType": "Patient", "active": True}


def test_text_input_is_a_usage_error() -> None:
    """parse_xml takes the body's bytes; a str is the caller's mistake, not the sender's."""
    with pytest.raises(UsageError):
        parse_xml(_doc("").decode())  # type: ignore[arg-type]


def test_issues_are_capped() -> None:
    """A document full of unknown elements yields at most 100 issues."""
    data = _doc("<nick/>" * 150)

    assert len(_refusal(data)) == 100


def test_too_large_is_refused_before_parsing() -> None:
    """A document over max_bytes is refused with input-too-large, whatever it holds."""
    data = _doc('<active value="true"/>')

    assert _refusal(data, max_bytes=len(data) - 1) == [("input-too-large", None)]
    assert parse_xml(data, max_bytes=len(data))["active"] is True


def test_too_deep_is_refused_with_the_path() -> None:
    """Nesting beyond max_depth is refused with input-too-large at the element that goes deeper."""
    nested = '<extension url="https://x.example/e">' * 5 + '<valueString value="x"/>'
    data = _doc(nested + "</extension>" * 5)

    assert _refusal(data, max_depth=4) == [
        ("input-too-large", "Patient.extension[0].extension[0].extension[0]")
    ]
    assert len(parse_xml(data, max_depth=7)["extension"]) == 1


def test_parser_depth_limit_is_input_too_large() -> None:
    """Nesting beyond what libxml2 accepts without huge_tree reads as input-too-large."""
    data = _doc("<name>" * 300 + "</name>" * 300)

    assert _codes(data, max_depth=1000) == {"input-too-large"}


def test_deep_narrative_counts_toward_max_depth() -> None:
    """XHTML inside Narrative.div counts toward max_depth like any other nesting."""
    div = f"<div {_XHTML}>" + "<p>" * 10 + "x" + "</p>" * 10 + "</div>"
    data = _doc(f'<text><status value="generated"/>{div}</text>')

    assert _codes(data, max_depth=12) == {"input-too-large"}
    assert "div" in parse_xml(data, max_depth=13)["text"]


def test_malformed_message_gives_line_and_column() -> None:
    """A well-formedness error names its line and column."""
    with pytest.raises(ParseError) as caught:
        parse_xml(b'<Patient xmlns="http://hl7.org/fhir">\n  <active value="true">\n</Patient>')

    assert "line 3, column" in caught.value.issues[0].message


def test_foreign_elements_and_attributes_are_namespace_issues() -> None:
    """Elements outside the FHIR namespace and namespaced attributes give xml-namespace with a path."""
    data = _doc(
        '<name xmlns:x="urn:x"><x:nick value="a"/><family value="M"/></name>'
        '<gender xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x" value="male"/>'
    )

    assert _refusal(data) == [
        ("xml-namespace", "Patient.name[0].nick"),
        ("xml-namespace", "Patient.gender"),
    ]


def test_div_outside_the_xhtml_namespace_is_refused() -> None:
    """A Narrative.div in the FHIR namespace is a namespace error, not a silent string."""
    data = _doc('<text><status value="generated"/><div>x</div></text>')

    assert _refusal(data) == [("xml-namespace", "Patient.text.div")]


def test_unknown_elements_are_reported_with_fhirpath_not_dropped() -> None:
    """Every unknown element is reported as element-unknown with its FHIRPath, all of them at once."""
    bundle = _bundle()
    data = dump_xml(bundle).replace(
        b'<sequence value="1"/><productOrService>',
        b'<sequence value="1"/><bogus value="1"/><productOrService>',
    )
    data = data.replace(b"<family ", b'<surname value="x"/><family ')

    assert _refusal(data) == [
        ("element-unknown", "Bundle.entry[0].resource.item[0].bogus"),
        ("element-unknown", "Bundle.entry[1].resource.name[0].surname"),
    ]


def test_attribute_borne_names_written_as_elements_are_unknown() -> None:
    """An element id or Extension url written as a child element is refused, as the schema does."""
    data = _doc(
        '<identifier><id value="i"/><value value="1"/></identifier>'
        '<extension><url value="https://x.example/e"/><valueString value="v"/></extension>'
    )

    assert _refusal(data) == [
        ("element-unknown", "Patient.identifier[0].id"),
        ("element-unknown", "Patient.extension[0].url"),
    ]


def test_unknown_attributes_are_reported() -> None:
    """An attribute FHIR does not define (anything but value, id and Extension url) is refused."""
    data = _doc('<active value="true" flag="1"/><name use="official"/>')

    assert _refusal(data) == [
        ("element-unknown", "Patient.active"),
        ("element-unknown", "Patient.name[0]"),
    ]


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        pytest.param('<active value="yes"/>', "Patient.active", id="boolean"),
        pytest.param('<multipleBirthInteger value="1.5"/>', "Patient.multipleBirthInteger", id="integer"),
        pytest.param(
            '<multipleBirthInteger value="1_000"/>', "Patient.multipleBirthInteger", id="underscore"
        ),
        pytest.param(
            '<extension url="https://x.example/e"><valueDecimal value="NaN"/></extension>',
            "Patient.extension[0].valueDecimal",
            id="decimal-nan",
        ),
        pytest.param(
            '<extension url="https://x.example/e"><valueDecimal value=" 1.0"/></extension>',
            "Patient.extension[0].valueDecimal",
            id="decimal-space",
        ),
        pytest.param('<active value="true"/><active value="false"/>', "Patient.active", id="twice"),
        pytest.param("<active/>", "Patient.active", id="empty-primitive"),
        pytest.param("<maritalStatus/>", "Patient.maritalStatus", id="empty-complex"),
        pytest.param('<active value="true">yes</active>', "Patient.active", id="text-in-primitive"),
        pytest.param("<name>Martin</name>", "Patient.name[0]", id="text-in-complex"),
        pytest.param("<contained/>", "Patient.contained[0]", id="empty-wrapper"),
        pytest.param(
            "<contained><Patient/><Patient/></contained>", "Patient.contained[0]", id="two-resources"
        ),
    ],
)
def test_invalid_values_and_shapes_are_element_invalid(body: str, expression: str) -> None:
    """Bad lexical values, repeats of single elements, empty elements and text are element-invalid."""
    assert _refusal(_doc(body)) == [("element-invalid", expression)]


def test_unknown_nested_resource_is_reported_at_its_wrapper() -> None:
    """A nested resource FHIR R4 does not define is resource-type-unknown at its wrapper's path."""
    data = _doc("<entry><resource><Widget/></resource></entry>", root="Bundle")

    assert _refusal(data) == [("resource-type-unknown", "Bundle.entry[0].resource")]


# -- reading ----------------------------------------------------------------------------------


def test_primitives_get_their_json_kinds() -> None:
    """Booleans, integers and decimals come out as bool, int and exact Decimal; the rest as strings."""
    data = _doc(
        '<active value="false"/><birthDate value="1984-05-12"/>'
        '<multipleBirthInteger value="-2"/>'
        '<extension url="https://x.example/e"><valueDecimal value="100.00"/></extension>',
    )

    result = parse_xml(data)

    assert result["active"] is False
    assert result["birthDate"] == "1984-05-12"
    assert result["multipleBirthInteger"] == -2
    assert str(result["extension"][0]["valueDecimal"]) == "100.00"


def test_money_keeps_its_cents_through_validation() -> None:
    """A Money value of 100.00 reaches the model as Decimal('100.00'), not a float 100.0."""
    item = (
        '<item><sequence value="1"/><productOrService><text value="x"/></productOrService>'
        '<unitPrice><value value="100.00"/><currency value="EUR"/></unitPrice></item>'
    )
    data = _doc(item, root="Claim")

    claim = Claim.model_construct(**parse_xml(data))

    assert str(parse_xml(data)["item"][0]["unitPrice"]["value"]) == "100.00"
    assert claim.item[0]["unitPrice"]["value"] == Decimal("100.00")


def test_primitive_id_and_extensions_use_the_underscore_form() -> None:
    """A primitive's id and extensions go to _name, lined up with repeating values."""
    data = _doc(
        '<name><given value="A"/><given id="g2"><extension url="https://x.example/e">'
        '<valueCode value="c"/></extension></given><given value="C"/></name>'
        '<birthDate id="bd" value="1984"/>'
    )

    result = parse_xml(data)

    assert result["name"][0]["given"] == ["A", None, "C"]
    assert result["name"][0]["_given"] == [
        None,
        {"id": "g2", "extension": [{"url": "https://x.example/e", "valueCode": "c"}]},
        None,
    ]
    assert result["_birthDate"] == {"id": "bd"}
    assert Patient.model_validate(result).name[0].given__ext[1].id == "g2"


def test_element_ids_are_kept() -> None:
    """The id attribute of datatypes and backbone elements is kept (fhir.resources' XML drops it)."""
    data = _doc('<identifier id="i1"><value value="1"/></identifier>')

    assert parse_xml(data)["identifier"] == [{"id": "i1", "value": "1"}]


def test_narrative_div_is_the_json_string() -> None:
    """Narrative.div reads as the serialised XHTML element, without tail or inherited namespaces."""
    data = (
        b'<Patient xmlns="http://hl7.org/fhir" xmlns:x="urn:unused">\n'
        b'  <text><status value="generated"/>\n'
        b'    <div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; <b>b</b></p></div>\n'
        b"  </text>\n</Patient>"
    )

    div = parse_xml(data)["text"]["div"]

    assert div == f"<div {_XHTML}><p>a &amp; <b>b</b></p></div>"


def test_contained_resource_reads_with_its_resource_type() -> None:
    """A contained resource becomes a dict with resourceType, and issues inside it name contained[n]."""
    good = _doc('<contained><Organization><id value="o"/></Organization></contained>', "Claim")
    bad = _doc('<contained><Organization><active value="1"/></Organization></contained>', "Claim")

    assert parse_xml(good)["contained"] == [{"resourceType": "Organization", "id": "o"}]
    assert _refusal(bad) == [("element-invalid", "Claim.contained[0].active")]


def test_bundle_with_nested_resources_validates() -> None:
    """A Bundle's entry.resource and entry.response.outcome read into a valid R4B Bundle."""
    result = parse_xml(dump_xml(_bundle()))

    bundle = Bundle.model_validate(result)

    assert [type(e.resource).__name__ for e in bundle.entry] == ["Claim", "Patient", "NoneType"]
    assert bundle.entry[2].response.outcome.get_resource_type() == "OperationOutcome"
    assert result["entry"][1]["resource"]["_birthDate"]["id"] == "bd"


def test_comment_before_id_reads() -> None:
    """A comment just before <id> is dropped and the id read (fhir.resources fails on it)."""
    data = _doc('<!-- generated --><id value="p1"/><!-- x --><active value="true"/>')

    assert parse_xml(data) == {"resourceType": "Patient", "id": "p1", "active": True}


def test_element_order_is_not_enforced() -> None:
    """Elements out of the documented order still read as the JSON they mean."""
    data = _doc('<gender value="female"/><active value="true"/>')

    assert parse_xml(data) == {"resourceType": "Patient", "gender": "female", "active": True}


def test_reads_as_fhir_resources_reads() -> None:
    """On XML that fhir.resources reads correctly, parse_xml gives the same model."""
    data = dump_xml(_bundle(), pretty=True).replace(b' id="bd"', b"")

    expected = Bundle.model_validate_xml(data, xmlparser=_HARDENED)
    actual = Bundle.model_validate(parse_xml(data))

    expected_div = expected.entry[0].resource.text.div
    assert etree.canonicalize(expected_div) == etree.canonicalize(actual.entry[0].resource.text.div)
    expected.entry[0].resource.text.div = actual.entry[0].resource.text.div
    assert _snapshot(expected) == _snapshot(actual)


# -- writing ----------------------------------------------------------------------------------


def test_dump_round_trips_exactly() -> None:
    """dump_xml then parse_xml gives back the same resource, decimals digit for digit."""
    bundle = _bundle()

    again = parse_xml(dump_xml(bundle))

    assert _snapshot(Bundle.model_validate(again)) == _snapshot(Bundle.model_validate(bundle))
    assert str(again["entry"][0]["resource"]["total"]["value"]) == "200.00"


def test_pretty_dump_reads_the_same() -> None:
    """Indented output reads back to the same resource, and the narrative is left untouched."""
    bundle = _bundle()

    pretty = dump_xml(bundle, pretty=True)

    assert parse_xml(pretty) == parse_xml(dump_xml(bundle))
    assert f"<div {_XHTML}><p>Facture &amp; devis</p></div>".encode() in pretty


def test_dump_follows_the_documented_order() -> None:
    """Elements are written in the specification's order whatever the dict's key order."""
    claim = dict(reversed(list(_claim().items())))

    root = etree.fromstring(dump_xml(claim), parser=_HARDENED)

    assert [etree.QName(child).localname for child in root] == [
        "id",
        "text",
        "contained",
        "status",
        "type",
        "use",
        "patient",
        "created",
        "insurer",
        "provider",
        "priority",
        "insurance",
        "item",
        "total",
    ]


def test_dump_model_json_reads_with_fhir_resources() -> None:
    """A model's JSON dump written by dump_xml is valid XML for fhir.resources too."""
    model = Claim.model_validate(_claim())

    xml = dump_xml(model.model_dump(mode="json"))

    again = Claim.model_validate_xml(xml, xmlparser=_HARDENED)
    assert again.total.value == Decimal("200")
    assert again.contained[0].name == "CPAM"
    assert again.item[0].unitPrice.currency == "EUR"


def test_dump_escapes_attribute_text() -> None:
    """Quotes, markup characters and line breaks in strings survive the XML attribute."""
    text = "a \"quoted\" <b> & 'c'\nnext line\ttab\r"
    patient = {"resourceType": "Patient", "name": [{"text": text}]}

    assert parse_xml(dump_xml(patient))["name"][0]["text"] == text


def test_dump_writes_primitive_extensions_without_values() -> None:
    """A primitive with only an extension (a null in the JSON array) is written and read back."""
    patient = {
        "resourceType": "Patient",
        "name": [
            {
                "given": [None, "B"],
                "_given": [{"extension": [{"url": "https://x.example/e", "valueBoolean": True}]}, None],
            }
        ],
    }

    assert parse_xml(dump_xml(patient))["name"] == patient["name"]


def test_extension_only_primitive_list_has_no_values() -> None:
    """A repeating primitive carried by extensions only reads as "_name" alone, as in JSON."""
    name = {"_given": [{"extension": [{"url": "https://x.example/e", "valueCode": "masked"}]}]}
    patient = {"resourceType": "Patient", "name": [name]}

    assert parse_xml(dump_xml(patient))["name"] == [name]


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param({"resourceType": "Widget"}, id="unknown-resource"),
        pytest.param({"active": True}, id="no-resource-type"),
        pytest.param({"resourceType": "Patient", "nickname": "x"}, id="unknown-key"),
        pytest.param({"resourceType": "Patient", "name": {"text": "x"}}, id="list-expected"),
        pytest.param({"resourceType": "Patient", "name": ["x"]}, id="object-expected"),
        pytest.param({"resourceType": "Patient", "active": float("nan")}, id="nan"),
        pytest.param(
            {"resourceType": "Patient", "text": {"status": "generated", "div": "<div>unclosed"}},
            id="malformed-div",
        ),
        pytest.param(
            {"resourceType": "Patient", "text": {"status": "generated", "div": "<p>x</p>"}},
            id="div-not-xhtml",
        ),
        pytest.param(
            {"resourceType": "Patient", "_gender": {"extension": [], "color": "x"}},
            id="underscore-extra-key",
        ),
    ],
)
def test_dump_refuses_what_is_not_fhir_json(resource: dict[str, Any]) -> None:
    """A dict that is not FHIR JSON is a programming error: UsageError, never broken XML."""
    with pytest.raises(UsageError):
        dump_xml(resource)


@pytest.mark.parametrize("point", [0x0, 0x1, 0x8, 0xB, 0xC, 0x1F, 0xD800, 0xDFFF, 0xFFFE, 0xFFFF], ids=hex)
def test_dump_replaces_what_xml_cannot_hold(point: int) -> None:
    """A stored row may hold a character XML cannot carry (intake refuses them now, rows from
    before may not): the writer puts U+FFFD in its place, in values, ids and narratives alike,
    and the XML reads back."""
    character = chr(point)
    patient = {
        "resourceType": "Patient",
        "id": f"p{character}1",
        "text": {"status": "generated", "div": f"<div {_XHTML}>a{character}b</div>"},
        "name": [{"text": f"a{character}b", "given": [f"{character}"]}],
    }

    read = parse_xml(dump_xml(patient))

    assert read["id"] == f"p{REPLACEMENT}1"
    assert read["name"] == [{"text": f"a{REPLACEMENT}b", "given": [REPLACEMENT]}]
    assert read["text"]["div"] == f"<div {_XHTML}>a{REPLACEMENT}b</div>"
    assert parse_xml(dump_xml(patient, pretty=True)) == read


def test_dump_keeps_tab_line_feed_carriage_return_and_astral_characters() -> None:
    """Only what XML cannot hold is replaced."""
    text = "a\tb\nc\rd \U0001f600 \u00e9 \ufffd"
    patient = {"resourceType": "Patient", "name": [{"text": text}]}

    assert parse_xml(dump_xml(patient))["name"][0]["text"] == text
