"""The official R4 examples through the adapter's own validation: never a crash, same verdict in XML.

Every selected example (Claim, ClaimResponse, DeviceRequest, Coverage, Patient, Practitioner,
Organization, Bundle) is valid R4, so the structure check finds nothing; run through intake (which
expects a submission Bundle) each gets a 4xx verdict or passes, never an exception, and its XML
form gets exactly the same verdict.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from adapter.cli import app
from adapter.intake import Format, check
from mappings.fhir import jsonio, structure_issues, walk
from mappings.fhir.xml import dump_xml


def test_official_example_validates_without_a_crash(
    official_examples_dir: Path, official_example: Path
) -> None:
    """Structure is clean, intake answers with a status, and XML gets the JSON's verdict."""
    data = official_example.read_bytes()
    resource = jsonio.loads(data)
    walked = walk(resource)
    status, issues = check(data, Format.JSON)
    xml_status, xml_issues = check(dump_xml(resource), Format.XML)

    assert (walked.parse, structure_issues(resource)) == ([], [])
    assert status in (200, 400, 422)
    if resource["resourceType"] != "Bundle":
        assert [i.code for i in issues] == ["resource-type-wrong"]
    assert (xml_status, [(i.code, i.expression) for i in xml_issues]) == (
        status,
        [(i.code, i.expression) for i in issues],
    )


def test_cli_validate_handles_every_official_example(official_examples_dir: Path) -> None:
    """``adapter validate`` over all of them exits 1 (they are not submissions) with one verdict each."""
    from tests.official.conftest import selected_examples

    files = selected_examples(official_examples_dir)
    result = CliRunner().invoke(app, ["validate", *map(str, files)])

    assert result.exit_code == 1, result.output[-2000:]
    verdicts = [line for line in result.output.splitlines() if not line.startswith("  ")]
    assert len(verdicts) == len(files)


def test_the_walk_finds_nothing_wrong_in_any_official_example(official_examples_dir: Path) -> None:
    """Every official R4 example, of every resource type, is FHIR JSON as the walk reads it: no
    primitive of the wrong JSON kind, no null, no empty object or array, no code outside its
    required value set. This guards the walk's own checks (which fhir.resources does not make)
    against false alarms; it found Observation.status "unknown" and Device.udiCarrier.entryType
    "card" refused, whose code lists fhir.resources cuts at R4's "+" ("and more")."""
    flagged: dict[str, list[str]] = {}
    walked_count = 0
    for path in sorted(official_examples_dir.glob("*.json")):
        resource = jsonio.loads(path.read_bytes())
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue  # the package's index files
        walked_count += 1
        walked = walk(resource)
        found = [
            f"{i.code} at {i.expression}"
            for i in [*walked.parse, *walked.codes]
            if i.code != "resource-type-unknown"  # R4 types R4B dropped (MedicinalProduct…)
        ]
        if found:
            flagged[path.name] = found
    assert walked_count > 4000
    assert flagged == {}
