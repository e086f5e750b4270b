"""What JSON allows and FHIR does not: keys given twice, characters XML cannot hold; and the
cap on the issues of one answer.

A duplicate key used to be read silently, the last value winning. A ``\\u0000`` escape used to
be read into a string and stored; every XML read of that row then failed with a 500. 50,000
unknown keys used to give 50,000 issues (13.5 MB).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from adapter.bootstrap import build_app
from adapter.errors import MAX_ISSUES, ConventionError, Issue, ParseError
from adapter.intake import Format, read_submission
from adapter.settings import Settings
from mappings.fhir import jsonio
from tests.strategies_input import BAD_CHARACTERS, to_json

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "valid" / "01-purchase-standard.json"


def _bundle() -> dict[str, Any]:
    return dict(jsonio.loads(FIXTURE.read_bytes()))


def _text(bundle: dict[str, Any]) -> str:
    """Compact JSON text with every non-ASCII character escaped (so a lone surrogate can be written)."""
    return to_json(bundle)


def _patient_index(bundle: dict[str, Any]) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Patient")


def _refusal(data: bytes | str) -> list[Issue]:
    with pytest.raises(ParseError) as refused:
        read_submission(data.encode() if isinstance(data, str) else data, Format.JSON)
    return list(refused.value.issues)


def test_a_key_given_twice_is_refused_with_its_fhirpath() -> None:
    text = _text(_bundle()).replace('"type":"collection"', '"type":"collection", "type":"collection"', 1)

    assert [(i.code, i.expression) for i in _refusal(text)] == [("element-invalid", "Bundle.type")]


def test_every_key_given_twice_is_reported_where_it_is() -> None:
    """Nested objects, a primitive's ``_name`` object, with the same or another value."""
    bundle = _bundle()
    patient = _patient_index(bundle)
    text = _text(bundle)
    text = text.replace('"resourceType":"Patient"', '"resourceType":"Patient", "gender":"male"', 1)
    text = text.replace('"gender":"male"', '"gender":"male", "gender":"female"', 1)
    text = text.replace('"type":"collection"', '"_type":{"id":"a","id":"b"}, "type":"collection"', 1)

    issues = _refusal(text)

    assert sorted((i.code, i.expression) for i in issues) == [
        ("element-invalid", f"Bundle.entry[{patient}].resource.gender"),
        ("element-invalid", "Bundle.type.id"),
    ]
    assert all("given more than once" in issue.message for issue in issues)


@pytest.mark.parametrize("point", [ord(c) for c in BAD_CHARACTERS], ids=lambda p: f"U+{p:04X}")
def test_a_character_xml_cannot_hold_is_refused_with_its_fhirpath(point: int) -> None:
    bundle = _bundle()
    patient = _patient_index(bundle)
    bundle["entry"][patient]["resource"]["name"][0]["family"] = f"Du{chr(point)}pont"

    issues = _refusal(_text(bundle))

    assert [(i.code, i.expression) for i in issues] == [
        ("element-invalid", f"Bundle.entry[{patient}].resource.name[0].family")
    ]
    assert f"U+{point:04X}" in issues[0].message


def test_an_unescaped_noncharacter_is_refused_too() -> None:
    """U+FFFE and U+FFFF may stand unescaped in JSON text; FHIR strings still cannot hold them."""
    text = FIXTURE.read_text(encoding="utf-8").replace('"collection"', '"collection\uffff"', 1)

    assert [(i.code, i.expression) for i in _refusal(text)] == [("element-invalid", "Bundle.type")]


def test_a_key_holding_a_control_character_names_its_object() -> None:
    text = _text(_bundle()).replace('"type":"collection"', '"ty\\u0001pe":"x", "type":"collection"', 1)

    assert [(i.code, i.expression) for i in _refusal(text)] == [("element-invalid", "Bundle")]


def test_what_fhir_strings_may_hold_is_accepted() -> None:
    """Tab, LF and CR escapes, a surrogate pair, and an escaped backslash before ``u0000``."""
    bundle = _bundle()
    patient = _patient_index(bundle)
    bundle["entry"][patient]["resource"]["name"][0]["text"] = "a\tb\nc\rd \U0001f600 \\u0000"

    submission = read_submission(_text(bundle).encode(), Format.JSON)

    assert submission.bundle["entry"][patient]["resource"]["name"][0]["text"] == (
        "a\tb\nc\rd \U0001f600 \\u0000"
    )


def test_sixty_thousand_keys_given_twice_cost_linear_time() -> None:
    """Each repeated key was once looked up in a list of the object's repeated keys."""
    pairs = ",".join(f'"k{n}":1,"k{n}":2' for n in range(60_000))

    start = time.thread_time()
    issues = _refusal('{"resourceType":"Bundle",' + pairs + "}")

    assert time.thread_time() - start < 2.0
    assert len(issues) == MAX_ISSUES
    assert issues[-1].message.startswith("59901 more issues")


def test_refused_characters_deep_down_cost_linear_time() -> None:
    """200,000 refused strings 900 objects deep: each location was once built for every string."""
    strings = "[" + ",".join(['"\\u0000"'] * 200_000) + "]"
    text = '{"resourceType":"Bundle","a":' + '{"b":' * 900 + strings + "}" * 900 + "}"

    start = time.thread_time()
    issues = _refusal(text)

    assert time.thread_time() - start < 2.0
    assert issues[0].expression == "Bundle.a" + ".b" * 900 + "[0]"
    assert issues[-1].message.startswith("199901 more issues")


def test_fifty_thousand_unknown_keys_give_one_hundred_issues() -> None:
    """The first 99, and one saying how many more there were."""
    bundle = {**_bundle(), **{f"unknown{n}": 1 for n in range(50_000)}}

    issues = _refusal(_text(bundle))

    assert len(issues) == MAX_ISSUES
    assert {i.code for i in issues[:-1]} == {"element-unknown"}
    assert issues[-1].code == "issues-truncated"
    assert issues[-1].message.startswith("49901 more issues")


def test_convention_errors_are_capped_alike() -> None:
    """The cap holds for every input error, 422 included."""
    refused = ConventionError([Issue("date-invalid", f"issue {n}", f"Bundle.x[{n}]") for n in range(250)])

    assert len(refused.issues) == MAX_ISSUES
    assert refused.issues[-1].code == "issues-truncated"
    assert [i.message for i in refused.issues[:2]] == ["issue 0", "issue 1"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = build_app(Settings(data_dir=tmp_path_factory.mktemp("json"), auth="disabled", log_level="ERROR"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_fifty_thousand_unknown_keys_answer_small_and_fast(client: TestClient) -> None:
    data = _text({**_bundle(), **{f"unknown{n}": 1 for n in range(50_000)}}).encode()

    start = time.process_time()
    response = client.post("/Claim/$submit", content=data, headers={"Content-Type": "application/fhir+json"})

    assert response.status_code == 400
    assert len(response.json()["issue"]) == MAX_ISSUES
    assert len(response.content) < 40_000
    assert time.process_time() - start < 5.0


@pytest.mark.parametrize("accept", ["application/fhir+json", "application/fhir+xml"])
def test_a_control_character_is_refused_over_http_in_either_format(client: TestClient, accept: str) -> None:
    """Refused at intake, so never stored; the answer, XML included, is a 400 OperationOutcome."""
    bundle = _bundle()
    bundle["identifier"]["value"] = f"control-{accept}"
    bundle["entry"][_patient_index(bundle)]["resource"]["name"][0]["family"] = "Du\u0000pont"

    response = client.post(
        "/Claim/$submit",
        content=_text(bundle).encode(),
        headers={"Content-Type": "application/fhir+json", "Accept": accept},
    )

    assert response.status_code == 400
    assert b"element-invalid" in response.content
    assert b"name[0].family" in response.content
