"""Device status lookup: ChargeItemDefinition search and read, CodeSystem/$lookup."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.chargeitemdefinition import ChargeItemDefinition
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters

from mappings import systems
from mappings.fhir.xml import parse_xml
from tests.api.conftest import READER, WRITER, Api, outcome_codes

AUTH = {"Authorization": READER}
LPP = systems.Canon().lpp


def _parameters(body: dict[str, Any]) -> dict[str, Any]:
    """``$lookup`` answer → {name: value} of its top-level values and properties."""
    out: dict[str, Any] = {}
    for parameter in body["parameter"]:
        if parameter["name"] == "property":
            code, value = parameter["part"]
            out[code["valueCode"]] = next(v for k, v in value.items() if k.startswith("value"))
        else:
            out[parameter["name"]] = next(v for k, v in parameter.items() if k.startswith("value"))
    return out


def test_search_finds_the_row_in_force_on_the_date(api: Api) -> None:
    """9900001 changed its tarif on 1/1/2023: the date picks the row, a valid R4 ChargeItemDefinition."""
    old = api.client.get("/ChargeItemDefinition?code=9900001&date=2022-06-15", headers=AUTH)
    new = api.client.get("/ChargeItemDefinition?code=9900001&date=2023-06-15", headers=AUTH)

    assert old.status_code == new.status_code == 200
    Bundle.model_validate(old.json())
    assert old.json()["type"] == "searchset"
    assert old.json()["total"] == 1
    before = old.json()["entry"][0]["resource"]
    after = new.json()["entry"][0]["resource"]
    ChargeItemDefinition.model_validate(before)
    assert before["id"] == "lpp-9900001-2020-01-01"
    assert before["effectivePeriod"] == {"start": "2020-01-01", "end": "2022-12-31"}
    assert before["propertyGroup"][0]["priceComponent"][0]["amount"] == {"value": 90.0, "currency": "EUR"}
    assert after["id"] == "lpp-9900001-2023-01-01"
    assert after["propertyGroup"][0]["priceComponent"][0]["type"] == "base"
    assert old.json()["entry"][0]["fullUrl"].endswith("/ChargeItemDefinition/lpp-9900001-2020-01-01")


def test_search_defaults_to_today_from_the_clock(api: Api) -> None:
    """No date: today in Paris from the injected clock (2026-03-02)."""
    response = api.client.get("/ChargeItemDefinition?code=9900001", headers=AUTH)

    assert response.json()["entry"][0]["resource"]["id"] == "lpp-9900001-2023-01-01"
    assert ("device_status", {"code": "9900001", "day": date(2026, 3, 2)}) in api.service.calls


def test_search_shows_plv_cap_conditions_and_french_then_english(api: Api) -> None:
    """An adult hearing aid: BR 400, PLV 950 as an informational cap, its conditions machine-readable."""
    body = api.client.get("/ChargeItemDefinition?code=9900101&date=2024-01-01", headers=AUTH).json()
    resource = body["entry"][0]["resource"]

    components = resource["propertyGroup"][0]["priceComponent"]
    assert [(c["type"], c["code"]["coding"][0]["code"], c["amount"]["value"]) for c in components] == [
        ("base", "br", 400.0),
        ("informational", "plv", 950.0),
    ]
    assert all(a["language"] == "text/fhirpath" and a["expression"] for a in resource["applicability"])
    french, english = resource["description"].split("\n\n")
    assert french.startswith("LPP 9900101 : ")
    assert "Tarif (BR) : 400.00 €" in french
    assert english.startswith("LPP 9900101: ")
    assert "PLV (price cap): 950.00 €" in english


def test_a_deactivated_generic_line_is_found_and_retired(api: Api) -> None:
    """A generic line deactivated on 1/7/2021 is still the row in force, marked retired."""
    body = api.client.get("/ChargeItemDefinition?code=1101720&date=2022-01-01", headers=AUTH).json()
    resource = body["entry"][0]["resource"]

    assert resource["status"] == "retired"
    assert {"url": systems.Canon().lpp_attribute("deactivated"), "valueBoolean": True} in resource[
        "extension"
    ]
    assert any(a["expression"] == "%servicedDate < @2021-07-01" for a in resource["applicability"])


def test_unknown_code_is_an_empty_searchset(api: Api) -> None:
    response = api.client.get("/ChargeItemDefinition?code=1234567", headers=AUTH)
    before = api.client.get("/ChargeItemDefinition?code=9900001&date=2019-12-31", headers=AUTH)

    assert response.status_code == before.status_code == 200
    assert response.json()["total"] == before.json()["total"] == 0
    assert "entry" not in response.json()


def test_malformed_code_or_date_is_a_400_naming_the_parameter(api: Api) -> None:
    code = api.client.get("/ChargeItemDefinition?code=12345", headers=AUTH)
    day = api.client.get("/ChargeItemDefinition?code=9900001&date=2026-02-30", headers=AUTH)
    missing = api.client.get("/ChargeItemDefinition", headers=AUTH)
    unknown = api.client.get("/ChargeItemDefinition?code=9900001&status=active", headers=AUTH)

    assert [r.status_code for r in (code, day, missing, unknown)] == [400, 400, 400, 400]
    OperationOutcome.model_validate(code.json())
    assert outcome_codes(code.json()) == ["lpp-code-format"]
    assert code.json()["issue"][0]["details"]["text"].startswith("code ")
    assert outcome_codes(day.json()) == ["date-invalid"]
    assert day.json()["issue"][0]["details"]["text"].startswith("date ")
    assert outcome_codes(missing.json()) == ["search-parameter"]
    assert "status" in unknown.json()["issue"][0]["details"]["text"]


def test_read_by_id_and_404(api: Api) -> None:
    found = api.client.get("/ChargeItemDefinition/lpp-9900001-2020-01-01", headers=AUTH)
    unknown = api.client.get("/ChargeItemDefinition/lpp-9900001-2021-01-01", headers=AUTH)
    garbage = api.client.get("/ChargeItemDefinition/whatever", headers=AUTH)

    assert found.status_code == 200
    ChargeItemDefinition.model_validate(found.json())
    assert found.json()["effectivePeriod"]["end"] == "2022-12-31"
    assert (unknown.status_code, garbage.status_code) == (404, 404)
    assert outcome_codes(unknown.json()) == ["not-found"]


def test_read_in_xml(api: Api) -> None:
    response = api.client.get("/ChargeItemDefinition/lpp-9900101-2021-01-01?_format=xml", headers=AUTH)

    assert response.headers["content-type"].startswith("application/fhir+xml")
    assert parse_xml(response.content)["resourceType"] == "ChargeItemDefinition"


def test_etag_last_modified_and_304(api: Api) -> None:
    """The validators come from the table: same answer, same ETag; If-None-Match gives a 304."""
    url = "/ChargeItemDefinition?code=9900001"
    first = api.client.get(url, headers=AUTH)
    etag = first.headers["etag"]

    again = api.client.get(url, headers={**AUTH, "If-None-Match": etag})
    other = api.client.get("/ChargeItemDefinition?code=9900101", headers=AUTH)
    stale = api.client.get(url, headers={**AUTH, "If-None-Match": 'W/"old"'})

    assert etag.startswith('W/"')
    # The demo table's newest valid_from (2026-07-01, a rental's new tariff) is after the
    # clock's day, 2 March 2026: Last-Modified never lies in the future.
    assert first.headers["last-modified"] == "Mon, 02 Mar 2026 00:00:00 GMT"
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert other.headers["etag"] != etag
    assert stale.status_code == 200


def test_lookup_answers_parameters(api: Api) -> None:
    response = api.client.get(f"/CodeSystem/$lookup?system={LPP}&code=9900101&date=2024-01-01", headers=AUTH)

    assert response.status_code == 200
    Parameters.model_validate(response.json())
    values = _parameters(response.json())
    assert values["name"] == "LPP"
    assert values["display"] == "Aide auditive classe I, adulte, par oreille (demo code)"
    assert (values["tarif"], values["plv"], values["validFrom"]) == (400.0, 950.0, "2021-01-01")
    assert values["deactivated"] is False
    assert "etag" in response.headers


def test_lookup_unknown_code_is_404_and_wrong_system_400(api: Api) -> None:
    unknown = api.client.get(f"/CodeSystem/$lookup?system={LPP}&code=1234567", headers=AUTH)
    wrong = api.client.get("/CodeSystem/$lookup?system=http://loinc.org&code=9900101", headers=AUTH)
    malformed = api.client.get(f"/CodeSystem/$lookup?system={LPP}&code=abc", headers=AUTH)

    assert unknown.status_code == 404
    assert outcome_codes(unknown.json()) == ["lpp-code-unknown"]
    assert wrong.status_code == 400
    assert outcome_codes(wrong.json()) == ["search-parameter"]
    assert "system" in wrong.json()["issue"][0]["details"]["text"]
    assert (malformed.status_code, outcome_codes(malformed.json())) == (400, ["lpp-code-format"])


def test_lookups_need_a_token_but_any_read_token_will_do(api: Api) -> None:
    urls = (
        "/ChargeItemDefinition?code=9900001",
        "/ChargeItemDefinition/lpp-9900001-2023-01-01",
        f"/CodeSystem/$lookup?system={LPP}&code=9900001",
    )
    for url in urls:
        assert api.client.get(url).status_code == 401
        assert api.client.get(url, headers={"Authorization": WRITER}).status_code == 200
        assert api.client.get(url, headers=AUTH).status_code == 200
