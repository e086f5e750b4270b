"""Every fixture through intake: valid scenarios pass, invalid inputs give exactly their expected issues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapter.intake import Format, check

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID = sorted(
    p for p in (FIXTURES / "valid").iterdir() if p.suffix in (".json", ".xml") and ".meta." not in p.name
)
INVALID = sorted(
    p for p in (FIXTURES / "invalid").iterdir() if not p.name.endswith(".expected.json") and p.suffix != ".md"
)


def _format(path: Path) -> Format:
    return Format.XML if path.suffix == ".xml" else Format.JSON


def test_fixture_counts_meet_the_floor() -> None:
    """At least 12 valid scenarios (3 in XML) and 25 invalid inputs ship."""
    assert len([p for p in VALID if p.suffix == ".json"]) >= 12
    assert len([p for p in VALID if p.suffix == ".xml"]) >= 3
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_passes_intake(path: Path) -> None:
    """A valid scenario gives no error (warnings allowed) and maps to a request."""
    status, issues = check(path.read_bytes(), _format(path))

    assert (status, [i for i in issues if i.is_error]) == (200, [])


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_reports_exactly_its_issues(path: Path) -> None:
    """An invalid input gives its expected status and exactly its expected error issues."""
    expected = json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json").read_text())
    status, issues = check(path.read_bytes(), _format(path))
    found = sorted((i.code, i.expression) for i in issues if i.is_error)
    wanted = sorted((i["code"], i["expression"]) for i in expected["issues"])

    assert (status, found) == (expected["status"], wanted)
