"""The operators' view of the deliveries: ``GET /$deliveries``, ``POST /$deliveries/{id}/$requeue``,
``adapter deliveries``, the metrics, and the worker that ``adapter serve`` runs when only
destinations (no remote payers) are configured."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from adapter.bootstrap import Composition, build_app
from adapter.cli import app as cli
from adapter.delivery.mutuelle import MutuelleDestination
from adapter.payers.routing import load_routes
from adapter.service.dispatch import Dispatcher
from adapter.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    routes = tmp_path / "routes.yaml"
    routes.write_text(
        'amc: [{amc_numbers: ["MUTEX00001"], delivery_url: "http://mutuelle.test/in", name: mutex}]\n',
        encoding="utf-8",
    )
    return Settings(
        data_dir=tmp_path / "data",
        auth="disabled",
        log_level="ERROR",
        payer_routes=routes,
        worker_embedded=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_app(settings)) as test_client:
        yield test_client


def _refusing_dispatcher(client: TestClient, settings: Settings) -> Dispatcher:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"resourceType": "OperationOutcome", "issue": [{"code": "invalid"}]})

    assert settings.payer_routes is not None
    destination = MutuelleDestination(
        load_routes(settings.payer_routes), transport=httpx.MockTransport(refuse)
    )
    metrics = client.app.state.ctx.metrics  # type: ignore[attr-defined]
    return Dispatcher(
        client.app.state.ctx.service,  # type: ignore[attr-defined]
        [destination],
        clock=lambda: datetime.now(UTC),
        name="test",
        observe=metrics.observe_delivery,
    )


def _drain(dispatcher: Dispatcher) -> None:
    async def run() -> None:
        for _ in range(10):
            if await dispatcher.run_once() == 0:
                return

    asyncio.run(run())


def test_a_routing_file_with_delivery_routes_only_keeps_the_payers_in_process(client: TestClient) -> None:
    answer = client.post(
        "/Claim/$submit", content=(FIXTURES / "01-purchase-standard.json").read_bytes(), headers=JSON
    )
    assert answer.status_code == 200
    outcomes = [
        e["resource"].get("outcome")
        for e in answer.json()["entry"]
        if e["resource"]["resourceType"] == "ClaimResponse"
    ]
    assert outcomes == ["complete", "complete"]


def test_dead_deliveries_are_listed_requeued_and_counted(client: TestClient, settings: Settings) -> None:
    client.post("/Claim/$submit", content=(FIXTURES / "01-purchase-standard.json").read_bytes(), headers=JSON)
    _drain(_refusing_dispatcher(client, settings))
    listed = client.get("/$deliveries", params={"state": "dead"})
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    body: dict[str, Any] = listed.json()
    assert body["total"] == 1
    (dead,) = body["deliveries"]
    assert (dead["destination"], dead["target"], dead["type"], dead["attempts"]) == (
        "mutuelle",
        "mutex",
        "claim.adjudicated",
        1,
    )
    assert dead["last_error"].startswith("HTTP 422:")
    assert client.get("/$deliveries", params={"state": "delivered"}).json() == {"total": 0, "deliveries": []}
    metrics = client.get("/metrics").text
    assert 'adapter_deliveries_total{destination="mutuelle",result="dead",target="mutex"} 1.0' in metrics

    requeued = client.post(f"/$deliveries/{dead['id']}/$requeue")
    assert requeued.status_code == 200
    assert requeued.json()["resourceType"] == "OperationOutcome"
    assert client.get("/$deliveries", params={"state": "pending"}).json()["total"] == 1
    again = client.post(f"/$deliveries/{dead['id']}/$requeue")
    assert again.status_code == 409
    assert again.json()["issue"][0]["details"]["coding"][0]["code"] == "delivery-not-dead"
    assert client.post("/$deliveries/424242/$requeue").status_code == 404
    assert client.post("/$deliveries/not-a-number/$requeue").status_code == 404


def test_a_bad_query_is_a_400_operation_outcome(client: TestClient) -> None:
    for params in ({"state": "lost"}, {"colour": "red"}, {"_count": "0"}):
        answer = client.get("/$deliveries", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["resourceType"] == "OperationOutcome"


def test_the_deliveries_command_lists_and_requeues(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/Claim/$submit", content=(FIXTURES / "01-purchase-standard.json").read_bytes(), headers=JSON)
    _drain(_refusing_dispatcher(client, settings))
    monkeypatch.setenv("ADAPTER_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    listed = runner.invoke(cli, ["deliveries", "--state", "dead"])
    assert listed.exit_code == 0, listed.output
    [line] = listed.stdout.splitlines()
    delivery_id, state, where, event_type, _claim, attempts, error = line.split("\t")
    assert (state, where, event_type, attempts) == ("dead", "mutuelle/mutex", "claim.adjudicated", "1")
    assert error.startswith("HTTP 422:")
    requeued = runner.invoke(cli, ["deliveries", "--requeue", delivery_id])
    assert (requeued.exit_code, requeued.stdout.strip()) == (0, f"delivery {delivery_id} requeued")
    again = runner.invoke(cli, ["deliveries", "--requeue", delivery_id])
    assert again.exit_code == 1
    assert "is not in the dead letters" in again.stderr
    assert runner.invoke(cli, ["deliveries", "--requeue", "9999"]).exit_code == 1
    assert runner.invoke(cli, ["deliveries", "--state", "dead"]).stdout == ""
    bad = runner.invoke(cli, ["deliveries", "--state", "lost"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output


def test_serve_runs_the_worker_for_destinations_alone(tmp_path: Path, settings: Settings) -> None:
    """With delivery routes and no remote payer, the embedded worker sends the decision."""
    received: list[str] = []

    def accept(request: httpx.Request) -> httpx.Response:
        received.append(request.headers["x-event-id"])
        return httpx.Response(200)

    class Wired(Composition):
        def destinations(self, settings: Settings) -> list[Any]:
            routes = self.routes(settings)
            assert routes is not None
            return [MutuelleDestination(routes, transport=httpx.MockTransport(accept))]

    embedded = Settings(**{**settings.model_dump(), "worker_embedded": True})
    with TestClient(Wired().app(embedded)) as test_client:
        test_client.post(
            "/Claim/$submit", content=(FIXTURES / "01-purchase-standard.json").read_bytes(), headers=JSON
        )
        deadline = time.monotonic() + 15
        states: list[str] = []
        while states != ["delivered"] and time.monotonic() < deadline:
            time.sleep(0.05)
            states = [d["state"] for d in test_client.get("/$deliveries").json()["deliveries"]]
        assert states == ["delivered"]
        assert len(received) == 1
