"""Every selected official R4 example survives the XML codec and reads as fhir.resources reads it.

Comparisons walk the R4B models field by field. Two differences are tolerated, each for a
proven reason, and nothing else:

* ``Narrative.div`` is compared in canonical XML (C14N 2.0): any XML round trip may re-spell
  the same XHTML (``&quot;`` as ``"``, ``&#160;`` as the character itself);
* where fhir.resources wrote the XML (``model_dump_xml``), decimals are compared by value: it
  writes them through ``float`` (``2`` becomes ``2.0``), which the specification forbids since
  decimals are precision-aware. It also writes ``Element.id`` as a child ``<id value>`` element
  instead of an attribute, which ``parse_xml`` rightly refuses; that XML is repaired first;
* where fhir.resources read the XML (``model_validate_xml``), the ``id`` of datatypes and
  backbone elements is left out of the comparison: it drops those ``id`` attributes (the
  round-trip tests above check that ``parse_xml`` keeps them).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree
from pydantic import BaseModel

from mappings.fhir.xml import dump_xml, parse_xml
from tests.official.conftest import MAX_EXAMPLE_BYTES, RESOURCE_TYPES, selected_examples

pytestmark = pytest.mark.official

_FHIR_ID = "{http://hl7.org/fhir}id"
_HARDENED = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
    huge_tree=False,
)


def _example(path: Path) -> tuple[type[Any], bytes, dict[str, Any]]:
    raw = path.read_bytes()
    data = json.loads(raw, parse_float=Decimal)
    assert data["resourceType"] in RESOURCE_TYPES
    return get_fhir_model_class(data["resourceType"]), raw, data


def _snapshot(value: Any, *, exact: bool = True, element_ids: bool = True) -> Any:
    """A model as nested plain values; decimals by digits (exact) or by value."""
    if isinstance(value, BaseModel):
        skip_id = not element_ids and not type(value).has_resource_base()
        out = {}
        for name in type(value).model_fields:
            item = getattr(value, name)
            if item is None or name == "fhir_comments" or (skip_id and name == "id"):
                continue
            if name == "div" and isinstance(item, str):
                out[name] = etree.canonicalize(item)
            else:
                out[name] = _snapshot(item, exact=exact, element_ids=element_ids)
        return out
    if isinstance(value, list):
        return [_snapshot(item, exact=exact, element_ids=element_ids) for item in value]
    if isinstance(value, Decimal):
        return ("decimal", str(value if exact else value.normalize()))
    return value


def _repair_element_ids(xml: bytes) -> bytes:
    """Move ``<id value>`` children of datatypes into the ``id`` attribute FHIR XML requires."""
    root = etree.fromstring(xml, parser=_HARDENED)
    for node in list(root.iter(_FHIR_ID)):
        parent = node.getparent()
        assert parent is not None
        if etree.QName(parent).localname[0].isupper():
            continue  # a resource's own id is an element
        parent.set("id", str(node.get("value")))
        parent.remove(node)
    return bytes(etree.tostring(root))


def test_json_round_trips_exactly(official_examples_dir: Path, official_example: Path) -> None:
    """The example's JSON, written by dump_xml and read by parse_xml, is the same resource to the digit."""
    model_class, _, data = _example(official_example)
    expected = model_class.model_validate(data)

    actual = model_class.model_validate(parse_xml(dump_xml(data)))

    assert _snapshot(expected) == _snapshot(actual)


def test_model_dump_round_trips(official_examples_dir: Path, official_example: Path) -> None:
    """An R4B model's JSON dump, written by dump_xml and read by parse_xml, is the same model."""
    model_class, raw, _ = _example(official_example)
    expected = model_class.model_validate_json(raw)

    xml = dump_xml(expected.model_dump(mode="json"), pretty=True)
    actual = model_class.model_validate(parse_xml(xml))

    assert _snapshot(expected) == _snapshot(actual)


def test_reads_fhir_resources_xml(official_examples_dir: Path, official_example: Path) -> None:
    """The XML fhir.resources writes with model_dump_xml reads back through parse_xml alike."""
    model_class, raw, _ = _example(official_example)
    expected = model_class.model_validate_json(raw)

    xml = _repair_element_ids(expected.model_dump_xml())
    actual = model_class.model_validate(parse_xml(xml))

    assert _snapshot(expected, exact=False) == _snapshot(actual, exact=False)


def test_fhir_resources_reads_dump_xml_alike(official_examples_dir: Path, official_example: Path) -> None:
    """fhir.resources' model_validate_xml reads dump_xml's output exactly as parse_xml does."""
    model_class, _, data = _example(official_example)
    xml = dump_xml(data)

    expected = model_class.model_validate_xml(xml, xmlparser=_HARDENED)
    actual = model_class.model_validate(parse_xml(xml))

    assert _snapshot(expected, element_ids=False) == _snapshot(actual, element_ids=False)


def test_selection_covers_every_resource_type(official_examples_dir: Path) -> None:
    """Every resource type in scope has examples; only the multi-megabyte definition Bundles are left out."""
    selected = selected_examples(official_examples_dir)
    types = {json.loads(path.read_bytes())["resourceType"] for path in selected}
    left_out = sorted(
        path.name
        for path in official_examples_dir.glob("*.json")
        if path.name.split("-")[0] in RESOURCE_TYPES and path.stat().st_size > MAX_EXAMPLE_BYTES
    )

    assert types == RESOURCE_TYPES
    assert len(selected) >= 100
    assert all(name.startswith("Bundle-") for name in left_out)
    assert len(left_out) == 10
