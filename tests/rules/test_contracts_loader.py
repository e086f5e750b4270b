"""Loading the AMC contract catalogue (YAML or JSON), and errors naming file, line and key path."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapter.domain import LppCode, Money
from adapter.rules import GuaranteeKind, ReferenceDataFormatError, load_contracts, parse_contracts

VALID = """\
version: 1
contracts:
  - id: PLAN-A
    label: Plan A
    responsable: true
    guarantees:
      - id: devices
        default: true
        kind: percent-br-incl-amo
        percent: 150
"""


def error_for(text: str) -> ReferenceDataFormatError:
    with pytest.raises(ReferenceDataFormatError) as caught:
        parse_contracts(text, source="plans.yaml")
    return caught.value


def test_demo_catalogue_has_at_least_six_contracts() -> None:
    """The packaged demo catalogue loads by default with at least six contracts, responsable or not."""
    catalogue = load_contracts()

    assert catalogue.source == "contracts-demo.yaml"
    assert len(catalogue) >= 6
    assert {c.responsable for c in catalogue} == {True, False}
    kinds = {g.kind for c in catalogue for g in c.guarantees}
    assert kinds == set(GuaranteeKind)


def test_guarantees_are_matched_by_code_then_category_then_default() -> None:
    """A code-specific guarantee beats a category one, which beats the default."""
    frais_reels = load_contracts().get("DEMO-FRAIS-REELS")
    resp = load_contracts().get("DEMO-RESP-150")

    assert frais_reels is not None
    assert resp is not None
    assert frais_reels.guarantee_for(LppCode("9900501"), "wheelchair").id == "wheelchairs"  # type: ignore[union-attr]
    assert resp.guarantee_for(LppCode("9900103"), "hearing-aid").id == "hearing-aids"  # type: ignore[union-attr]
    assert resp.guarantee_for(LppCode("9900001"), "demo-device").id == "devices"  # type: ignore[union-attr]


def test_numbers_are_read_as_exact_decimals() -> None:
    """Percentages and amounts come from their text, never through float."""
    text = VALID.replace("percent: 150", "percent: 112.5\n        supplement_per_unit: 0.10")

    guarantee = next(iter(parse_contracts(text, source="plans.yaml"))).guarantees[0]

    assert guarantee.percent == Decimal("112.5")
    assert guarantee.supplement_per_unit == Money.of("0.10")


def test_json_catalogue_is_accepted(tmp_path: Path) -> None:
    """A JSON file (ADAPTER_AMC_CONTRACTS) loads like YAML."""
    path = tmp_path / "plans.json"
    document = {
        "version": 1,
        "contracts": [
            {
                "id": "PLAN-J",
                "label": "Plan J",
                "responsable": False,
                "guarantees": [
                    {"id": "g", "codes": ["9900001"], "kind": "forfait", "forfait_per_year": 80.5}
                ],
            }
        ],
    }
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")

    catalogue = load_contracts(path)

    plan = catalogue.get("PLAN-J")
    assert plan is not None
    assert plan.guarantees[0].forfait_per_year == Money.of("80.50")
    assert catalogue.source == str(path)


def test_json_error_names_the_file_and_line(tmp_path: Path) -> None:
    """An error in a JSON file gives the file, the line and the key path."""
    path = tmp_path / "plans.json"
    path.write_text('{\n  "version": 1,\n  "contracts": [\n    {"id": "X"}\n  ]\n}\n', encoding="utf-8")

    with pytest.raises(ReferenceDataFormatError) as caught:
        load_contracts(path)

    assert (caught.value.source, caught.value.line, caught.value.column) == (
        str(path),
        4,
        "contracts[0].label",
    )


CASES = [
    ("malformed YAML", VALID.replace("guarantees:", "guarantees: [", 1), 7, None, "node content"),
    ("empty file", "", 1, None, "empty"),
    ("wrong version", VALID.replace("version: 1", "version: 2"), 1, "version", "version 1"),
    (
        "unknown key",
        VALID.replace("label: Plan A", "label: Plan A\n    colour: blue"),
        5,
        "contracts[0].colour",
        "unknown key",
    ),
    (
        "repeated key",
        VALID.replace("label: Plan A", "label: Plan A\n    label: Plan B"),
        5,
        "contracts[0].label",
        "twice",
    ),
    (
        "missing key",
        VALID.replace("    label: Plan A\n", ""),
        3,
        "contracts[0].label",
        "required key missing",
    ),
    (
        "not a boolean",
        VALID.replace("responsable: true", "responsable: sometimes"),
        5,
        "contracts[0].responsable",
        "true or false",
    ),
    (
        "unknown kind",
        VALID.replace("percent-br-incl-amo", "percent-of-nothing"),
        9,
        "contracts[0].guarantees[0].kind",
        "not a guarantee kind",
    ),
    (
        "percent missing",
        VALID.replace("        percent: 150\n", ""),
        7,
        "contracts[0].guarantees[0].percent",
        "required for",
    ),
    (
        "percent on frais reels",
        VALID.replace("percent-br-incl-amo", "frais-reels"),
        10,
        "contracts[0].guarantees[0].percent",
        "only for",
    ),
    (
        "quoted number",
        VALID.replace("percent: 150", 'percent: "150"'),
        10,
        "contracts[0].guarantees[0].percent",
        "expected a non-negative percentage",
    ),
    (
        "negative number",
        VALID.replace("percent: 150", "percent: -5"),
        10,
        "contracts[0].guarantees[0].percent",
        "non-negative",
    ),
    (
        "three decimals",
        VALID.replace("percent: 150", "percent: 150\n        max_per_unit: 1.005"),
        11,
        "contracts[0].guarantees[0].max_per_unit",
        "2 decimals",
    ),
    (
        "no match",
        VALID.replace("        default: true\n", ""),
        7,
        "contracts[0].guarantees[0]",
        "needs 'codes'",
    ),
    (
        "bad code",
        VALID.replace("default: true", "codes: [12345]"),
        8,
        "contracts[0].guarantees[0].codes[0]",
        "not an LPP code",
    ),
    (
        "renewal units alone",
        VALID.replace("percent: 150", "percent: 150\n        renewal_units: 2"),
        11,
        "contracts[0].guarantees[0].renewal_units",
        "needs renewal_months",
    ),
    ("not a list", "version: 1\ncontracts: 3\n", 2, "contracts", "expected a list"),
]


@pytest.mark.parametrize(
    ("text", "line", "path", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_catalogue_names_file_line_and_key(
    text: str, line: int, path: str | None, problem: str
) -> None:
    """Each malformed catalogue is refused with the file, the line and the key path at fault."""
    error = error_for(text)

    assert (error.source, error.line, error.column) == ("plans.yaml", line, path)
    assert problem in error.problem
    assert error.position is not None or path is None


def test_forfait_rules() -> None:
    """A forfait needs its yearly amount and takes no per-unit supplement."""
    forfait = VALID.replace("kind: percent-br-incl-amo\n        percent: 150", "kind: forfait")

    missing = error_for(forfait)
    supplement = error_for(forfait + "        forfait_per_year: 100\n        supplement_per_unit: 5\n")

    assert (missing.column, supplement.column) == (
        "contracts[0].guarantees[0].forfait_per_year",
        "contracts[0].guarantees[0].supplement_per_unit",
    )


def test_duplicates_are_refused() -> None:
    """A contract id, a guarantee id, a code, a category or a default given twice is refused."""
    second_contract = VALID + VALID.split("contracts:\n", 1)[1]
    second_default = VALID + "      - id: other\n        default: true\n        kind: frais-reels\n"
    second_category = (
        VALID.replace("default: true", "categories: [optics]")
        + "      - id: other\n        categories: [optics]\n        kind: frais-reels\n"
    )

    assert "appears twice" in error_for(second_contract).problem
    assert "at most one default" in error_for(second_default).problem
    assert "category 'optics' is already covered" in error_for(second_category).problem


def test_empty_catalogue_is_refused() -> None:
    """A catalogue without contracts is refused."""
    assert "no contracts" in error_for("version: 1\ncontracts: []\n").problem


def test_error_message_reads_file_line_key_and_character() -> None:
    """The message reads "file, line n, column 'key' (character c): problem"."""
    error = error_for(VALID.replace("responsable: true", "responsable: sometimes"))

    assert str(error) == (
        "plans.yaml, line 5, column 'contracts[0].responsable' (character 18): expected true or false"
    )
