"""/docs (Swagger UI) and /redoc (ReDoc) load their assets from the adapter itself: every URL
the pages reference is local, and answers 200."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Api

URL = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def _references(html: str) -> list[str]:
    return [a or b for a, b in URL.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_reference_only_local_urls_that_answer(api: Api, page: str) -> None:
    response = api.client.get(page)
    references = _references(response.text)

    assert response.status_code == 200
    assert "http://" not in response.text
    assert "https://" not in response.text
    assert "/openapi.json" in references
    assert len(references) >= 3  # the page's script, its style or favicon, the OpenAPI document
    for reference in references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
        assert api.client.get(reference).status_code == 200, reference


def test_the_assets_are_the_real_bundles(api: Api) -> None:
    swagger = api.client.get("/docs-assets/swagger-ui-bundle.js")
    redoc = api.client.get("/docs-assets/redoc.standalone.js")

    assert "javascript" in swagger.headers["content-type"]
    assert len(swagger.content) > 500_000
    assert len(redoc.content) > 500_000
    assert api.client.get("/docs-assets/swagger-ui.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_keep_the_browser_on_the_adapter(api: Api, page: str) -> None:
    """ReDoc's sidebar would load a logo from cdn.redoc.ly: the page's policy forbids it."""
    policy = api.client.get(page).headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "img-src 'self' data:" in policy


def test_every_schema_reference_of_the_description_resolves(api: Api) -> None:
    """A $ref to a missing component breaks ReDoc's whole page ("Invalid reference token")."""
    document = api.client.get("/openapi.json").json()
    references = set(re.findall(r'"\$ref": ?"#/([^"]+)"', api.client.get("/openapi.json").text))

    for reference in references:
        node = document
        for step in reference.split("/"):
            assert step in node, reference
            node = node[step]
    assert "components/schemas/Claim" in references
