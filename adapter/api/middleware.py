"""The request envelope: request id, body limit, access log, request metrics, last-resort 500.

A plain ASGI middleware (not ``BaseHTTPMiddleware``) so that it sees the body as it streams:
a declared ``Content-Length`` over the limit is refused before the app runs, and a body sent
without one (chunked) is counted chunk by chunk, failing as soon as it crosses the limit,
so no request can make the process buffer more than the limit.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence

import structlog
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import FilteringBoundLogger

from adapter.api.deps import RequestInfo
from adapter.api.metrics import Metrics
from adapter.api.negotiation import content_type
from adapter.api.outcomes import error_format, internal_issue, outcome_body
from adapter.errors import AdapterError, Issue
from mappings.systems import Canon

__all__ = ["CLIENT_ABORT_STATUS", "BodyTimeout", "PayloadTooLarge", "RequestMiddleware"]

REQUEST_ID_HEADER = "X-Request-ID"
# Echo a caller's id only when it is short and plain: it ends up in logs and headers.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"
CLIENT_ABORT_STATUS = 499
"""The status label of a request whose client went away before its answer (nginx's convention):
nothing is sent, and it is counted apart from the 5xx."""


class PayloadTooLarge(AdapterError):
    """The body is larger than ``max_body_bytes`` (HTTP 413)."""

    code = "input-too-large"
    http_status = 413


class BodyTimeout(AdapterError):
    """The body did not arrive within ``body_timeout`` seconds (HTTP 408): a client trickling it."""

    code = "request-timeout"
    http_status = 408


class RequestMiddleware:
    """Give every HTTP request an id, a body limit, one access-log line and request metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: Metrics,
        logger: FilteringBoundLogger,
        timer: Callable[[], float],
        new_request_id: Callable[[], str],
        canon: Canon,
        routes: Sequence[BaseRoute],
        body_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.metrics = metrics
        self.logger = logger
        self.timer = timer
        self.new_request_id = new_request_id
        self.canon = canon
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.timer()
        headers = Headers(scope=scope)
        given = headers.get("x-request-id")
        request_id = given if given and _REQUEST_ID.fullmatch(given) else self.new_request_id()
        info = RequestInfo(request_id=request_id)
        scope["adapter.request"] = info
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                if self._declared_too_large(headers):
                    info.outcome = PayloadTooLarge.code
                    issue = Issue(code=PayloadTooLarge.code, message=self._too_large_message())
                    await self._answer(scope, send_with_id, 413, issue)
                else:
                    await self.app(scope, self._limited(receive), send_with_id)
            except ClientDisconnect:
                # The client went away mid-body: nobody to answer, nothing failed here.
                info.outcome = "client-abort"
                if not started:
                    status = CLIENT_ABORT_STATUS
                self.logger.info("request.aborted", method=scope["method"], route=self._route(scope))
            except Exception:
                info.outcome = "internal"
                self.logger.exception("unhandled exception", method=scope["method"], route=self._route(scope))
                if not started:
                    await self._answer(scope, send_with_id, 500, internal_issue(request_id))
            finally:
                self._record(scope, info, status, self.timer() - start)

    def _too_large_message(self) -> str:
        return f"the body exceeds the maximum of {self.max_body_bytes} bytes"

    def _declared_too_large(self, headers: Headers) -> bool:
        declared = headers.get("content-length", "")
        return declared.isdigit() and int(declared) > self.max_body_bytes

    def _limited(self, receive: Receive) -> Receive:
        """``receive`` within the body's size limit and its deadline (counted from the first read)."""
        received = 0
        deadline: float | None = None
        done = False  # the whole body is in: later reads (a disconnect listener) are not bounded

        async def limited_receive() -> Message:
            nonlocal received, deadline, done
            if done:
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + self.body_timeout
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise BodyTimeout(f"the body did not arrive within {self.body_timeout:g} seconds") from None
            done = message["type"] != "http.request" or not message.get("more_body", False)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLarge(self._too_large_message())
            return message

        return limited_receive

    async def _answer(self, scope: Scope, send: Send, status: int, issue: Issue) -> None:
        fmt = error_format(Headers(scope=scope), QueryParams(scope.get("query_string", b"")))
        response = Response(
            outcome_body([issue], fmt, self.canon),
            status_code=status,
            headers={"content-type": content_type(fmt)},
        )
        await response(scope, _no_receive, send)

    def _route(self, scope: Scope) -> str:
        """The route template (bounded label), never the raw path."""
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        probe = dict(scope)
        partial = UNMATCHED
        for route in self.routes:
            match, _ = route.matches(probe)
            route_path = getattr(route, "path", None)
            if not isinstance(route_path, str) or match is Match.NONE:
                continue
            if match is Match.FULL:
                return route_path
            if partial == UNMATCHED:
                partial = route_path  # right path, wrong method: a 405 on this template
        return partial

    def _record(self, scope: Scope, info: RequestInfo, status: int, seconds: float) -> None:
        route = self._route(scope)
        method = str(scope["method"])
        self.metrics.observe_request(method=method, route=route, status=status, seconds=seconds)
        self.logger.info(
            "request",
            method=method,
            route=route,
            status=status,
            latency_ms=round(seconds * 1000, 1),
            client_id=info.client_id,
            outcome=info.outcome or ("ok" if status < 400 else f"http-{status}"),
        )


async def _no_receive() -> Message:  # pragma: no cover - plain responses never read the request
    return {"type": "http.disconnect"}
