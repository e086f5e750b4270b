"""The error catalogue is consistent and published."""

from __future__ import annotations

import re
from pathlib import Path

from adapter.errors import CATALOGUE, IssueType, catalogue_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_docs_errors_md_is_the_generated_catalogue() -> None:
    """docs/errors.md lists exactly the catalogue (regenerate with python -m adapter.errors)."""
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == catalogue_markdown()


def test_codes_are_kebab_case_and_types_are_fhir_issue_types() -> None:
    """Codes are stable kebab-case identifiers with a FHIR issue-type."""
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code
        assert entry.code == code
        assert isinstance(entry.issue_type, IssueType)


def test_every_code_used_in_the_source_is_catalogued() -> None:
    """A literal issue code in adapter/ or mappings/ must exist in the catalogue."""
    pattern = re.compile(r'(?:Issue|InvalidValueError|\.error|\.warn|self\.fail)\(\s*"([a-z0-9-]+)"')
    used: set[str] = set()
    for folder in ("adapter", "mappings"):
        for path in (ROOT / folder).rglob("*.py"):
            used.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert used - set(CATALOGUE) == set()


def test_configuration_doc_lists_every_setting() -> None:
    """docs/configuration.md names every ADAPTER_ environment variable the settings read."""
    from adapter.settings import Settings

    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [name for name in Settings.model_fields if f"`ADAPTER_{name.upper()}`" not in text] == []
