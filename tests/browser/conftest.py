"""A headless Chromium for what a person sees in a browser (the conformance report, the API
documentation): Debian's ``/usr/bin/chromium``, installed by
``.ci/ensure-chromium`` when missing (``make test`` runs it first), driven by Playwright.

Without it the tests fail and say why; they are never skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = ROOT / "var" / "test-artefacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium with no network of its own (the page must need none).

    Module-scoped: Playwright's synchronous API runs an event loop in this thread while it is
    open, and tests after the browser tests run ``asyncio.run`` of their own."""
    if not CHROMIUM.exists():
        done = subprocess.run([str(ROOT / ".ci" / "ensure-chromium")], capture_output=True, check=False)
        if done.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(
                f"Chromium is needed at {CHROMIUM}: .ci/ensure-chromium failed: {done.stderr.decode()}"
            )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where the tests keep what a person may want to look at (gitignored ``var/``)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
