"""``adapter conformance --junit FILE --html FILE``: a CI server reads the JUnit XML, a person
opens the HTML page (offline) and sees a row per fixture, its verdict and time, and for a
failure the expected and actual values side by side.

The run is the adapter's own service (``--in-process``) on a copy of the kit in which two
expectations were made wrong: a worked example's AMO benefit and an invalid input's issues.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from typer.testing import CliRunner

from adapter.cli import EXIT_REFUSED, app
from adapter.conformance import Kit, planned

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WRONG_AMOUNT = "valid/01-purchase-standard.json"
WRONG_ISSUES = "invalid/24-nir-key.json"
NIR_VALUE = "Bundle.entry[1].resource.identifier[0].value"


@dataclass(frozen=True)
class Run:
    kit: Path
    junit: Path
    html: Path
    report: Path
    exit_code: int
    stdout: str


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("conformance")
    kit = folder / "kit"
    shutil.copytree(FIXTURES, kit)
    amounts_path = kit / "valid" / "01-purchase-standard.expected.meta.json"
    amounts = json.loads(amounts_path.read_text())
    amounts["amo"]["benefit"] = "61.00"
    amounts_path.write_text(json.dumps(amounts))
    issues_path = kit / "invalid" / "24-nir-key.expected.json"
    issues = json.loads(issues_path.read_text())
    issues["issues"].append({"code": "nir-format", "expression": NIR_VALUE})
    issues_path.write_text(json.dumps(issues))
    run = Run(kit, folder / "junit.xml", folder / "report.html", folder / "report.json", 0, "")
    result = CliRunner().invoke(
        app,
        [
            "conformance",
            "--in-process",
            "--fixtures",
            str(kit),
            "--junit",
            str(run.junit),
            "--html",
            str(run.html),
            "--report",
            str(run.report),
        ],
    )
    return Run(kit, run.junit, run.html, run.report, result.exit_code, result.stdout)


def test_the_run_fails_on_exactly_the_two_broken_expectations(failing_run: Run) -> None:
    verdicts = json.loads(failing_run.report.read_text())
    assert failing_run.exit_code == EXIT_REFUSED
    assert [v["fixture"] for v in verdicts if not v["passed"]] == [WRONG_AMOUNT, WRONG_ISSUES]
    assert failing_run.stdout.endswith(f"{len(verdicts) - 2} passed, 2 failed\n")


def test_junit_xml_has_a_testcase_per_fixture_and_the_failures(failing_run: Run) -> None:
    root = etree.fromstring(failing_run.junit.read_bytes())
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failed = {case.get("name"): case.find("failure") for case in cases if case.find("failure") is not None}

    assert len(cases) == planned(Kit(failing_run.kit)) == int(suite.get("tests", "0"))
    assert suite.get("failures") == "2"
    assert set(failed) == {WRONG_AMOUNT, WRONG_ISSUES}
    assert all(float(case.get("time", "-1")) >= 0 for case in cases)
    amount_text = failed[WRONG_AMOUNT].text or ""  # type: ignore[union-attr]
    assert "AMO benefit:\n  expected: 61.00\n  actual:   60.00" in amount_text


def test_the_html_report_shows_rows_verdicts_and_a_failure_side_by_side(
    failing_run: Run, browser: Any, artefacts: Path
) -> None:
    """Opened offline in Chromium: what a person sees."""
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requests.append(request.url))
    page.goto(failing_run.html.as_uri())

    rows = page.locator("#fixtures tbody tr")
    verdicts = rows.locator("td.verdict").all_inner_texts()
    summary = page.locator("#summary tbody td").all_inner_texts()
    amount_row = page.locator(f'tr[data-fixture="{WRONG_AMOUNT}"]')
    differing = amount_row.locator("table.compared tr.differs td").all_inner_texts()
    issues_row = page.locator(f'tr[data-fixture="{WRONG_ISSUES}"]')
    issue_cells = issues_row.locator("table.compared tr.differs td").all_inner_texts()
    page.screenshot(path=str(artefacts / "conformance-report.png"), full_page=True)
    page.close()

    total = planned(Kit(failing_run.kit))
    assert len(verdicts) == total
    assert verdicts.count("FAILED") == 2
    assert verdicts.count("passed") == total - 2
    assert summary[:2] == [str(total - 2), "2"]
    assert summary[2].endswith(" s")
    assert differing == ["AMO benefit", "61.00", "60.00"]
    assert issue_cells[0] == "error issues"
    assert f"nir-format at {NIR_VALUE}" in issue_cells[1]
    assert f"nir-format at {NIR_VALUE}" not in issue_cells[2]
    assert f"nir-key at {NIR_VALUE}" in issue_cells[2]
    assert all(url.startswith("file://") for url in requests), requests
    assert (artefacts / "conformance-report.png").stat().st_size > 0
