"""``adapter eligibility PATH…`` and ``adapter validate`` on a lone DeviceRequest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from adapter.cli import app
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from tests.support.eligibility import ELIGIBILITY, eligibility_bundle, lone_prescription

runner = CliRunner()
NOW = "2026-12-01T10:00:00+01:00"


def _write(tmp_path: Path, name: str, resource: dict[str, Any], *, xml: bool = False) -> Path:
    path = tmp_path / f"{name}.{'xml' if xml else 'json'}"
    path.write_bytes(dump_xml(resource) if xml else jsonio.dumps(resource))
    return path


def test_the_card_gives_each_payers_answer(tmp_path: Path) -> None:
    path = _write(tmp_path, "q", eligibility_bundle(ELIGIBILITY["01-standard-benefits"]))
    result = runner.invoke(app, ["eligibility", str(path), "--now", NOW])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "AMO 011751234: rights open on 2026-03-02; taux 60 % (general case)",
        "  9900001: BR €100.00, AMO €60.00, reste à charge €90.00, accord préalable not needed",
        "Mutuelle MUTEX00001: rights open on 2026-03-02",
        "  9900001: BR €100.00, Mutuelle €90.00, reste à charge €0.00",
    ]


def test_json_is_the_answer_bundle_and_xml_input_reads_the_same(tmp_path: Path) -> None:
    resource = eligibility_bundle(ELIGIBILITY["04-accord-prealable"])
    answers = []
    for xml in (False, True):
        path = _write(tmp_path, f"q{xml}", resource, xml=xml)
        result = runner.invoke(app, ["eligibility", str(path), "--format", "json", "--now", NOW])
        assert result.exit_code == 0, result.output
        answers.append(json.loads(result.stdout))
    assert answers[0] == answers[1]
    Bundle.model_validate(answers[0])
    assert [e["resource"]["resourceType"] for e in answers[0]["entry"]] == ["CoverageEligibilityResponse"] * 2


def test_a_refused_question_is_one_verdict_and_exit_1(tmp_path: Path) -> None:
    broken = eligibility_bundle(ELIGIBILITY["01-standard-benefits"])
    broken["entry"][0]["resource"]["insurance"][0]["focal"] = False
    path = _write(tmp_path, "broken", broken)
    result = runner.invoke(app, ["eligibility", str(path), "--now", NOW])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: invalid (422)",
        "  error: [eligibility-insurance] at Bundle.entry[0].resource.insurance[0].focal: "
        "the AMO coverage (first) is focal; the AMC coverage (second) is not",
    ]


def test_bad_now_and_unreadable_file_are_one_line_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "q", eligibility_bundle(ELIGIBILITY["01-standard-benefits"]))
    result = runner.invoke(app, ["eligibility", str(path), "--now", "yesterday"])
    assert result.exit_code == 2
    assert result.stderr == "adapter eligibility: error: --now 'yesterday' is not an ISO 8601 date-time\n"
    missing = runner.invoke(app, ["eligibility", str(tmp_path / "none.json")])
    assert missing.exit_code == 2
    assert "Traceback" not in missing.output


def test_validate_checks_a_lone_prescription(tmp_path: Path) -> None:
    fine = _write(tmp_path, "fine", lone_prescription("15-accord-prealable", coverage=True))
    result = runner.invoke(app, ["validate", str(fine)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"{fine}: valid",
        "  warning: [entente-prealable-required] at DeviceRequest.codeCodeableConcept: LPP code 9900501 "
        "needs an accord préalable: fill in the demande d'entente préalable with the prescription",
    ]
    wrong = lone_prescription("01-purchase-standard")
    wrong["codeCodeableConcept"]["coding"][0]["code"] = "9999999"
    path = _write(tmp_path, "wrong", wrong, xml=True)
    refused = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert refused.exit_code == 1
    outcome = json.loads(refused.stdout)
    assert [i["details"]["coding"][0]["code"] for i in outcome["issue"] if i["severity"] == "error"] == [
        "lpp-code-unknown"
    ]
