"""Nothing outside a package imports its private modules: the tests and benchmarks neither.

``make lint`` checks the shipped packages with import-linter; this covers the rest of the tree.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: ``from mappings.fhir._walk import …`` or ``import adapter.x._y``: a private module named from outside.
PRIVATE = re.compile(r"^\s*(?:from|import)\s+((?:adapter|mappings)(?:\.\w+)*\._\w+)", re.MULTILINE)


def test_no_test_or_benchmark_imports_a_private_module() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {match.group(1)}"
        for folder in ("tests", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for match in PRIVATE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
