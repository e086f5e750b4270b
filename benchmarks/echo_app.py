"""The yardstick for the service benchmark: the least a FHIR endpoint on this stack can do.

``POST /echo`` reads the body, parses it with ``fhir.resources`` (R4B ``Bundle``) and answers
``model_dump_json``; any other body is a 400. ``GET /ping`` tells the benchmark it is up. Same
framework (FastAPI), server (uvicorn, two workers) and transport as ``adapter serve``, so the
gap between the two is the adapter's own work: authentication, intake, adjudication,
persistence, logging and metrics.

Serve it with ``python -m benchmarks.echo_app --port 8081 --workers 2`` from the repository root:
like ``adapter serve``, through ``adapter.serving`` (a listening socket per worker on Linux).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from adapter import serving

__all__ = ["app", "create_app"]

_FHIR_JSON = "application/fhir+json"


def create_app() -> FastAPI:
    """The echo application (no docs, no OpenAPI: nothing but the one route)."""
    echo_app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @echo_app.get("/ping")
    async def ping() -> Response:
        return Response(b"", status_code=200)

    @echo_app.post("/echo")
    async def echo(request: Request) -> Response:
        try:
            bundle = Bundle.model_validate_json(await request.body())
        except ValidationError as exc:
            return Response(str(exc), status_code=400, media_type="text/plain")
        return Response(bundle.model_dump_json(), media_type=_FHIR_JSON)

    return echo_app


app = create_app()


class _Log:
    """The supervisor's reports, on standard error."""

    def info(self, event: str, **fields: Any) -> None:
        print(event, fields, file=sys.stderr, flush=True)

    error = info


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the echo endpoint the way adapter serve runs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    options = {"app": "benchmarks.echo_app:app", "host": args.host, "port": args.port, "access_log": False}
    raise SystemExit(serving.serve(options, workers=args.workers, reuse_port=True, log=_Log()))


if __name__ == "__main__":
    main()
