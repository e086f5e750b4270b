"""The conformance verdicts as files: JSON (``--report``), JUnit XML (``--junit``, for CI
servers) and a self-contained HTML page (``--html``, for a person: no script, no stylesheet or
font from elsewhere, so it opens offline).

Every writer takes the checks of :func:`adapter.conformance.run` and returns bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from lxml import etree

from adapter.conformance import Check

__all__ = ["html_report", "json_report", "junit_xml"]


def json_report(checks: Sequence[Check]) -> bytes:
    """``[{"fixture", "passed", "problems"}, …]``, indented."""
    verdicts = [{"fixture": c.fixture, "passed": c.passed, "problems": list(c.problems)} for c in checks]
    return (json.dumps(verdicts, indent=2) + "\n").encode()


def _failure_text(check: Check) -> str:
    lines = list(check.problems)
    for comparison in check.compared:
        if not comparison.agrees:
            lines += [
                f"{comparison.what}:",
                f"  expected: {comparison.expected}",
                f"  actual:   {comparison.actual}",
            ]
    return "\n".join(lines)


def junit_xml(checks: Sequence[Check]) -> bytes:
    """One ``testsuite`` ("conformance"), one ``testcase`` per fixture, a ``failure`` (its
    problems, then each disagreeing comparison) for one that failed."""
    failures = sum(not check.passed for check in checks)
    total = f"{sum(check.seconds for check in checks):.3f}"
    counts = {"tests": str(len(checks)), "failures": str(failures), "errors": "0", "skipped": "0"}
    suites = etree.Element("testsuites", {"name": "adapter conformance", "time": total, **counts})
    suite = etree.SubElement(suites, "testsuite", {"name": "conformance", "time": total, **counts})
    for check in checks:
        folder = check.fixture.split("/", 1)[0]
        case = etree.SubElement(
            suite,
            "testcase",
            classname=f"conformance.{folder}",
            name=check.fixture,
            time=f"{check.seconds:.3f}",
        )
        if not check.passed:
            failure = etree.SubElement(case, "failure", message=check.problems[0], type="conformance")
            failure.text = _failure_text(check)
    return bytes(etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True))


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #c8c8c8; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.time { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.fixture { white-space: nowrap; }
tr.passed .verdict { color: #17612d; font-weight: bold; }
tr.failed .verdict { color: #a31515; font-weight: bold; }
tr.failed { background: #fff4f4; }
table.compared { margin: .3em 0; }
table.compared td { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
table.compared tr.differs td { background: #ffe0e0; }
ul.problems { margin: .2em 0; padding-left: 1.2em; }
.summary td { font-weight: bold; }
"""


def _details(check: Check) -> str:
    if check.passed:
        return ""
    problems = "".join(f"<li>{escape(problem)}</li>" for problem in check.problems)
    rows = "".join(
        f'<tr class="{"agrees" if c.agrees else "differs"}"><td>{escape(c.what)}</td>'
        f"<td>{escape(c.expected)}</td><td>{escape(c.actual)}</td></tr>"
        for c in check.compared
    )
    table = (
        '<table class="compared"><thead><tr><th>checked</th><th>expected</th><th>actual</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return f'<ul class="problems">{problems}</ul>{table}'


def html_report(checks: Sequence[Check], *, target: str) -> bytes:
    """A page with a summary (passed, failed, time) and a row per fixture: its verdict, its
    time and, for a failure, its problems and the expected and actual values side by side."""
    failed = sum(not check.passed for check in checks)
    seconds = sum(check.seconds for check in checks)
    rows = "\n".join(
        f'<tr class="{"passed" if check.passed else "failed"}" data-fixture="{escape(check.fixture)}">'
        f'<td class="fixture">{escape(check.fixture)}</td>'
        f'<td class="verdict">{"passed" if check.passed else "FAILED"}</td>'
        f'<td class="time">{check.seconds * 1000:.0f} ms</td>'
        f'<td class="details">{_details(check)}</td></tr>'
        for check in checks
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Conformance report: {len(checks) - failed} passed, {failed} failed</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Conformance report</h1>
<p>The fixture kit sent to {escape(target)}.</p>
<table class="summary" id="summary">
<thead><tr><th>passed</th><th>failed</th><th>time</th></tr></thead>
<tbody><tr><td>{len(checks) - failed}</td><td>{failed}</td><td>{seconds:.1f} s</td></tr></tbody>
</table>
<h2>Fixtures</h2>
<table class="fixtures" id="fixtures">
<thead><tr><th>fixture</th><th>verdict</th><th>time</th><th>expected and actual</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
    return page.encode("utf-8")
