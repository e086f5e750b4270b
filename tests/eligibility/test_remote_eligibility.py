"""Eligibility with remote payers: the protocol messages checked both ways, the HTTP gateway
against the network's faults (respx), and the real app asking the two simulators (in process,
through httpx's ASGI transport), which answer as the in-process payers do."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapter.bootstrap import build_app
from adapter.eligibility_flow import EligibilityFlow
from adapter.errors import PayerFault, PayerRefusal
from adapter.intake import Format
from adapter.payers import InMemoryRecords, ReferencePayers
from adapter.payers import protocol_eligibility as messages
from adapter.payers.http import PayerHttp
from adapter.payers.http_eligibility import HttpEligibility
from adapter.payers.protocol import ProtocolError
from adapter.payers.reference_eligibility import ReferenceEligibility
from adapter.payers.routing import parse_routes
from adapter.payersim import Faults, SimState, create_sim_app
from adapter.settings import Settings
from mappings.fhir import jsonio
from tests.support.bundles import as_bytes
from tests.support.eligibility import ELIGIBILITY, eligibility_bundle

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "eligibility-0001"
PAYERS = ReferencePayers.load()
LOCAL = EligibilityFlow(ReferenceEligibility(table=PAYERS.table, catalogue=PAYERS.catalogue))
QUESTION = LOCAL.read(as_bytes(eligibility_bundle(ELIGIBILITY["01-standard-benefits"])), Format.JSON)
ANSWERED = LOCAL.assess(QUESTION, records=InMemoryRecords(), now=NOW)
ROUTES_TEXT = """
amo: [{organismes: ["0"], url: "https://amo.test/lpp-payer", name: amo-test}]
amc: [{amc_numbers: ["MUTEX00001"], url: "https://amc.test/lpp-payer", name: amc-test}]
timeouts: {connect: 0.5, read: 0.5}
retries: {attempts: 3, initial: 0.001, max: 0.01, budget: 5}
breaker: {failures: 100, reset_after: 60}
"""


def test_messages_round_trip_and_are_checked_both_ways() -> None:
    request = messages.amo_eligibility_request(KEY, QUESTION.request, NOW)
    assert messages.read_amo_eligibility_request(request).request == QUESTION.request
    answer = messages.amo_eligibility_response(KEY, ANSWERED.amo)
    assert messages.read_amo_eligibility_response(answer, KEY) == ANSWERED.amo
    assert ANSWERED.amc is not None
    amc = messages.amc_eligibility_request(KEY, QUESTION.request, ANSWERED.amo, NOW)
    assert messages.read_amc_eligibility_request(amc).amo == ANSWERED.amo
    assert messages.read_amc_eligibility_response(messages.amc_eligibility_response(KEY, None), KEY) is None
    with pytest.raises(ProtocolError, match="idempotency key"):
        messages.read_amo_eligibility_response(answer, "another-key-0001")
    broken = {**answer, "answer": {**answer["answer"], "rights_open": "yes"}}
    with pytest.raises(ProtocolError, match="rights_open"):
        messages.read_amo_eligibility_response(broken, KEY)
    with pytest.raises(ProtocolError):  # the schema holds the payer: an AMC answer is not the AMO's
        messages.read_amo_eligibility_response(
            {**answer, "answer": {**answer["answer"], "payer": "amc"}}, KEY
        )


def test_an_amc_answer_cannot_pass_for_the_amos() -> None:
    assert ANSWERED.amc is not None
    with pytest.raises(ProtocolError):
        messages.amo_eligibility_response(KEY, ANSWERED.amc)


@pytest.fixture
def network() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def _gateway() -> tuple[HttpEligibility, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return HttpEligibility(PayerHttp(parse_routes(ROUTES_TEXT), sleep=sleep, clock=lambda: 1e6)), waits


def _ask(gateway: HttpEligibility) -> Any:
    async def call() -> Any:
        try:
            return await gateway.amo(QUESTION.request, now=NOW, key=KEY)
        finally:
            await gateway.http.aclose()

    return asyncio.run(call())


def test_the_gateway_retries_a_503_with_the_same_key(network: respx.MockRouter) -> None:
    route = network.post("https://amo.test/lpp-payer/amo/eligibility").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json=messages.amo_eligibility_response(KEY, ANSWERED.amo)),
        ]
    )
    gateway, waits = _gateway()
    assert _ask(gateway) == ANSWERED.amo
    assert route.call_count == 2
    sent = [json.loads(call.request.content) for call in route.calls]
    assert {body["idempotency_key"] for body in sent} == {KEY}
    assert {call.request.headers["Idempotency-Key"] for call in route.calls} == {KEY}
    assert len(waits) == 1


def test_a_4xx_is_a_refusal_and_a_broken_answer_a_fault(network: respx.MockRouter) -> None:
    network.post("https://amo.test/lpp-payer/amo/eligibility").mock(return_value=httpx.Response(400))
    with pytest.raises(PayerRefusal):
        _ask(_gateway()[0])
    network.post("https://amo.test/lpp-payer/amo/eligibility").mock(
        return_value=httpx.Response(200, json={"protocol": "lpp-payer/v1"})
    )
    with pytest.raises(PayerFault) as fault:
        _ask(_gateway()[0])
    assert fault.value.code == "payer-protocol"


class Simulators:
    def __init__(self, tmp_path: Path) -> None:
        self.faults = Faults()
        self.amo = create_sim_app(
            "amo", PAYERS, SimState(tmp_path / "amo.sqlite3"), faults=self.faults, seed=3
        )
        self.amc = create_sim_app(
            "amc", PAYERS, SimState(tmp_path / "amc.sqlite3"), faults=self.faults, seed=3
        )

    def eligibility(self) -> HttpEligibility:
        """One gateway whose transport sends each payer's exchanges to its simulator."""
        amo = httpx.ASGITransport(app=self.amo)
        amc = httpx.ASGITransport(app=self.amc)

        class ByHost(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                chosen = amo if request.url.host == "amo.test" else amc
                return await chosen.handle_async_request(request)

        routes = ROUTES_TEXT.replace("https://amo.test/lpp-payer", "http://amo.test").replace(
            "https://amc.test/lpp-payer", "http://amc.test"
        )
        return HttpEligibility(PayerHttp(parse_routes(routes), transport=ByHost()))


def test_the_app_asks_the_simulators_and_answers_as_in_process(tmp_path: Path) -> None:
    sims = Simulators(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", auth="disabled", log_level="ERROR")
    body = as_bytes(eligibility_bundle(ELIGIBILITY["01-standard-benefits"]))
    with TestClient(build_app(settings, eligibility=sims.eligibility())) as client:
        remote = client.post(
            "/CoverageEligibilityRequest/$submit",
            content=body,
            headers={"content-type": "application/fhir+json"},
        )
        assert remote.status_code == 200, remote.text
        sims.faults.update({"fail_rate": 1})
        again = client.post(  # the stored answer replays: the payers are not asked again
            "/CoverageEligibilityRequest/$submit",
            content=body,
            headers={"content-type": "application/fhir+json"},
        )
        assert again.content == remote.content
        other = eligibility_bundle(ELIGIBILITY["01-standard-benefits"])
        other["identifier"]["value"] = "ELIG-unanswered"
        unanswered = client.post(
            "/CoverageEligibilityRequest/$submit",
            content=as_bytes(other),
            headers={"content-type": "application/fhir+json"},
        )
        assert unanswered.status_code == 503
        assert unanswered.json()["issue"][0]["details"]["coding"][0]["code"] == "payer-unavailable"
    local = build_app(Settings(data_dir=tmp_path / "local", auth="disabled", log_level="ERROR"))
    with TestClient(local) as client:
        answered = client.post(
            "/CoverageEligibilityRequest/$submit",
            content=body,
            headers={"content-type": "application/fhir+json"},
        )
    strip = lambda raw: _without_times(jsonio.loads(raw))  # noqa: E731
    assert strip(remote.content) == strip(answered.content)


def _without_times(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle.pop("timestamp")
    for entry in bundle["entry"]:
        entry["resource"].pop("created")
    return bundle
