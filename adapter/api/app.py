"""The FastAPI app factory: the only place the HTTP pieces are put together.

``create_app`` takes everything it needs (settings, the service, the authenticator, a clock)
and reads nothing from the environment or the wall clock, so tests build as many independent
apps as they like and production builds exactly one at its composition root.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, TextIO

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from adapter import __version__
from adapter.api import (
    capability,
    routes_cancel,
    routes_claim,
    routes_claimresponse,
    routes_device,
    routes_eligibility,
    routes_reads,
)
from adapter.api.deps import AppContext, Authenticator, ContextDep
from adapter.api.docs import install_docs
from adapter.api.logging import make_logger
from adapter.api.metrics import Metrics
from adapter.api.middleware import RequestMiddleware
from adapter.api.negotiation import content_type, format_parameter
from adapter.api.operator_console import install_console
from adapter.api.outcomes import error_responses, install_exception_handlers, outcome_body
from adapter.errors import Issue
from adapter.intake import Format
from adapter.service import ClaimService
from adapter.settings import Settings
from mappings.fhir.jsonio import dumps
from mappings.outbound import all_ok
from mappings.systems import Canon

__all__ = ["create_app"]

_JSON = {"content-type": content_type(Format.JSON)}


def _new_request_id() -> str:
    return uuid.uuid4().hex


def create_app(
    settings: Settings,
    service: ClaimService,
    authenticator: Authenticator,
    *,
    clock: Callable[[], datetime],
    timer: Callable[[], float] = time.perf_counter,
    new_request_id: Callable[[], str] = _new_request_id,
    log_stream: TextIO | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """Build the HTTP API.

    ``clock`` gives timezone-aware "now" (token expiry, submission time, log timestamps);
    ``timer`` is a monotonic seconds counter for latencies; ``log_stream`` receives the JSON
    log lines (standard output when None); ``lifespan`` runs for the app's life (background
    work the composition root starts, such as the pended-claims worker).
    """
    metrics = Metrics()
    logger = make_logger(clock=clock, stream=log_stream, level=settings.log_level)
    ctx = AppContext(
        settings=settings,
        service=service,
        authenticator=authenticator,
        clock=clock,
        timer=timer,
        metrics=metrics,
        logger=logger,
        capability=capability.capability_statement(canonical_base=settings.canonical_base, date=clock()),
        submit_slots=asyncio.Semaphore(settings.submit_concurrency) if settings.submit_concurrency else None,
    )
    app = FastAPI(
        title="FHIR LPP reimbursement adapter",
        version=__version__,
        description=(
            "FHIR R4 API: Claim/$submit, Claim, Bundle and ClaimResponse reads, Claim and ClaimResponse "
            "search, "
            "LPP code lookups. "
            "Bodies are application/fhir+json or application/fhir+xml; every error is an OperationOutcome."
        ),
        docs_url=None,  # served from the adapter's own assets (api/docs.py), not a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_exception_handlers(app)
    install_docs(app, title=app.title)
    install_console(app)
    routers = {
        "conformance": capability.router,
        # Before "Claim": its GET /Claim/{id} would otherwise answer for /Claim/$cancel (405, Allow: GET).
        "Claim cancellation": routes_cancel.router,
        "Claim": routes_claim.router,
        "Claim and Bundle reads": routes_reads.router,
        "ClaimResponse": routes_claimresponse.router,
        "LPP reference": routes_device.router,
        "eligibility and prescriptions": routes_eligibility.router,
        "operations": _ops_router(),
    }
    for tag, router in routers.items():
        app.include_router(router, tags=[tag])
    # Route templates for labelling requests the router did not tag (refused before routing, plain routes).
    templates = (
        *(route for router in routers.values() for route in router.routes),
        *(route for route in app.routes if isinstance(route, Route)),  # /docs, /openapi.json
    )
    app.add_middleware(
        RequestMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics,
        logger=logger,
        timer=timer,
        new_request_id=new_request_id,
        canon=settings.canon,
        routes=templates,
        body_timeout=settings.http_body_timeout,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _ops_router() -> APIRouter:
    """Operations endpoints: no authentication (probes and scrapers have no tokens)."""
    router = APIRouter()
    ok = {
        "description": "An informational OperationOutcome",
        "content": {Format.JSON.media_type: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}},
    }

    @router.get(
        "/healthz", summary="Liveness: the process answers", response_class=Response, responses={200: ok}
    )
    async def healthz() -> Response:
        return Response(dumps(all_ok("the process is up")), headers=_JSON)

    @router.get(
        "/readyz",
        summary="Readiness: the service can take requests",
        response_class=Response,
        responses={200: ok, **error_responses(503)},
    )
    async def readyz(ctx: ContextDep) -> Response:
        # Bounded whatever the database does: the store's own timeouts end the ping in its thread.
        try:
            ready = await asyncio.wait_for(run_in_threadpool(ctx.service.ready), ctx.settings.ready_timeout)
        except TimeoutError:
            ready = False
        if ready:
            return Response(dumps(all_ok("ready")), headers=_JSON)
        issue = Issue(code="not-ready", message="not ready: a dependency (store, payers) is unavailable")
        headers = {**_JSON, "Retry-After": str(ctx.settings.db_retry_after)}
        return Response(outcome_body([issue], Format.JSON, ctx.canon), status_code=503, headers=headers)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    async def metrics(ctx: ContextDep) -> Response:
        body, media_type = ctx.metrics.exposition()
        return Response(body, headers={"content-type": media_type})

    return router


_RESOURCE_SCHEMAS = {
    "Bundle": "A FHIR R4 Bundle (collection for $submit, searchset for searches)",
    "Claim": "A FHIR R4 Claim, as submitted",
    "ClaimResponse": "A FHIR R4 ClaimResponse",
    "CapabilityStatement": "A FHIR R4 CapabilityStatement",
    "ChargeItemDefinition": "A FHIR R4 ChargeItemDefinition (an LPP code's row in force on a day)",
    "Parameters": "A FHIR R4 Parameters (the CodeSystem/$lookup answer)",
    "DeviceRequest": "A FHIR R4 DeviceRequest (a prescription checked on its own by DeviceRequest/$validate)",
}


def _drop_framework_validation_errors(schema: dict[str, Any]) -> None:
    """Remove FastAPI's plain-JSON 422: request validation errors leave as a 400 OperationOutcome."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _context(app: FastAPI) -> AppContext:
    ctx = app.state.ctx
    if not isinstance(ctx, AppContext):  # pragma: no cover - create_app always sets it
        raise TypeError("the app was not built by adapter.api.create_app")
    return ctx


def _lpp_systems(schema: dict[str, Any], canon: Canon) -> None:
    """``$lookup``'s ``system``: the app's own LPP system URI (or an alias), known only per app."""
    operation = schema.get("paths", {}).get("/CodeSystem/$lookup", {}).get("get", {})
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "system":
            parameter["schema"] = {"type": "string", "enum": [canon.lpp, *canon.lpp_aliases]}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the FHIR pieces it cannot infer: resource schemas, ``_format``, bearer auth."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _drop_framework_validation_errors(schema)
    _lpp_systems(schema, _context(app).canon)
    for name, description in _RESOURCE_SCHEMAS.items():
        schemas[name] = {
            "type": "object",
            "description": f"{description}; see https://hl7.org/fhir/R4/{name.lower()}.html",
            "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "enum": [name]}},
            "additionalProperties": True,
        }
    schemas["OperationOutcome"] = {
        "type": "object",
        "description": "A FHIR R4 OperationOutcome; details.coding carries the adapter's stable error code",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
            "issue": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string", "description": "FHIR issue-type"},
                        "details": {"type": "object"},
                        "expression": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    }
    components.setdefault("parameters", {})["_format"] = format_parameter()
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "SMART Backend Services access token",
    }
    app.openapi_schema = schema
    return schema
