"""A device's LPP status → ChargeItemDefinition and $lookup Parameters, valid FHIR R4 for every row."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fhir.resources.R4B.chargeitemdefinition import ChargeItemDefinition
from fhir.resources.R4B.parameters import Parameters

from adapter.domain.device import device_status_id, parse_device_status_id
from adapter.rules.lpp import LppEntry
from adapter.rules.lpp_loader import load_lpp_table
from mappings.fhir.jsonio import dumps
from mappings.outbound import to_charge_item_definition, to_lookup_parameters
from mappings.systems import Canon

ROWS = list(load_lpp_table())
CANON = Canon("https://lpp.example/fhir")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.code}-{row.valid_from}")
def test_every_demo_row_maps_to_valid_r4(row: LppEntry) -> None:
    status = row.status(row.valid_from)
    resource = json.loads(dumps(to_charge_item_definition(status, canon=CANON)))
    answer = json.loads(dumps(to_lookup_parameters(status, canon=CANON)))

    ChargeItemDefinition.model_validate(resource)
    Parameters.model_validate(answer)
    assert resource["url"] == f"https://lpp.example/fhir/ChargeItemDefinition/{status.id}"
    assert resource["code"]["coding"][0] == {
        "system": CANON.lpp,
        "code": row.code.value,
        "display": row.label,
    }
    assert resource["propertyGroup"][0]["priceComponent"][0]["type"] == "base"


def test_every_condition_has_a_description_and_an_expression() -> None:
    """A powered wheelchair: entente préalable, one per delivery, renewal every 60 months."""
    row = next(row for row in ROWS if row.code.value == "9900501")
    resource = to_charge_item_definition(row.status(date(2024, 1, 1)), canon=CANON)

    assert [a["expression"] for a in resource["applicability"]] == [
        "%priorApproval = true",
        "%quantity <= 1",
        "%deliveredInRenewalPeriod + %quantity <= 1",
    ]
    assert (
        resource["applicability"][0]["description"] == "entente préalable requise / prior approval required"
    )
    assert "Conditions : entente préalable requise" in resource["description"]


def test_amounts_keep_their_cents_and_the_plv_is_a_cap() -> None:
    row = next(row for row in ROWS if row.code.value == "1356390")
    resource = to_charge_item_definition(row.status(date(2020, 1, 1)), canon=CANON)

    components = resource["propertyGroup"][0]["priceComponent"]
    assert [(c["type"], str(c["amount"]["value"])) for c in components] == [
        ("base", "5.27"),
        ("informational", "5.27"),
    ]
    assert components[1]["code"]["coding"][0] == {
        "system": CANON.lpp_price,
        "code": "plv",
        "display": "Prix limite de vente (PLV)",
    }


def test_deactivation_depends_on_the_day() -> None:
    row = next(row for row in ROWS if row.code.value == "1101720")

    before = to_lookup_parameters(row.status(date(2021, 6, 30)), canon=CANON)
    after = to_charge_item_definition(row.status(date(2021, 7, 1)), canon=CANON)

    deactivated = next(
        p for p in before["parameter"] if "part" in p and p["part"][0].get("valueCode") == "deactivated"
    )
    assert deactivated["part"][1] == {"name": "value", "valueBoolean": False}
    assert after["status"] == "retired"
    assert "Non remboursable le 01/07/2021" in after["description"]


def test_ids_round_trip() -> None:
    assert device_status_id("9900001", date(2023, 1, 1)) == "lpp-9900001-2023-01-01"
    assert parse_device_status_id("lpp-9900001-2023-01-01") == ("9900001", date(2023, 1, 1))
    for wrong in (
        "lpp-99-2023-01-01",
        "cid-9900001-2023-01-01",
        "lpp-9900001-20230101",
        "lpp-9900001-2023-02-30",
    ):
        assert parse_device_status_id(wrong) is None


def _properties(answer: dict[str, object]) -> dict[str, object]:
    found: dict[str, object] = {}
    for parameter in answer["parameter"]:  # type: ignore[attr-defined]
        if parameter["name"] == "property":
            code, value = parameter["part"]
            found[code["valueCode"]] = next(v for k, v in value.items() if k.startswith("value"))
    return found


def _extensions(resource: dict[str, object]) -> dict[str, object]:
    return {
        ext["url"].rsplit("/lpp-", 1)[1]: next(v for k, v in ext.items() if k.startswith("value"))
        for ext in resource["extension"]  # type: ignore[attr-defined]
    }


def test_a_hearing_aid_shows_its_renewal_per_ear() -> None:
    row = next(row for row in ROWS if row.code.value == "9900101")
    status = row.status(date(2026, 3, 2))
    resource = to_charge_item_definition(status, canon=CANON)

    assert "%deliveredToEarInRenewalPeriod + %quantity <= 1" in [
        a["expression"] for a in resource["applicability"]
    ]
    assert "per ear: 1 every 48 months" in resource["description"]
    assert _extensions(resource)["renewal-per-ear"] == 1
    assert _properties(to_lookup_parameters(status, canon=CANON))["renewalPerEar"] == 1


@pytest.mark.parametrize(
    ("code", "extension", "prop", "value", "sentence"),
    [
        ("9900601", "rental-unit", "rentalUnit", "week", "Rental: one unit per week"),
        ("9900713", "optics-class", "opticsClass", "very-complex", "Optics: very complex lens"),
        ("9900801", "usual-quantity", "usualQuantity", 2, "Usual quantity: 2 per line."),
        ("9900612", "pecan", "pecan", "monthly", "PECAN (early digital coverage): monthly forfait."),
    ],
)
def test_the_second_pass_columns_are_shown(
    code: str, extension: str, prop: str, value: object, sentence: str
) -> None:
    row = next(row for row in ROWS if row.code.value == code)
    status = row.status(row.valid_from)
    resource = to_charge_item_definition(status, canon=CANON)

    assert _extensions(resource)[extension] == value
    assert _properties(to_lookup_parameters(status, canon=CANON))[prop] == value
    assert sentence in resource["description"]


def test_a_row_without_the_new_columns_shows_none_of_them() -> None:
    row = next(row for row in ROWS if row.code.value == "9900001" and row.valid_to is None)
    status = row.status(row.valid_from)
    names = set(_extensions(to_charge_item_definition(status, canon=CANON)))
    assert names.isdisjoint({"renewal-per-ear", "rental-unit", "optics-class", "usual-quantity", "pecan"})
