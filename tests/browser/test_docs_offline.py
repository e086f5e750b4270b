"""Swagger UI (/docs) and ReDoc (/redoc) render in Chromium with no network but the adapter:
every request the pages make goes to the adapter's app, anything else is refused and listed
(their Content-Security-Policy keeps the browser from even trying)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.conftest import build_api

ORIGIN = "http://adapter.test"
TITLE = "FHIR LPP reimbursement adapter"


def test_the_docs_pages_render_offline(browser: Any, artefacts: Path) -> None:
    api = build_api()
    outside: list[str] = []

    def answer(route: Any) -> None:
        url = route.request.url
        if not url.startswith(f"{ORIGIN}/"):
            outside.append(url)
            route.abort()
            return
        response = api.client.get(url.removeprefix(ORIGIN))
        headers = {
            name: value
            for name, value in response.headers.items()
            if name in ("content-type", "content-security-policy")
        }
        route.fulfill(status=response.status_code, body=response.content, headers=headers)

    with api.client:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", answer)
        page = context.new_page()

        page.goto(f"{ORIGIN}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        swagger_title = page.locator(".swagger-ui .info .title").inner_text()
        page.wait_for_selector(".opblock", timeout=30_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        page.screenshot(path=str(artefacts / "docs-swagger-ui.png"))

        page.goto(f"{ORIGIN}/redoc")
        page.wait_for_selector("h1", timeout=30_000)
        redoc_title = page.locator("h1").first.inner_text()
        page.screenshot(path=str(artefacts / "docs-redoc.png"))
        context.close()

    assert TITLE in swagger_title
    assert any("/Claim/$submit" in operation for operation in operations)
    assert TITLE in redoc_title
    assert outside == []
