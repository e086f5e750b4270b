"""Rows stored before intake refused them may hold characters XML 1.0 cannot carry (a control
character from a ``\\u0001`` escape, U+FFFE, U+FFFF, a lone surrogate). Every XML answer made
from such a row is a 200 with U+FFFD in the character's place, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.errors import Issue, ParseError
from adapter.service import Answer, SearchPage
from mappings.fhir.jsonio import loads
from mappings.fhir.xml import REPLACEMENT, parse_xml
from tests.api.conftest import NOW, READER, WRITER, Api, claim_response, submission, submission_json

XML = {"Authorization": READER, "Accept": "application/fhir+xml"}
CHARACTERS = ["\u0000", "\u0001", "\u001f", "\ufffe", "\uffff", "\ud800"]


def _with(character: str) -> dict[str, Any]:
    resource = claim_response()
    resource["insurer"]["display"] = f"CPAM{character} (synthetic)"
    return resource


@pytest.mark.parametrize("character", CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_stored_json_claim_reads_as_xml(api: Api, character: str) -> None:
    # As the service reads a stored JSON body with the character escaped in it.
    escaped = f"\\u{ord(character):04x}".encode()
    bundle = loads(submission_json().replace(b'"collection"', b'"coll' + escaped + b'ection"', 1))
    api.service.bundles["c1"] = Answer(resource=bundle, json=b"", version=1, last_updated=NOW)

    response = api.client.get("/Bundle/c1", headers=XML)

    assert response.status_code == 200
    assert parse_xml(response.content)["type"] == f"coll{REPLACEMENT}ection"
    assert parse_xml(response.content)["entry"] == submission()["entry"]


@pytest.mark.parametrize("character", CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_stored_claim_response_reads_as_xml(api: Api, character: str) -> None:
    # No JSON bytes: a lone surrogate has no UTF-8 form, so the XML is made from the resource.
    api.service.responses["cr-amo-1"] = Answer(
        resource=_with(character), json=b"", replayed=False, outcome=None
    )

    response = api.client.get("/ClaimResponse/cr-amo-1", headers=XML)

    assert response.status_code == 200
    assert parse_xml(response.content)["insurer"]["display"] == f"CPAM{REPLACEMENT} (synthetic)"


def test_search_page_reads_as_xml(api: Api) -> None:
    api.service.page = SearchPage(
        resources=[_with("\u0002"), _with("\udfff")], total=2, next_offset=None, previous_offset=None
    )

    response = api.client.get("/ClaimResponse", headers=XML)

    assert response.status_code == 200
    entries = parse_xml(response.content)["entry"]
    assert [e["resource"]["insurer"]["display"] for e in entries] == [f"CPAM{REPLACEMENT} (synthetic)"] * 2


def test_an_error_quoting_a_control_character_is_written_in_xml(api: Api) -> None:
    """An issue's message or expression never makes its OperationOutcome unwritable."""
    api.service.error = ParseError([Issue("element-unknown", "key 'a\u0000b' is unknown", "Bundle.a\u0000b")])

    response = api.client.post(
        "/Claim/$submit",
        content=b"<Bundle/>",
        headers={"Authorization": WRITER, "Content-Type": "application/fhir+xml"},
    )

    assert response.status_code == 400
    issue = parse_xml(response.content)["issue"][0]
    assert issue["expression"] == [f"Bundle.a{REPLACEMENT}b"]
