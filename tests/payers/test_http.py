"""The HTTP gateways against every fault a payer can show (respx stands in for the network).

Retries only for what may succeed next time (connection errors, timeouts, 502/503/504, 429
honouring Retry-After), always with the same key; a 4xx is a permanent refusal, never retried;
a broken answer is a fault; the breaker opens after repeated failures.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapter.errors import PayerFault, PayerRefusal
from adapter.intake import read_submission
from adapter.payers import protocol, reference_payers
from adapter.payers.http import HttpAmc, HttpAmo, PayerHttp
from adapter.payers.routing import parse_routes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "claim-0001-amo"
AMO_URL = "https://amo.test/lpp-payer/amo/decisions"
AMC_URL = "https://amc.test/lpp-payer/amc/decisions"
REQUEST = read_submission((FIXTURES / "01-purchase-standard.json").read_bytes()).request
ROUTES = parse_routes(
    f"""
amo:
  - organismes: ["{REQUEST.amo.organisme.value[:2]}"]
    url: https://amo.test/lpp-payer
    name: amo-test
amc:
  - amc_numbers: ["{REQUEST.amc.amc_number.value if REQUEST.amc else ""}"]
    url: https://amc.test/lpp-payer
    name: amc-test
timeouts: {{connect: 0.5, read: 0.5}}
retries: {{attempts: 4, initial: 0.1, max: 1.0, budget: 30}}
breaker: {{failures: 3, reset_after: 60}}
"""
)


def _answer() -> dict[str, Any]:
    amo, _ = reference_payers()
    answer = amo.adjudicate(REQUEST, now=NOW)
    return protocol.amo_decision_message(KEY, answer.decision, answer.findings)


ANSWER = _answer()


class Gateway:
    """The AMO gateway with the waits it asked for recorded instead of slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

        async def sleep(seconds: float) -> None:
            self.waits.append(seconds)

        self.http = PayerHttp(ROUTES, sleep=sleep, clock=lambda: 1_000_000.0)
        self.amo = HttpAmo(self.http)
        self.amc = HttpAmc(self.http)

    def adjudicate(self) -> Any:
        return asyncio.run(self._call())

    async def _call(self) -> Any:
        try:
            return await self.amo.adjudicate(REQUEST, now=NOW, key=KEY)
        finally:
            await self.http.aclose()


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
def network() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def ok() -> httpx.Response:
    return httpx.Response(200, json=ANSWER)


def test_a_decision_comes_back_with_the_key_sent_in_body_and_header(
    gateway: Gateway, network: respx.MockRouter
) -> None:
    route = network.post(AMO_URL).mock(return_value=ok())
    answer = gateway.adjudicate()
    assert answer.decision.benefit_total.amount == 60
    sent = route.calls.last.request
    assert sent.headers["Idempotency-Key"] == KEY
    assert json.loads(sent.content)["idempotency_key"] == KEY
    assert gateway.waits == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("connect timeout"),
        httpx.ReadTimeout("slow answer past the read timeout"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
    ],
    ids=lambda f: f.status_code if isinstance(f, httpx.Response) else type(f).__name__,
)
def test_a_retryable_fault_is_retried_with_the_same_key(
    gateway: Gateway, network: respx.MockRouter, failure: Any
) -> None:
    route = network.post(AMO_URL).mock(side_effect=[failure, failure, ok()])
    answer = gateway.adjudicate()
    assert answer.decision.benefit_total.amount == 60
    assert route.call_count == 3
    assert {json.loads(call.request.content)["idempotency_key"] for call in route.calls} == {KEY}
    assert len(gateway.waits) == 2
    assert all(0 < wait <= ROUTES.retries.max for wait in gateway.waits)


def test_retries_are_bounded_then_a_fault(gateway: Gateway, network: respx.MockRouter) -> None:
    route = network.post(AMO_URL).mock(return_value=httpx.Response(503))
    with pytest.raises(PayerFault, match="no answer after 4 attempt") as caught:
        gateway.adjudicate()
    assert route.call_count == ROUTES.retries.attempts
    assert caught.value.code == "payer-unavailable"


@pytest.mark.parametrize(("retry_after", "at_least"), [("7", 7.0), (None, 0.0)])
def test_429_waits_at_least_its_retry_after(
    gateway: Gateway, network: respx.MockRouter, retry_after: str | None, at_least: float
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    network.post(AMO_URL).mock(side_effect=[httpx.Response(429, headers=headers), ok()])
    gateway.adjudicate()
    assert len(gateway.waits) == 1
    assert gateway.waits[0] >= at_least
    if retry_after is None:
        assert gateway.waits[0] <= ROUTES.retries.max


def test_429_with_an_http_date_retry_after(gateway: Gateway, network: respx.MockRouter) -> None:
    when = "Mon, 12 Jan 1970 13:46:50 GMT"  # 10 s after the injected clock (1,000,000 s)
    network.post(AMO_URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": when}), ok()])
    gateway.adjudicate()
    assert gateway.waits[0] >= 10.0


def test_a_retry_after_beyond_the_budget_gives_up_and_passes_the_hint_on(network: respx.MockRouter) -> None:
    gateway = Gateway()
    network.post(AMO_URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "120"}))
    with pytest.raises(PayerFault) as caught:
        gateway.adjudicate()
    assert caught.value.retry_after == 120.0
    assert gateway.waits == []  # sleeping 120 s would cross the 30 s budget


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_a_4xx_is_a_permanent_refusal_never_retried(
    gateway: Gateway, network: respx.MockRouter, status: int
) -> None:
    error = protocol.error_message("key-reused", "this idempotency key was used for another request", KEY)
    route = network.post(AMO_URL).mock(return_value=httpx.Response(status, json=error))
    with pytest.raises(PayerRefusal, match=f"HTTP {status} \\(key-reused"):
        gateway.adjudicate()
    assert route.call_count == 1


@pytest.mark.parametrize("status", [500, 501, 505])
def test_another_5xx_is_a_fault_not_retried(gateway: Gateway, network: respx.MockRouter, status: int) -> None:
    route = network.post(AMO_URL).mock(return_value=httpx.Response(status))
    with pytest.raises(PayerFault, match=f"HTTP {status}"):
        gateway.adjudicate()
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({**ANSWER, "decision": {**ANSWER["decision"], "lines": "none"}}).encode(), "lines"),
        (json.dumps({**ANSWER, "idempotency_key": "claim-0002-amo"}).encode(), "claim-0002-amo"),
        (json.dumps({**ANSWER, "protocol": "lpp-payer/v0"}).encode(), "protocol"),
    ],
    ids=["malformed-json", "schema-breaking", "wrong-key", "wrong-protocol"],
)
def test_a_broken_answer_is_a_payer_fault(
    gateway: Gateway, network: respx.MockRouter, body: bytes, reason: str
) -> None:
    network.post(AMO_URL).mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(PayerFault, match=reason) as caught:
        gateway.adjudicate()
    assert caught.value.code == "payer-protocol"


def test_an_answer_too_large_is_a_fault(gateway: Gateway, network: respx.MockRouter) -> None:
    network.post(AMO_URL).mock(return_value=httpx.Response(200, content=b" " * 2_000_001))
    with pytest.raises(PayerFault, match="exceeds"):
        gateway.adjudicate()


def test_the_breaker_opens_after_repeated_failures_and_calls_nothing(network: respx.MockRouter) -> None:
    gateway = Gateway()
    route = network.post(AMO_URL).mock(return_value=httpx.Response(500))

    async def calls() -> list[str]:
        outcomes = []
        for _ in range(5):
            try:
                await gateway.amo.adjudicate(REQUEST, now=NOW, key=KEY)
            except PayerFault as exc:
                outcomes.append("open" if "circuit is open" in exc.message else "fault")
        await gateway.http.aclose()
        return outcomes

    assert asyncio.run(calls()) == ["fault", "fault", "fault", "open", "open"]
    assert route.call_count == ROUTES.breaker.failures


def test_refusals_do_not_open_the_breaker(network: respx.MockRouter) -> None:
    gateway = Gateway()
    route = network.post(AMO_URL).mock(return_value=httpx.Response(422))

    async def calls() -> None:
        for _ in range(5):
            with pytest.raises(PayerRefusal):
                await gateway.amo.adjudicate(REQUEST, now=NOW, key=KEY)
        await gateway.http.aclose()

    asyncio.run(calls())
    assert route.call_count == 5


def test_a_claim_for_an_unrouted_payer_is_refused_without_a_call(network: respx.MockRouter) -> None:
    from dataclasses import replace

    from adapter.domain import AmoOrganisme

    gateway = Gateway()
    elsewhere = replace(REQUEST, amo=replace(REQUEST.amo, organisme=AmoOrganisme("991751234")))

    async def call() -> None:
        try:
            await gateway.amo.adjudicate(elsewhere, now=NOW, key=KEY)
        finally:
            await gateway.http.aclose()

    with pytest.raises(PayerRefusal, match="no AMO is routed for organisme 991751234"):
        asyncio.run(call())
    assert network.calls.call_count == 0


def test_the_amc_gateway_sends_the_amo_decision_and_reads_the_amc_one(network: respx.MockRouter) -> None:
    amo, amc = reference_payers()
    amo_answer = amo.adjudicate(REQUEST, now=NOW)
    amc_decision = amc.adjudicate(REQUEST, amo_answer.decision, now=NOW)
    route = network.post(AMC_URL).mock(
        return_value=httpx.Response(200, json=protocol.amc_decision_message("claim-0001-amc", amc_decision))
    )
    gateway = Gateway()

    async def call() -> Any:
        try:
            return await gateway.amc.adjudicate(REQUEST, amo_answer.decision, now=NOW, key="claim-0001-amc")
        finally:
            await gateway.http.aclose()

    assert asyncio.run(call()) == amc_decision
    sent = json.loads(route.calls.last.request.content)
    assert sent["type"] == "amc-request"
    assert sent["amo_decision"]["payer"] == "amo"
