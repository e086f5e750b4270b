"""``adapter lookup CODE``: an LPP code's status as a card or as its ChargeItemDefinition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.chargeitemdefinition import ChargeItemDefinition
from typer.testing import CliRunner

from adapter.cli import app

runner = CliRunner()


def test_card_shows_the_row_in_force_on_the_date() -> None:
    result = runner.invoke(app, ["lookup", "9900001", "--date", "2022-06-15"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "LPP 9900001: Dispositif de démonstration, ancien tarif (demo code)"
    assert lines[1] == "  on 2022-06-15: billable"
    assert "  tarif (BR)        90.00 € per unit" in lines
    assert "  valid             2020-01-01 to 2022-12-31" in lines


def test_card_says_a_deactivated_generic_line_is_not_billable() -> None:
    result = runner.invoke(app, ["lookup", "1101720", "--date", "2022-01-01"])

    assert result.exit_code == 0
    assert "not billable (deactivated generic line)" in result.stdout
    assert "generic, deactivated from 2021-07-01" in result.stdout


def test_json_is_the_charge_item_definition() -> None:
    result = runner.invoke(app, ["lookup", "9900101", "--date", "2024-01-01", "--format", "json"])

    assert result.exit_code == 0
    resource = json.loads(result.stdout)
    ChargeItemDefinition.model_validate(resource)
    assert resource["id"] == "lpp-9900101-2021-01-01"


def test_unknown_code_exits_1_with_one_line() -> None:
    result = runner.invoke(app, ["lookup", "1234567", "--date", "2024-01-01"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "adapter lookup: error: LPP code 1234567 is not in the LPP table on 2024-01-01\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["123"], "CODE '123' is not an LPP code"),
        (["9900101", "--date", "2024-02-30"], "--date '2024-02-30' is not a day"),
        (["9900101", "--date", "20240101"], "--date '20240101' is not a day"),
        (["9900101", "--format", "xml"], "--format"),
    ],
)
def test_malformed_input_exits_2_with_one_line(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["lookup", *arguments])

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr


def test_reads_the_configured_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "lpp.csv"
    table.write_text(
        "code,label,valid_from,tarif,category,kind,source\n"
        "1234567,Test device,2020-01-01,12.00,test,individual,x\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ADAPTER_LPP_TABLE", str(table))

    result = runner.invoke(app, ["lookup", "1234567"])

    assert result.exit_code == 0
    assert result.stdout.startswith("LPP 1234567: Test device\n")


def test_card_shows_the_second_pass_columns_only_where_the_row_has_them() -> None:
    aid = runner.invoke(app, ["lookup", "9900101", "--date", "2026-03-02"]).stdout.splitlines()
    rental = runner.invoke(app, ["lookup", "9900601", "--date", "2026-07-01"]).stdout.splitlines()
    plain = runner.invoke(app, ["lookup", "9900001", "--date", "2026-03-02"]).stdout.splitlines()

    assert "  per ear           1 every 48 months" in aid
    assert "  rental unit       one week, each at its own date's tariff" in rental
    assert not any(line.startswith(("  per ear", "  rental unit", "  PECAN")) for line in plain)
