"""The cancel exchange of the payer protocol: its messages checked both ways, the gateways, and
the simulator reversing its own records once per cancellation, whatever the faults."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapter.domain import PayerKind
from adapter.errors import PayerRefusal
from adapter.flow import payer_key
from adapter.payers import protocol
from adapter.payers.http import HttpAmc, HttpAmo
from adapter.payers.ports import RemoteCancel
from adapter.payersim import Faults, SimState
from tests.payers.test_payersim import REQUEST, Sims

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
KEY = "claim-0001.amo"


@pytest.mark.parametrize("role", ["amo", "amc"])
def test_cancel_messages_round_trip(role: str) -> None:
    request = protocol.cancel_request_message(role, KEY, NOW, "duplicate")
    asked = protocol.read_cancel_request(role, request)
    assert (asked.key, asked.decision_key, asked.now, asked.reason) == (
        f"{KEY}.cancel",
        KEY,
        NOW,
        "duplicate",
    )
    for cancelled in (True, False):
        answer = protocol.cancel_response_message(role, KEY, cancelled=cancelled)
        assert protocol.read_cancel_response(role, answer, KEY) is cancelled


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"reason": "bored"}, "reason"),
        ({"idempotency_key": "other-key.cancel"}, "idempotency"),
        ({"type": "amc-cancel-request"}, "type"),
        ({"extra": 1}, "Additional properties"),
    ],
)
def test_a_cancel_request_that_breaks_the_protocol_is_refused(change: dict[str, Any], reason: str) -> None:
    message = {**protocol.cancel_request_message("amo", KEY, NOW, "other"), **change}
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.read_cancel_request("amo", message)


def test_a_cancel_answer_for_another_decision_is_refused() -> None:
    answer = protocol.cancel_response_message("amc", "claim-0002.amc", cancelled=True)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_cancel_response("amc", answer, "claim-0001.amc")
    with pytest.raises(protocol.ProtocolError):
        protocol.read_cancel_response("amo", answer, "claim-0002.amc")  # an AMC answer to the AMO


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute(sql).fetchone()[0])


def test_the_simulator_reverses_a_decision_once_through_the_gateways(tmp_path: Path) -> None:
    sims = Sims(tmp_path, faults=Faults(fail_rate=0.4), seed=11)
    amo, amc = HttpAmo(sims.amo_http), HttpAmc(sims.amc_http)
    assert isinstance(amo, RemoteCancel)
    assert isinstance(amc, RemoteCancel)
    assert REQUEST.amc is not None
    amo_key, amc_key = payer_key("claim-0001", PayerKind.AMO), payer_key("claim-0001", PayerKind.AMC)

    async def run() -> list[bool]:
        answer = await amo.adjudicate(REQUEST, now=NOW, key=amo_key)
        await amc.adjudicate(REQUEST, answer.decision, now=NOW, key=amc_key)
        assert REQUEST.amc is not None
        organisme, number = REQUEST.amo.organisme.value, REQUEST.amc.amc_number.value
        results = []
        for _ in range(3):  # retried exchanges, and the client asking again: reversed once
            results.append(await amc.cancel(number, key=amc_key, now=NOW, reason="duplicate"))
            results.append(await amo.cancel(organisme, key=amo_key, now=NOW, reason="duplicate"))
        results.append(await amo.cancel(organisme, key="claim-9999.amo", now=NOW, reason="other"))
        await sims.amo_http.aclose()
        await sims.amc_http.aclose()
        return results

    results = asyncio.run(run())
    assert results == [True] * 6 + [False]  # the unknown decision: nothing to reverse
    amo_db, amc_db = tmp_path / "amo" / "payer.sqlite3", tmp_path / "amc" / "payer.sqlite3"
    assert _count(amo_db, "SELECT COUNT(*) FROM deliveries WHERE reversed = 0") == 0
    assert _count(amo_db, "SELECT COUNT(*) FROM deliveries WHERE reversed = 1") >= 1
    assert _count(amo_db, "SELECT COUNT(*) FROM cancellations") == 2
    assert _count(amc_db, "SELECT COUNT(*) FROM cancellations") == 1
    assert sims.amo_state.reversed_records() + sims.amc_state.reversed_records() >= 1


def test_an_unrouted_cancel_is_refused(tmp_path: Path) -> None:
    amo = HttpAmo(Sims(tmp_path).amo_http)
    with pytest.raises(PayerRefusal):
        asyncio.run(amo.cancel("999999999", key=KEY, now=NOW, reason="other"))  # no route for "9"


def test_an_older_simulator_file_gains_the_cancellation_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, nir TEXT NOT NULL, record TEXT NOT NULL);"
            "CREATE TABLE ledger (id INTEGER PRIMARY KEY, nir TEXT NOT NULL, entry TEXT NOT NULL);"
        )
    state = SimState(path)
    try:
        with state.transaction("k-00000001") as records:
            assert records.history.deliveries(REQUEST.beneficiary.nir) == ()
    finally:
        state.close()
    assert _count(path, "SELECT COUNT(*) FROM pragma_table_info('ledger') WHERE name = 'reversed'") == 1
