"""The composition root: settings → payers → submit flow → store → service → authenticator → app.

The only place that names concrete implementations (the reference payers, the SQL store, the
JWT authenticator). ``adapter serve`` (through uvicorn's factory import string, one app per
worker), the CLI and the tests build what they run here; :class:`Composition` is the one
choice a caller may replace, the payers, so that a test plugs a fake payer into the real
service and the real command line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import cast

import structlog
from fastapi import FastAPI

from adapter.api import create_app
from adapter.api.logging import configure_logging
from adapter.auth import authenticator_from_settings
from adapter.delivery import Destination
from adapter.delivery.mutuelle import MutuelleDestination
from adapter.domain.values import Money
from adapter.eligibility_flow import EligibilityFlow
from adapter.errors import StoreUnavailable
from adapter.flow import RemotePair, SubmitFlow
from adapter.intake import Limits
from adapter.notify import RestHook, SecretBox, load_or_create_key
from adapter.payers import InMemoryRecords, PayerRecords, Payers, ReferencePayers
from adapter.payers.http import HttpAmc, HttpAmo, PayerHttp
from adapter.payers.http_eligibility import HttpEligibility
from adapter.payers.ports import EligibilityPayers, RemoteEligibility
from adapter.payers.reference_eligibility import ReferenceEligibility
from adapter.payers.routing import PayerRoutes, load_routes
from adapter.rules.config import RulesConfig
from adapter.rules.contracts_loader import load_contracts
from adapter.rules.lpp import LppTable
from adapter.rules.lpp_loader import load_lpp_table
from adapter.service.claims import StoreService
from adapter.service.dispatch import Dispatcher, DispatchSettings, Observer
from adapter.service.eligibility import EligibilityUseCases
from adapter.service.subscriptions import StoreSubscriptions, SubscriptionSettings
from adapter.service.worker import PendingWorker, WorkerSettings
from adapter.serving import STARTUP_FAILURE
from adapter.settings import Settings
from adapter.store import DbTimeouts, Store

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

__all__ = ["Composition", "app_from_env", "build_app", "build_service", "utc_now"]


def utc_now() -> datetime:
    """The production clock: timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Composition:
    """What to wire: the payers (the in-process reference payers on the configured reference
    data when None), and from them the flow, the service and the app."""

    payers: Payers | RemotePair | None = None
    eligibility: EligibilityPayers | RemoteEligibility | None = None

    def payers_for(self, settings: Settings) -> Payers | RemotePair:
        """The given payers; else the remote ones of the routing file when one is configured;
        else the in-process reference payers."""
        if self.payers is not None:
            return self.payers
        routes = self.routes(settings)
        if routes is not None and routes.remote_payers:
            http = PayerHttp(routes)
            return RemotePair(amo=HttpAmo(http), amc=HttpAmc(http), close=http.aclose)
        return self.reference_payers(settings)

    def routes(self, settings: Settings) -> PayerRoutes | None:
        """The routing file, when one is configured."""
        return None if settings.payer_routes is None else load_routes(settings.payer_routes)

    def destinations(self, settings: Settings) -> list[Destination]:
        """Where events go (docs/delivery.md): the mutuelles with a ``delivery_url`` in the routing
        file, and the event stream with ``ADAPTER_EVENTS_URL``. Empty: nothing is delivered. (The
        clients' subscriptions are one more, on the store: see :meth:`worker`.)"""
        found: list[Destination] = []
        routes = self.routes(settings)
        if routes is not None and routes.deliveries:
            found.append(MutuelleDestination(routes))
        if settings.events_url is not None:
            from adapter.delivery.stream import EventStream

            found.append(
                EventStream(settings.events_url.get_secret_value(), exchange=settings.events_exchange)
            )
        return found

    def needs_worker(
        self, service: StoreService, settings: Settings, subscriptions: StoreSubscriptions | None = None
    ) -> bool:
        """A worker has work with remote payers (pended claims) or with destinations (deliveries)."""
        return (
            isinstance(service.flow.payers, RemotePair)
            or subscriptions is not None
            or bool(self.destinations(settings))
        )

    def reference_payers(self, settings: Settings) -> Payers:
        """In-process payers: the given ones when they are, else the reference payers on the
        configured reference data (what ``adapter payer-sim`` serves)."""
        if self.payers is not None and not isinstance(self.payers, RemotePair):
            return self.payers
        return ReferencePayers.load(
            lpp_table=settings.lpp_table, contracts=settings.amc_contracts, config=rules_config(settings)
        )

    def worker(
        self,
        service: StoreService,
        settings: Settings,
        *,
        observe: Observer | None = None,
        subscriptions: StoreSubscriptions | None = None,
    ) -> PendingWorker:
        """The worker that completes pended claims, with the configured retries and retention, and
        the dispatcher when events have destinations, the ``subscriptions`` among them (``observe``
        counts its sends)."""
        destinations = self.destinations(settings)
        if subscriptions is not None:
            destinations.append(subscriptions.destination())
        dispatch = DispatchSettings(
            max_attempts=settings.delivery_max_attempts,
            initial=settings.delivery_retry_seconds,
            max_backoff=settings.delivery_retry_max_seconds,
            retention=timedelta(days=settings.outbox_retention_days),
        )

        def dispatcher(name: str) -> Dispatcher:
            return Dispatcher(
                service, destinations, clock=utc_now, name=name, settings=dispatch, observe=observe
            )

        return PendingWorker(
            service,
            clock=utc_now,
            settings=WorkerSettings(
                retry_after=timedelta(seconds=settings.worker_retry_seconds),
                max_attempts=settings.worker_max_attempts,
                retention=timedelta(days=settings.outbox_retention_days),
            ),
            dispatcher=dispatcher if destinations else None,
        )

    def flow(self, settings: Settings, *, in_process: bool = False) -> SubmitFlow:
        """The submit flow on these payers (the in-process ones with ``in_process``: ``adapter
        submit``), with the configured canon and intake limits."""
        return SubmitFlow(
            self.reference_payers(settings) if in_process else self.payers_for(settings),
            canon=settings.canon,
            limits=Limits(max_bytes=settings.max_body_bytes, max_depth=settings.max_depth),
        )

    def eligibility_payers(self, settings: Settings) -> EligibilityPayers:
        """The in-process eligibility answers: the given ones, else the reference payers' (on the
        given reference payers' data, else on the configured reference data)."""
        if self.eligibility is not None and hasattr(self.eligibility, "bind_eligibility"):
            return cast("EligibilityPayers", self.eligibility)
        payers = self.reference_payers(settings)
        if isinstance(payers, ReferencePayers):
            return ReferenceEligibility(table=payers.table, catalogue=payers.catalogue, config=payers.config)
        return ReferenceEligibility(
            table=load_lpp_table(settings.lpp_table), catalogue=load_contracts(settings.amc_contracts)
        )

    def eligibility_flow(self, settings: Settings, *, in_process: bool = False) -> EligibilityFlow:
        """The eligibility flow: the given payers; else, unless ``in_process``, the remote ones of
        the routing file when one is configured (and no payers were given); else in-process."""
        eligibility: EligibilityPayers | RemoteEligibility
        if self.eligibility is not None and not in_process:
            eligibility = self.eligibility
        elif not in_process and self.payers is None and settings.payer_routes is not None:
            eligibility = HttpEligibility(PayerHttp(load_routes(settings.payer_routes)))
        else:
            eligibility = self.eligibility_payers(settings)
        return EligibilityFlow(
            eligibility,
            canon=settings.canon,
            limits=Limits(max_bytes=settings.max_body_bytes, max_depth=settings.max_depth),
        )

    def scratch_records(self) -> PayerRecords:
        """Payer records in memory, for a run that stores nothing (``adapter submit``)."""
        return InMemoryRecords()

    def service(self, settings: Settings) -> StoreService:
        """Open (and migrate) the store, and the service on it."""
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner only: health data
        store = Store.open(settings.effective_database_url, timeouts=db_timeouts(settings))
        return StoreService(
            store,
            self.flow(settings),
            payer_budget=settings.payer_budget,
            lpp_table=self.lpp_table(settings),
            eligibility=EligibilityUseCases(store, self.eligibility_flow(settings)),
        )

    def subscriptions(self, service: StoreService, settings: Settings) -> StoreSubscriptions | None:
        """Subscriptions on the service's store (unless ``ADAPTER_SUBSCRIPTIONS`` is off): secrets
        sealed with the configured key, notifications posted by the rest-hook client."""
        if not settings.subscriptions:
            return None
        key_file = settings.effective_subscription_key_file
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return StoreSubscriptions(
            service.store,
            notifier=RestHook(timeout=settings.subscription_timeout, clock=time.time),
            box=SecretBox(load_or_create_key(key_file)),
            canon=settings.canon,
            clock=utc_now,
            settings=SubscriptionSettings(
                allow_http=settings.subscription_allow_http,
                base_url=(settings.public_base_url or "").rstrip("/"),
            ),
            limits=Limits(max_bytes=settings.max_body_bytes, max_depth=settings.max_depth),
        )

    def lpp_table(self, settings: Settings) -> LppTable:
        """The configured LPP table (the packaged demo table by default): the device lookups' source."""
        return load_lpp_table(settings.lpp_table)

    def app(self, settings: Settings) -> FastAPI:
        configure_logging(clock=utc_now, level=settings.log_level)
        service = self.service(settings)
        subscriptions = self.subscriptions(service, settings)
        authenticator = authenticator_from_settings(settings)
        app = create_app(
            settings,
            service,
            authenticator,
            clock=utc_now,
            lifespan=self._lifespan(service, settings, subscriptions),
            subscriptions=subscriptions,
        )
        log = structlog.get_logger("adapter.startup")
        for warning in authenticator.warnings():
            log.warning("startup.security", warning=warning)
        _warm_up()
        log.info("startup.ready", backend=service.store.backend, auth=settings.auth)
        return app

    def _lifespan(
        self, service: StoreService, settings: Settings, subscriptions: StoreSubscriptions | None = None
    ) -> Lifespan:
        """With remote payers or destinations: the worker loop (unless ``worker_embedded`` is off)
        for the app's life, its sends counted in the app's metrics, and the payers' connections
        closed at the end."""
        payers = service.flow.payers
        asked = None if service.eligibility is None else service.eligibility.eligibility.payers

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            stop = asyncio.Event()
            task = None
            if settings.worker_embedded and self.needs_worker(service, settings, subscriptions):
                observe = app.state.ctx.metrics.observe_delivery
                worker = self.worker(service, settings, observe=observe, subscriptions=subscriptions)
                task = asyncio.create_task(worker.run(stop))
            try:
                yield
            finally:
                stop.set()
                if task is not None:
                    await task
                if isinstance(payers, RemotePair) and payers.close is not None:
                    await payers.close()
                if isinstance(asked, HttpEligibility):
                    await asked.http.aclose()
                if subscriptions is not None:
                    await subscriptions.close()

        return lifespan


def rules_config(settings: Settings) -> RulesConfig:
    """The reference payers' parameters that the settings override (docs/configuration.md)."""
    defaults = RulesConfig()
    warnings = settings.rules_warning_findings
    return replace(
        defaults,
        warning_findings=frozenset(warnings) if warnings is not None else defaults.warning_findings,
        near_duplicate_days=settings.rules_near_duplicate_days,
        unusual_quantity_factor=settings.rules_unusual_quantity_factor,
        billing_deadline_months=settings.rules_billing_deadline_months,
        supplier_billing_deadline_months=settings.rules_supplier_billing_deadline_months,
        at_mp_above_tariff=settings.rules_at_mp_above_tariff,
        rental_units_at_own_tariff=settings.rules_rental_units_at_own_tariff,
        rates=replace(defaults.rates, ame=settings.rules_ame_rate),
        technical_forfait_tariffs=MappingProxyType(
            {
                provider: Money.exact(amount)
                for provider, amount in settings.rules_technical_forfait_tariffs.items()
            }
        ),
    )


def db_timeouts(settings: Settings) -> DbTimeouts:
    """The store's bounded waits, from the ``ADAPTER_DB_*`` settings."""
    return DbTimeouts(
        connect=settings.db_connect_timeout,
        statement=settings.db_statement_timeout,
        pool=settings.db_pool_timeout,
        retry_after=settings.db_retry_after,
    )


def build_service(
    settings: Settings,
    *,
    payers: Payers | RemotePair | None = None,
    eligibility: EligibilityPayers | RemoteEligibility | None = None,
) -> StoreService:
    """The service on the configured store and payers (the reference payers by default)."""
    return Composition(payers, eligibility).service(settings)


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


def build_app(
    settings: Settings | None = None,
    *,
    payers: Payers | RemotePair | None = None,
    eligibility: EligibilityPayers | RemoteEligibility | None = None,
) -> FastAPI:
    return Composition(payers, eligibility).app(settings or Settings())


def app_from_env() -> FastAPI:
    """uvicorn factory: ``uvicorn --factory adapter.bootstrap:app_from_env``.

    A database that cannot be reached at start stops the process with one line naming it (never
    its password) and uvicorn's startup-failure status, 3, with one worker or several: the
    service does not start until its database answers (a supervisor or orchestrator retries).
    """
    try:
        return build_app()
    except StoreUnavailable as exc:
        structlog.get_logger("adapter.startup").error("startup.failed", code=exc.code, reason=exc.message)
        raise SystemExit(STARTUP_FAILURE) from None
