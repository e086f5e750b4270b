"""The payer simulator: the reference payers over the protocol, with records of their own, one
decision per idempotency key whatever the faults, and the gateways talking to it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.domain import BusinessIdentifier, PayerDecision
from adapter.errors import PayerFault, PayerRefusal
from adapter.intake import read_submission
from adapter.payers import ReferencePayers, reference_payers
from adapter.payers.http import HttpAmc, HttpAmo, PayerHttp
from adapter.payers.ports import AmoAnswer
from adapter.payers.routing import PayerRoutes, parse_routes
from adapter.payersim import Faults, SimState, create_sim_app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REQUEST = read_submission((FIXTURES / "01-purchase-standard.json").read_bytes()).request
PAYERS = ReferencePayers.load()


def _routes(amo_url: str, amc_url: str, attempts: int = 6) -> PayerRoutes:
    assert REQUEST.amc is not None
    return parse_routes(
        f"""
amo: [{{organismes: ["0"], url: "{amo_url}", name: amo-sim}}]
amc: [{{amc_numbers: ["{REQUEST.amc.amc_number.value}"], url: "{amc_url}", name: amc-sim}}]
timeouts: {{connect: 2, read: 5}}
retries: {{attempts: {attempts}, initial: 0.001, max: 0.01, budget: 10}}
breaker: {{failures: 50, reset_after: 1}}
"""
    )


class Sims:
    """An AMO and an AMC simulator in process, and the gateways that reach them."""

    def __init__(self, tmp_path: Path, faults: Faults | None = None, seed: int = 7) -> None:
        self.faults = faults or Faults()
        self.amo_state = SimState(tmp_path / "amo" / "payer.sqlite3")
        self.amc_state = SimState(tmp_path / "amc" / "payer.sqlite3")
        self.amo_app = create_sim_app("amo", PAYERS, self.amo_state, faults=self.faults, seed=seed)
        self.amc_app = create_sim_app("amc", PAYERS, self.amc_state, faults=self.faults, seed=seed)
        routes = _routes("http://amo.sim", "http://amc.sim")
        self.amo_http = PayerHttp(routes, transport=httpx.ASGITransport(app=self.amo_app))
        self.amc_http = PayerHttp(routes, transport=httpx.ASGITransport(app=self.amc_app))

    async def both(self, request: Any, key: str) -> tuple[AmoAnswer, PayerDecision | None]:
        amo = await HttpAmo(self.amo_http).adjudicate(request, now=NOW, key=f"{key}-amo")
        amc = await HttpAmc(self.amc_http).adjudicate(request, amo.decision, now=NOW, key=f"{key}-amc")
        return amo, amc

    def run(self, *calls: tuple[Any, str]) -> list[tuple[AmoAnswer, PayerDecision | None]]:
        async def go() -> list[tuple[AmoAnswer, PayerDecision | None]]:
            try:
                return [await self.both(request, key) for request, key in calls]
            finally:
                await self.amo_http.aclose()
                await self.amc_http.aclose()

        return asyncio.run(go())


def _twin(n: int) -> Any:
    return replace(
        REQUEST, submission=BusinessIdentifier(system=REQUEST.submission.system, value=f"TWIN-{n}")
    )


def test_the_simulators_decide_as_the_reference_payers_in_process(tmp_path: Path) -> None:
    [(amo, amc)] = Sims(tmp_path).run((REQUEST, "claim-0001"))
    local_amo, local_amc = reference_payers()
    expected = local_amo.adjudicate(REQUEST, now=NOW)
    assert amo == expected
    assert amc == local_amc.adjudicate(REQUEST, expected.decision, now=NOW)
    assert (amo.decision.benefit_total.amount, amc is not None and amc.benefit_total.amount) == (60, 90)


def test_a_simulator_keeps_its_own_records(tmp_path: Path) -> None:
    """The same delivery billed again under another key is a duplicate to the remote AMO."""
    sims = Sims(tmp_path)
    [(first, _), (second, _)] = sims.run((REQUEST, "claim-0001"), (_twin(1), "claim-0002"))
    assert not first.findings
    assert "duplicate-delivery" in {finding.code for finding in second.findings}
    assert sims.amo_state.stats()["decisions"] == 2


def test_faults_are_retried_with_the_same_key_and_nothing_is_decided_twice(tmp_path: Path) -> None:
    """Half the exchanges fail, half of those after deciding: every claim still gets the decision
    the payer made the first time, and no key was ever computed twice."""
    sims = Sims(tmp_path, Faults(fail_rate=0.5), seed=11)
    claims = [(_twin(n), f"claim-{n:04d}") for n in range(12)]
    answers = sims.run(*claims)
    assert len(answers) == 12
    for state in (sims.amo_state, sims.amc_state):
        stats = state.stats()
        assert stats["decisions"] == 12
        assert {entry["decided"] for entry in stats["keys"].values()} == {1}
        assert stats["asked"] > 12  # some answers were lost and asked for again
    # the first claim's AMO decision is the only one without duplicates: the rest are twins
    assert not answers[0][0].findings


def test_a_key_reused_for_another_request_is_refused(tmp_path: Path) -> None:
    sims = Sims(tmp_path)
    sims.run((REQUEST, "claim-0001"))
    with pytest.raises(PayerRefusal, match="409 \\(key-reused"):
        sims.run((_twin(9), "claim-0001"))


def test_a_simulator_that_always_fails_gives_a_fault(tmp_path: Path) -> None:
    with pytest.raises(PayerFault):
        Sims(tmp_path, Faults(fail_rate=1.0)).run((REQUEST, "claim-0001"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[str]:
    """``adapter payer-sim --role amo`` as a real process, with latency and faults."""
    port = _free_port()
    command = [
        sys.executable, "-m", "adapter.cli", "payer-sim", "--role", "amo", "--port", str(port),
        "--latency-ms", "5", "--fail-rate", "0.3", "--seed", "3", "--data-dir", str(tmp_path / "sim"),
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, "ADAPTER_DATA_DIR": str(tmp_path)})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/_health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_payer_sim_command_serves_the_protocol(sim_process: str) -> None:
    routes = _routes(sim_process, "http://unused.test", attempts=8)
    http = PayerHttp(routes)

    async def go() -> list[AmoAnswer]:
        try:
            return [
                await HttpAmo(http).adjudicate(_twin(n), now=NOW, key=f"claim-{n:04d}-amo") for n in range(5)
            ]
        finally:
            await http.aclose()

    answers = asyncio.run(go())
    assert answers[0].decision.benefit_total.amount == 60
    stats = httpx.get(f"{sim_process}/_stats", timeout=5).json()
    assert stats["role"] == "amo"
    assert stats["decisions"] == 5
    assert {entry["decided"] for entry in stats["keys"].values()} == {1}
    changed = httpx.put(f"{sim_process}/_faults", json={"fail_rate": 0}, timeout=5)
    assert changed.json()["fail_rate"] == 0
    refused = httpx.put(f"{sim_process}/_faults", json={"fail_rate": 2}, timeout=5)
    assert refused.status_code == 400
