"""What the operator console relies on, against the real app and store with JWT tenancy: the
pended and dead-lettered claims found by ``state``, a claim's answer (``$answer``) and its retry
(``$requeue``), each seen only by the tenants that may read the claim (404 for the others).

Connected mode with remote payers that always fail (the simulators, over httpx's ASGI transport),
so that a submit stores the claim pending; the test then dead-letters it through the service, as
the worker does once the payers never answered.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapter.auth import mint_dev_token
from adapter.bootstrap import build_app
from adapter.errors import PayerFault
from adapter.flow import RemotePair
from adapter.payers import ReferencePayers
from adapter.payers.http import HttpAmc, HttpAmo, PayerHttp
from adapter.payers.routing import parse_routes
from adapter.payersim import Faults, SimState, create_sim_app
from adapter.service.claims import StoreService
from adapter.settings import Settings
from tests.support.identifiers import siret

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "valid" / "01-purchase-standard.json"
PROVIDER_SIRET = "81234567600124"  # the fixture's supplier
JSON = "application/fhir+json"
ROUTES = parse_routes(
    """
amo: [{organismes: ["0"], url: "http://amo.sim", name: amo-sim}]
amc: [{amc_numbers: ["MUTEX00001"], url: "http://amc.sim", name: amc-sim}]
timeouts: {connect: 5, read: 5}
retries: {attempts: 1, initial: 0.001, max: 0.01, budget: 1}
breaker: {failures: 1000, reset_after: 1}
"""
)
READ = "system/ClaimResponse.read"
WRITE = "system/Claim.write"


def _failing_payers(tmp_path: Path) -> RemotePair:
    reference = ReferencePayers.load()
    faults = Faults()
    faults.fail_rate = 1.0
    apps = {
        role: create_sim_app(role, reference, SimState(tmp_path / f"{role}.sqlite3"), faults=faults, seed=5)
        for role in ("amo", "amc")
    }
    amo = PayerHttp(ROUTES, transport=httpx.ASGITransport(app=apps["amo"]))
    amc = PayerHttp(ROUTES, transport=httpx.ASGITransport(app=apps["amc"]))

    async def close() -> None:
        await amo.aclose()
        await amc.aclose()

    return RemotePair(amo=HttpAmo(amo), amc=HttpAmc(amc), close=close)


@dataclass
class Console:
    client: TestClient
    settings: Settings

    def headers(self, client_id: str, *scopes: str) -> dict[str, str]:
        token = mint_dev_token(
            self.settings.data_dir,
            client_id=client_id,
            scopes=scopes,
            now=datetime.now(UTC),
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )
        return {"Authorization": f"Bearer {token}", "Accept": JSON}

    @property
    def service(self) -> StoreService:
        service: StoreService = self.client.app.state.ctx.service  # type: ignore[attr-defined]
        return service


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    clients = tmp_path / "clients.yaml"
    clients.write_text(
        "clients:\n"
        f'  - client_id: supplier-a\n    siret: ["{PROVIDER_SIRET}"]\n'
        f'  - client_id: supplier-b\n    siret: ["{siret("87654321", "0001")}"]\n'
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        clients_file=clients,
        log_level="ERROR",
        payer_budget=0.5,
        worker_embedded=False,
    )
    with TestClient(build_app(settings, payers=_failing_payers(tmp_path))) as client:
        yield Console(client, settings)


def _dead_claim(console: Console) -> str:
    """Fixture 01 submitted by supplier-a (stored pending), then dead-lettered."""
    headers = {**console.headers("supplier-a", WRITE), "Content-Type": JSON}
    queued = console.client.post("/Claim/$submit", content=FIXTURE.read_bytes(), headers=headers)
    assert queued.status_code == 200
    assert {e["resource"]["outcome"] for e in queued.json()["entry"]} == {"queued"}
    claim_id: str = queued.json()["entry"][0]["resource"]["request"]["reference"].split("/")[1]
    pending = console.service.pending_claim(claim_id)
    assert pending is not None
    console.service.dead_letter(pending, PayerFault("no answer from the payers"), at=datetime.now(UTC))
    return claim_id


def _claims(bundle: dict[str, Any]) -> set[str]:
    return {entry["resource"]["request"]["reference"] for entry in bundle.get("entry", [])}


def test_dead_letters_are_found_by_state_by_their_tenant_only(console: Console) -> None:
    claim_id = _dead_claim(console)
    own = console.headers("supplier-a", READ)
    other = console.headers("supplier-b", READ)

    dead = console.client.get("/ClaimResponse?state=dead", headers=own).json()
    pending = console.client.get("/ClaimResponse?state=pending", headers=own).json()
    unseen = console.client.get("/ClaimResponse?state=dead", headers=other).json()
    errors = console.client.get("/ClaimResponse?outcome=error", headers=own).json()

    assert _claims(dead) == {f"Claim/{claim_id}"}
    assert pending["total"] == 0
    assert unseen["total"] == 0
    assert _claims(errors) == {f"Claim/{claim_id}"}


def test_the_answer_is_the_tenants_and_another_tenants_claim_is_404(console: Console) -> None:
    claim_id = _dead_claim(console)

    own = console.client.get(f"/Claim/{claim_id}/$answer", headers=console.headers("supplier-a", READ))
    other = console.client.get(f"/Claim/{claim_id}/$answer", headers=console.headers("supplier-b", READ))

    assert own.status_code == 200
    kinds = [entry["resource"]["resourceType"] for entry in own.json()["entry"]]
    assert kinds[0] == "ClaimResponse"
    assert "payer-unavailable" in own.text
    assert other.status_code == 404


def test_requeue_by_the_tenant_with_the_write_scope_only(console: Console) -> None:
    claim_id = _dead_claim(console)
    path = f"/Claim/{claim_id}/$requeue"

    other = console.client.post(path, headers=console.headers("supplier-b", WRITE, READ))
    read_only = console.client.post(path, headers=console.headers("supplier-a", READ))
    unknown = console.client.post(
        "/Claim/no-such-claim/$requeue", headers=console.headers("supplier-a", WRITE)
    )
    assert (other.status_code, read_only.status_code, unknown.status_code) == (404, 403, 404)
    assert console.client.get(
        "/ClaimResponse?state=dead", headers=console.headers("supplier-a", READ)
    ).json()["total"]

    requeued = console.client.post(path, headers=console.headers("supplier-a", WRITE))
    again = console.client.post(path, headers=console.headers("supplier-a", WRITE))

    assert requeued.status_code == 200
    assert again.status_code == 409
    assert again.json()["issue"][0]["details"]["coding"][0]["code"] == "claim-not-dead"
    reader = console.headers("supplier-a", READ)
    assert _claims(console.client.get("/ClaimResponse?state=pending", headers=reader).json()) == {
        f"Claim/{claim_id}"
    }
    assert console.client.get("/ClaimResponse?state=dead", headers=reader).json()["total"] == 0


def test_created_finds_the_claim_on_its_french_day(console: Console) -> None:
    claim_id = _dead_claim(console)
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    reader = console.headers("supplier-a", READ)

    on_the_day = console.client.get(f"/ClaimResponse?created={today}", headers=reader).json()
    since = console.client.get(f"/ClaimResponse?created=ge{today}&outcome=error", headers=reader).json()
    before = console.client.get(f"/ClaimResponse?created=lt{today}", headers=reader).json()

    assert _claims(on_the_day) == {f"Claim/{claim_id}"}
    assert _claims(since) == {f"Claim/{claim_id}"}
    assert before["total"] == 0
