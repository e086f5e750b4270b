"""The HTTP gateways: a remote AMO and AMC over the payer protocol (docs/payer-protocol.md).

One exchange is a POST of a protocol message, with the idempotency key in the body and in an
``Idempotency-Key`` header, answered by the payer's message echoing that key. Around it:

- connect and read timeouts per attempt, and a time budget for the whole exchange;
- retries (tenacity) only for what may succeed next time: connection errors and timeouts,
  502, 503, 504, and 429 (waiting at least its ``Retry-After``), exponential with jitter,
  bounded in attempts and by the budget; always with the same key, so a payer that decided
  but whose answer was lost replays its decision;
- a circuit breaker per endpoint (purgatory): after consecutive failures the endpoint is not
  called until ``reset_after`` has passed, and the exchange fails at once;
- what comes back checked against the protocol's schema, with the key it must echo.

A refusal inside a decision (a rejected line) is a decision. A 4xx answer is a
:class:`~adapter.errors.PayerRefusal`, permanent for that claim and never retried; everything
else that gives no decision is a :class:`~adapter.errors.PayerFault`, for the caller to pend.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from adapter.domain.decision import PayerDecision
from adapter.domain.request import ReimbursementRequest
from adapter.errors import PayerFault, PayerRefusal
from adapter.payers import protocol
from adapter.payers.ports import AmoAnswer
from adapter.payers.routing import Endpoint, PayerRoutes

__all__ = ["HttpAmc", "HttpAmo", "PayerHttp"]

#: The largest answer read from a payer; more is a fault of that payer.
MAX_ANSWER_BYTES = 2_000_000
_RETRYABLE_STATUSES = frozenset({502, 503, 504, 429})
_log = structlog.get_logger("adapter.payers")


class _Retryable(Exception):
    """An attempt failed in a way the next one may not: ``retry_after`` is the payer's hint."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds, from its delay-seconds or HTTP-date form (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class PayerHttp:
    """The HTTP side of every exchange with the routed payers: one connection pool per endpoint
    (each may carry its own client certificate), the retry policy and the breakers.

    ``transport`` replaces the network (tests); ``sleep`` and ``clock`` are injected for the
    same reason. Close it with :meth:`aclose`.
    """

    def __init__(
        self,
        routes: PayerRoutes,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.routes = routes
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=routes.breaker.failures,
            default_ttl=routes.breaker.reset_after,
            exclude=[PayerRefusal],
        )

    def _client(self, endpoint: Endpoint) -> httpx.AsyncClient:
        client = self._clients.get(endpoint.name)
        if client is None:
            timeouts = self.routes.timeouts
            options: dict[str, Any] = {
                "timeout": httpx.Timeout(timeouts.read, connect=timeouts.connect),
                "follow_redirects": False,
            }
            if self._transport is not None:
                options["transport"] = self._transport
            elif endpoint.tls is not None:
                import ssl

                context = ssl.create_default_context(cafile=endpoint.tls.ca)
                context.load_cert_chain(endpoint.tls.cert, endpoint.tls.key)
                options["verify"] = context
            client = self._clients[endpoint.name] = httpx.AsyncClient(**options)
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def exchange(self, endpoint: Endpoint, path: str, message: dict[str, Any], key: str) -> Any:
        """POST ``message`` to ``endpoint``; the decoded JSON answer, or ``PayerFault``/``PayerRefusal``."""
        retries = self.routes.retries
        started = self._clock()
        breaker = await self._breakers.get_breaker(endpoint.name)

        backoff_for = wait_exponential_jitter(
            multiplier=retries.initial, max=retries.max, jitter=retries.initial
        )

        def wait(state: RetryCallState) -> float:
            backoff = backoff_for(state)
            failure = state.outcome.exception() if state.outcome is not None else None
            hint = failure.retry_after if isinstance(failure, _Retryable) else None
            return max(backoff, hint or 0.0)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(retries.attempts) | stop_before_delay(retries.budget),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        attempts = 0

        async def retried() -> Any:
            nonlocal attempts
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    return await self._post(endpoint, path, message, key)
            raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

        try:
            async with breaker:  # one exchange, retries and all, is one success or failure
                return await retried()
        except _Retryable as exc:
            _log.warning("payer.unavailable", payer=endpoint.name, attempts=attempts, reason=str(exc))
            raise PayerFault(
                f"{endpoint.name}: no answer after {attempts} attempt(s) in "
                f"{self._clock() - started:.1f} s ({exc})",
                retry_after=exc.retry_after,
            ) from None
        except OpenedState:
            _log.warning("payer.circuit_open", payer=endpoint.name)
            raise PayerFault(f"{endpoint.name}: the circuit is open after repeated failures") from None

    async def _post(self, endpoint: Endpoint, path: str, message: dict[str, Any], key: str) -> Any:
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, "Accept": "application/json"}
        if endpoint.bearer_token is not None:
            headers["Authorization"] = f"Bearer {endpoint.bearer_token}"
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        url = f"{endpoint.url}/{path}"
        try:
            async with self._client(endpoint).stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                if status in _RETRYABLE_STATUSES:
                    raise _Retryable(
                        f"HTTP {status}", _retry_after(response.headers.get("Retry-After"), self._clock())
                    )
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_ANSWER_BYTES:
                        raise PayerFault(f"{endpoint.name}: the answer exceeds {MAX_ANSWER_BYTES} bytes")
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        if 400 <= status < 500:
            raise PayerRefusal(f"{endpoint.name} refused the exchange: HTTP {status}{_reason(content)}")
        if status != 200:
            raise PayerFault(f"{endpoint.name}: HTTP {status}{_reason(content)}")
        try:
            return json.loads(content)
        except ValueError:
            raise PayerFault(f"{endpoint.name}: the answer is not JSON", code="payer-protocol") from None


def _reason(content: bytes | bytearray) -> str:
    """The code and message of a protocol ``error`` answer, when the body is one."""
    try:
        body = json.loads(content)
        protocol.check("error", body)
    except (ValueError, protocol.ProtocolError):
        return ""
    return f" ({body['code']}: {body['message'][:200]})"


class HttpAmo:
    """``RemoteAmo``: the AMO routed for the request's organisme."""

    def __init__(self, http: PayerHttp) -> None:
        self.http = http

    async def adjudicate(self, request: ReimbursementRequest, *, now: datetime, key: str) -> AmoAnswer:
        organisme = request.amo.organisme.value
        endpoint = self.http.routes.amo_for(organisme)
        if endpoint is None:
            raise PayerRefusal(f"no AMO is routed for organisme {organisme}")
        message = protocol.amo_request_message(key, request, now)
        answer = await self.http.exchange(endpoint, "amo/decisions", message, key)
        try:
            decision, findings = protocol.read_amo_decision(answer, key)
        except protocol.ProtocolError as exc:
            raise PayerFault(f"{endpoint.name}: {exc}", code="payer-protocol") from None
        return AmoAnswer(decision=decision, findings=findings)

    async def cancel(self, insurer: str, *, key: str, now: datetime, reason: str) -> bool:
        """``RemoteCancel``: the AMO routed for organisme ``insurer`` cancels the decision ``key``."""
        return await _cancel(self.http, "amo", self.http.routes.amo_for(insurer), insurer, key, now, reason)


async def _cancel(
    http: PayerHttp, role: str, endpoint: Endpoint | None, insurer: str, key: str, now: datetime, reason: str
) -> bool:
    if endpoint is None:
        raise PayerRefusal(f"no {role.upper()} is routed for {insurer}")
    message = protocol.cancel_request_message(role, key, now, reason)
    answer = await http.exchange(endpoint, f"{role}/cancellations", message, message["idempotency_key"])
    try:
        return protocol.read_cancel_response(role, answer, key)
    except protocol.ProtocolError as exc:
        raise PayerFault(f"{endpoint.name}: {exc}", code="payer-protocol") from None


class HttpAmc:
    """``RemoteAmc``: the mutuelle routed for the request's AMC number."""

    def __init__(self, http: PayerHttp) -> None:
        self.http = http

    async def adjudicate(
        self, request: ReimbursementRequest, amo: PayerDecision, *, now: datetime, key: str
    ) -> PayerDecision | None:
        if request.amc is None:
            return None
        number = request.amc.amc_number.value
        endpoint = self.http.routes.amc_for(number)
        if endpoint is None:
            raise PayerRefusal(f"no AMC is routed for AMC number {number}")
        message = protocol.amc_request_message(key, request, amo, now)
        answer = await self.http.exchange(endpoint, "amc/decisions", message, key)
        try:
            return protocol.read_amc_decision(answer, key)
        except protocol.ProtocolError as exc:
            raise PayerFault(f"{endpoint.name}: {exc}", code="payer-protocol") from None

    async def cancel(self, insurer: str, *, key: str, now: datetime, reason: str) -> bool:
        """``RemoteCancel``: the mutuelle routed for AMC number ``insurer`` cancels the decision ``key``."""
        return await _cancel(self.http, "amc", self.http.routes.amc_for(insurer), insurer, key, now, reason)
