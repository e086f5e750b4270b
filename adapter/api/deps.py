"""What routes get from the app: the authenticator port, the per-app context, the caller.

Authentication is a port: the API only needs ``authenticate(...) -> Caller`` and an error that
says its HTTP status, so any implementation (JWT, development tokens, a test fake) plugs in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from structlog.typing import FilteringBoundLogger

from adapter.access import Caller
from adapter.api.metrics import Metrics
from adapter.service import ClaimService, SubscriptionService
from adapter.settings import Settings
from mappings.systems import Canon

__all__ = [
    "SCOPE_READ",
    "SCOPE_SUBMIT",
    "AppContext",
    "Authenticator",
    "ContextDep",
    "ReadCaller",
    "RequestInfo",
    "SubmitCaller",
    "get_context",
    "request_info",
]

SCOPE_SUBMIT = "system/Claim.write"
SCOPE_READ = "system/ClaimResponse.read"


class Authenticator(Protocol):
    """Turns an ``Authorization`` header into a :class:`Caller` allowed ``scope``.

    Failures raise an ``adapter.errors.AdapterError`` subclass carrying ``http_status``
    (401, 403 or 503) and, for 401/403, optionally ``www_authenticate`` (the challenge to send).
    """

    def authenticate(self, authorization: str | None, *, scope: str, now: datetime) -> Caller: ...


@dataclass(slots=True)
class RequestInfo:
    """Per-request facts the access log and metrics need, filled in as the request proceeds."""

    request_id: str
    client_id: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class AppContext:
    """Everything a route needs, built once by ``create_app``; no globals."""

    settings: Settings
    service: ClaimService
    authenticator: Authenticator
    clock: Callable[[], datetime]
    timer: Callable[[], float]
    metrics: Metrics
    logger: FilteringBoundLogger
    capability: dict[str, Any]
    submit_slots: asyncio.Semaphore | None = None
    subscriptions: SubscriptionService | None = None

    @property
    def canon(self) -> Canon:
        return self.settings.canon


def context_of(request: Request) -> AppContext:
    """The app's context (plain function: no event-loop or thread hop)."""
    ctx = request.app.state.ctx
    if not isinstance(ctx, AppContext):  # pragma: no cover - create_app always sets it
        raise TypeError("the app was not built by adapter.api.create_app")
    return ctx


def request_info(request: Request) -> RequestInfo:
    """The request's :class:`RequestInfo`; set by the middleware, or a stand-in outside it."""
    info = request.scope.get("adapter.request")
    if isinstance(info, RequestInfo):
        return info
    info = RequestInfo(request_id="-")
    request.scope["adapter.request"] = info
    return info


async def get_context(request: Request) -> AppContext:
    """Dependency form of :func:`context_of`; async so FastAPI does not send it to a thread."""
    return context_of(request)


ContextDep = Annotated[AppContext, Depends(get_context)]


class _Authenticated:
    """Dependency: authenticate the request for one scope (off the event loop: keys may be fetched)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, request: Request) -> Caller:
        ctx = context_of(request)
        caller = await run_in_threadpool(
            ctx.authenticator.authenticate,
            request.headers.get("authorization"),
            scope=self.scope,
            now=ctx.clock(),
        )
        request_info(request).client_id = caller.client_id
        return caller


SubmitCaller = Annotated[Caller, Depends(_Authenticated(SCOPE_SUBMIT))]
ReadCaller = Annotated[Caller, Depends(_Authenticated(SCOPE_READ))]
