"""The operator console at ``/console``: plain HTML, CSS and a little JavaScript served from the
package (``console_assets/``), nothing from a CDN.

The page and its assets hold no data and are public; the operator signs in by pasting a bearer
token, which the page keeps in ``sessionStorage`` and sends as ``Authorization: Bearer`` on its
own calls to the FHIR API (search, reads, ``$answer``, ``$requeue``), so every piece of data goes
through the same scopes and tenancy as any other client's. The page is served with a strict
Content-Security-Policy: only the adapter's own scripts, styles and API, no inline code, no
framing (docs/security.md).
"""

from __future__ import annotations

import os
from importlib.resources import files
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["ASSETS_URL", "CONSOLE_URL", "POLICY", "install_console"]

CONSOLE_URL = "/console"
ASSETS_URL = "/console-assets"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Sent with the page and its assets: the policy, no sniffing, no framing, no referrer (the API's
#: query strings may carry a NIR).
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _assets_dir() -> Path:
    return Path(str(files("adapter.api") / "console_assets"))


class _Assets(StaticFiles):
    """The console's static files, with the console's headers."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(HEADERS)
        return response


def install_console(app: FastAPI) -> None:
    """Add ``/console`` and the assets it loads under ``/console-assets/``."""
    assets = _assets_dir()
    app.mount(ASSETS_URL, _Assets(directory=assets), name="console-assets")

    @app.get(CONSOLE_URL, include_in_schema=False)
    async def console() -> Response:
        return FileResponse(assets / "index.html", media_type="text/html; charset=utf-8", headers=HEADERS)
