"""The command line: validate, convert, map and dev-token, with their exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.auth import authenticator_from_settings
from adapter.cli import app
from adapter.settings import Settings
from mappings.fhir import jsonio
from mappings.fhir.xml import parse_xml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID = FIXTURES / "valid" / "01-purchase-standard.json"
VALID_XML = FIXTURES / "valid" / "01-purchase-standard.xml"
BAD_NIR = FIXTURES / "invalid" / "24-nir-key.json"
runner = CliRunner()


def test_validate_text_reports_valid_and_invalid_files() -> None:
    """A valid and an invalid file: exit 1, one verdict each, the issue with its FHIRPath."""
    result = runner.invoke(app, ["validate", str(VALID), str(VALID_XML), str(BAD_NIR)])

    assert result.exit_code == 1
    assert f"{VALID}: valid" in result.output
    assert f"{VALID_XML}: valid" in result.output
    assert f"{BAD_NIR}: invalid (422)" in result.output
    assert "[nir-key] at Bundle.entry[1].resource.identifier[0].value" in result.output


def test_validate_exit_zero_when_all_valid() -> None:
    """Only valid files: exit 0."""
    assert runner.invoke(app, ["validate", str(VALID)]).exit_code == 0


def test_validate_json_prints_operation_outcomes() -> None:
    """--format json prints one OperationOutcome per file, all-OK for a valid one; with several
    files, each on a JSON line that names its file and status."""
    result = runner.invoke(app, ["validate", "--format", "json", str(BAD_NIR), str(VALID)])
    lines = [json.loads(line) for line in result.output.splitlines()]
    outcomes = [line["resource"] for line in lines]

    assert result.exit_code == 1
    assert [(line["file"], line["status"]) for line in lines] == [(str(BAD_NIR), 422), (str(VALID), 200)]
    assert outcomes[0]["issue"][0]["details"]["coding"][0]["code"] == "nir-key"
    assert outcomes[0]["issue"][0]["expression"] == ["Bundle.entry[1].resource.identifier[0].value"]
    assert outcomes[1]["issue"][0]["severity"] == "information"


def test_validate_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    """A missing file exits 2, as do bad options."""
    assert runner.invoke(app, ["validate", str(tmp_path / "missing.json")]).exit_code == 2
    assert runner.invoke(app, ["validate", "--format", "yaml", str(VALID)]).exit_code == 2


def test_convert_json_to_xml_and_back(tmp_path: Path) -> None:
    """JSON → XML (to a file) → JSON gives the same resource, decimals intact."""
    xml_path = tmp_path / "bundle.xml"
    assert runner.invoke(app, ["convert", str(VALID), "--to", "xml", "-o", str(xml_path)]).exit_code == 0
    back = runner.invoke(app, ["convert", str(xml_path), "--to", "json"])

    assert back.exit_code == 0
    assert jsonio.loads(back.output) == jsonio.loads(VALID.read_bytes())
    assert parse_xml(xml_path.read_bytes()) == jsonio.loads(VALID.read_bytes())
    assert "150.00" in back.output


def test_convert_refuses_invalid_fhir() -> None:
    """A resource that is not valid R4 is not converted: exit 1 and the issues on stderr."""
    result = runner.invoke(
        app, ["convert", str(FIXTURES / "invalid" / "09-element-unknown.json"), "--to", "xml"]
    )

    assert result.exit_code == 1
    assert "element-unknown" in result.output


def test_map_prints_the_internal_request() -> None:
    """``map`` prints the request as JSON: money as two-decimal strings, codes as values."""
    result = runner.invoke(app, ["map", str(VALID)])
    request = json.loads(result.output)

    assert result.exit_code == 0
    assert request["lines"][0]["unit_price"] == "150.00"
    assert request["amo"]["nature"] == "10"
    assert request["use"] == "claim"


def test_map_refuses_an_invalid_bundle() -> None:
    """``map`` on an invalid Bundle exits 1 with the issue."""
    result = runner.invoke(app, ["map", str(BAD_NIR)])

    assert result.exit_code == 1
    assert "nir-key" in result.output


def test_dev_token_mints_a_verifiable_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``dev-token`` prints a JWT signed by the development key under the data directory."""
    monkeypatch.setenv("ADAPTER_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["dev-token", "--client-id", "hospital-a", "--scope", "system/Claim.write"])
    token = result.stdout.strip()

    principal = authenticator_from_settings(Settings(data_dir=tmp_path)).principal(
        f"Bearer {token}", now=datetime.now(UTC)
    )

    assert result.exit_code == 0
    assert principal.client_id == "hospital-a"
    assert principal.scopes == frozenset({"system/Claim.write"})


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_serve_refuses_a_port_out_of_range(port: str) -> None:
    """A usage error (exit 2) naming the option, not a traceback from bind()."""
    result = runner.invoke(app, ["serve", "--port", port, "--workers", "2"])
    assert result.exit_code == 2
    assert "--port" in result.output
