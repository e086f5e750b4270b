"""The composition root: settings → store → reference payers → service → authenticator → app.

Both ``adapter serve`` (through uvicorn's factory import string, one app per worker) and the
tests build the application here; nothing else reads the environment or the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from fastapi import FastAPI

from adapter.api import create_app
from adapter.api.logging import configure_logging
from adapter.auth import authenticator_from_settings
from adapter.config import Settings
from adapter.intake import Limits
from adapter.rules.contracts_loader import load_contracts
from adapter.rules.lpp_loader import load_lpp_table
from adapter.service import StoreService
from adapter.store import Store

__all__ = ["app_from_env", "build_app", "build_service", "utc_now"]


def utc_now() -> datetime:
    """The production clock: timezone-aware UTC."""
    return datetime.now(UTC)


def build_service(settings: Settings) -> StoreService:
    """Open (and migrate) the store and load the reference data."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.effective_database_url)
    return StoreService(
        store,
        table=load_lpp_table(settings.lpp_table),
        catalogue=load_contracts(settings.amc_contracts),
        canon=settings.canon,
        limits=Limits(max_bytes=settings.max_body_bytes, max_depth=settings.max_depth),
    )


def _warm_up() -> None:
    """Build the FHIR model schemas now, not on the first request (≈ 15 ms cold)."""
    from mappings.fhir import structure_issues

    kinds = (
        "Claim",
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Coverage",
        "DeviceRequest",
    )
    structure_issues(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": kind}} for kind in kinds],
        }
    )


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(clock=utc_now, level=settings.log_level)
    service = build_service(settings)
    authenticator = authenticator_from_settings(settings)
    app = create_app(settings, service, authenticator, clock=utc_now)
    log = structlog.get_logger("adapter.startup")
    for warning in authenticator.warnings():
        log.warning("startup.security", warning=warning)
    _warm_up()
    log.info("startup.ready", backend=service.store.backend, auth=settings.auth)
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory: ``uvicorn --factory adapter.bootstrap:app_from_env``."""
    return build_app()
