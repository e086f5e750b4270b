"""Subscriptions through the real app and store: registration and its handshake, validation,
tenancy, signed and numbered notifications through the worker, retries with backoff and the
error state, against a real HTTP receiver on the loopback."""

from __future__ import annotations

import asyncio
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapter.access import Caller
from adapter.api import create_app
from adapter.bootstrap import build_app
from adapter.errors import AdapterError
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.notify import RestHook, SecretBox, verify
from adapter.payers import ReferencePayers
from adapter.service.claims import StoreService
from adapter.service.dispatch import Dispatcher, DispatchSettings
from adapter.service.subscriptions import StoreSubscriptions, SubscriptionSettings
from adapter.settings import Settings
from adapter.store import Store
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from mappings.systems import BACKPORT_PAYLOAD_CONTENT, Canon
from tests.support.receiver import receiver

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
CANON = Canon()
SECRET = "s3cr3t-for-tests-only-0123456789abcdef"  # noqa: S105 - a test secret
JSON = "application/fhir+json"
CALLERS = {
    "Bearer a": Caller(client_id="supplier-a", siret=frozenset({"81234567600124"})),
    "Bearer b": Caller(client_id="supplier-b", siret=frozenset({"79876543400278"})),
}


class Denied(AdapterError):
    code = "auth-invalid"
    http_status = 401


class Tenants:
    """Two clients, each seeing only its own."""

    def authenticate(self, authorization: str | None, *, scope: str, now: datetime) -> Caller:
        caller = CALLERS.get(authorization or "")
        if caller is None:
            raise Denied("no such token")
        return caller


class Clock:
    """A clock the test moves (the worker's and the notifications')."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    client: TestClient
    claims: StoreService
    subscriptions: StoreSubscriptions
    clock: Clock

    def dispatcher(self) -> Dispatcher:
        settings = DispatchSettings(max_attempts=3, initial=30.0, max_backoff=600.0)
        return Dispatcher(
            self.claims,
            [self.subscriptions.destination()],
            clock=self.clock,
            name="test-dispatcher",
            settings=settings,
            seed=7,
        )

    def drain(self, rounds: int = 4) -> None:
        """Rounds of the dispatcher, as the worker runs them."""
        dispatcher = self.dispatcher()

        async def go() -> None:
            for _ in range(rounds):
                await dispatcher.run_once()

        asyncio.run(go())

    def complete(self, caller: Caller, fixture: str = "01-purchase-standard") -> dict[str, Any]:
        """Adjudicate a claim for ``caller`` in process: its answer is final at once (claim.completed)."""
        answer = self.claims.submit(
            (FIXTURES / f"{fixture}.json").read_bytes(), Format.JSON, caller=caller, now=self.clock()
        )
        return answer.resource


def build_world(store: Store, tmp_path: Path, **settings: Any) -> World:
    clock = Clock()
    claims = StoreService(store, SubmitFlow(ReferencePayers.load()))
    subscriptions = StoreSubscriptions(
        store,
        notifier=RestHook(timeout=2.0, clock=time.time),
        box=SecretBox(os.urandom(32)),
        canon=CANON,
        clock=clock,
        settings=SubscriptionSettings(**settings),
    )
    app = create_app(
        Settings(data_dir=tmp_path, log_level="ERROR"),
        claims,
        Tenants(),
        clock=clock,
        subscriptions=subscriptions,
    )
    return World(TestClient(app, raise_server_exceptions=False), claims, subscriptions, clock)


@pytest.fixture
def world(store: Store, tmp_path: Path) -> Iterator[World]:
    built = build_world(store, tmp_path)
    with built.client:
        yield built


def subscription(
    endpoint: str, *, criteria: str = "ClaimResponse", content: str | None = None, **extra: Any
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "type": "rest-hook",
        "endpoint": endpoint,
        "payload": JSON,
        "extension": [{"url": CANON.subscription_secret, "valueString": SECRET}],
    }
    if content is not None:
        channel["_payload"] = {"extension": [{"url": BACKPORT_PAYLOAD_CONTENT, "valueCode": content}]}
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "final answers of supplier claims",
        "criteria": criteria,
        "channel": channel,
        **extra,
    }


def post(world: World, resource: dict[str, Any], token: str = "Bearer a") -> Any:  # noqa: S107
    return world.client.post(
        "/Subscription",
        content=jsonio.dumps(resource),
        headers={"Authorization": token, "Content-Type": JSON},
    )


def codes_and_paths(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(issue["details"]["coding"][0]["code"], issue.get("expression", [])) for issue in body["issue"]]


def parameters(notification: dict[str, Any]) -> dict[str, Any]:
    status = notification["entry"][0]["resource"]
    assert status["resourceType"] == "Parameters"
    return {p["name"]: p for p in status["parameter"]}


# -- registration and the handshake ------------------------------------------------------


def test_a_subscription_is_active_once_the_endpoint_acknowledges_the_handshake(world: World) -> None:
    with receiver() as hook:
        created = post(world, subscription(hook.url))
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "active"
    assert created.headers["location"].endswith(f"/Subscription/{body['id']}")
    assert SECRET not in created.text
    [handshake] = hook.received
    assert verify(SECRET, handshake.headers["x-signature"], handshake.body, now=int(time.time()))
    notification = jsonio.loads(handshake.body)
    assert notification["type"] == "history"
    assert notification["id"] == handshake.headers["x-event-id"]
    params = parameters(notification)
    assert params["type"]["valueCode"] == "handshake"
    assert params["events-since-subscription-start"]["valueString"] == "0"
    assert params["subscription"]["valueReference"]["reference"] == f"Subscription/{body['id']}"

    read = world.client.get(f"/Subscription/{body['id']}", headers={"Authorization": "Bearer a"})
    assert read.status_code == 200
    assert read.json() == body
    assert SECRET not in read.text
    assert "subscription-signing-secret" not in read.text
    with world.claims.store.read() as tx:
        stored = tx.subscription(body["id"], client_id=None)
    assert stored is not None
    assert SECRET.encode() not in stored.secret_sealed  # sealed at rest


def test_a_refused_handshake_leaves_the_subscription_in_error_with_the_reason(world: World) -> None:
    with receiver() as hook:
        hook.default = 403
        created = post(world, subscription(hook.url))
    assert created.status_code == 201
    assert created.json()["status"] == "error"
    assert created.json()["error"] == "handshake failed: the endpoint answered HTTP 403"


def test_a_subscription_in_xml_answers_in_xml(world: World) -> None:
    with receiver() as hook:
        created = world.client.post(
            "/Subscription",
            content=dump_xml(subscription(hook.url, content="full-resource")),
            headers={"Authorization": "Bearer a", "Content-Type": "application/fhir+xml"},
        )
    assert created.status_code == 201
    assert created.headers["content-type"].startswith("application/fhir+xml")
    assert b'<status value="active"/>' in created.content
    assert b"full-resource" in created.content
    assert SECRET.encode() not in created.content


@pytest.mark.parametrize(
    ("change", "status", "expected"),
    [
        ({"criteria": "Patient?name=x"}, 422, [("subscription-criteria", ["Subscription.criteria"])]),
        (
            {"criteria": "ClaimResponse?patient=123"},
            422,
            [("subscription-criteria", ["Subscription.criteria"])],
        ),
        (
            {"criteria": "ClaimResponse?outcome=queued"},
            422,
            [("subscription-criteria", ["Subscription.criteria"])],
        ),
        (
            {"endpoint": "http://receiver.example/hook"},
            422,
            [("subscription-endpoint", ["Subscription.channel.endpoint"])],
        ),
        (
            {"endpoint": "https://user:pw@receiver.example/hook"},
            422,
            [("subscription-endpoint", ["Subscription.channel.endpoint"])],
        ),
        ({"type": "email"}, 422, [("subscription-channel", ["Subscription.channel.type"])]),
        (
            {"payload": "application/fhir+xml"},
            422,
            [("subscription-channel", ["Subscription.channel.payload"])],
        ),
        ({"secret": "short"}, 422, [("subscription-secret", ["Subscription.channel.extension[0].value"])]),
        ({"end": "2001-01-01T00:00:00+00:00"}, 422, [("subscription-end", ["Subscription.end"])]),
    ],
)
def test_what_the_adapter_does_not_support_is_a_4xx_naming_the_element(
    world: World, change: dict[str, str], status: int, expected: list[tuple[str, list[str]]]
) -> None:
    resource = subscription("https://receiver.example/hook", criteria=change.get("criteria", "ClaimResponse"))
    channel = resource["channel"]
    for key in ("endpoint", "type", "payload"):
        if key in change:
            channel[key] = change[key]
    if "secret" in change:
        channel["extension"][0]["valueString"] = change["secret"]
    if "end" in change:
        resource["end"] = change["end"]
    answer = post(world, resource)
    assert answer.status_code == status
    assert codes_and_paths(answer.json()) == expected


def test_a_missing_secret_and_a_wrong_resource_are_refused(world: World) -> None:
    resource = subscription("https://receiver.example/hook")
    del resource["channel"]["extension"]
    answer = post(world, resource)
    assert answer.status_code == 422
    [(code, [path])] = codes_and_paths(answer.json())
    assert code == "subscription-secret"
    assert path == f"Subscription.channel.extension.where(url='{CANON.subscription_secret}')"
    wrong = post(world, {"resourceType": "Patient"})
    assert wrong.status_code == 400
    assert codes_and_paths(wrong.json())[0][0] == "resource-type-wrong"
    broken = world.client.post(
        "/Subscription", content=b"{", headers={"Authorization": "Bearer a", "Content-Type": JSON}
    )
    assert broken.status_code == 400


# -- tenancy ------------------------------------------------------------------------------


def test_each_client_sees_and_deletes_only_its_own_subscriptions(world: World) -> None:
    with receiver() as hook:
        mine = post(world, subscription(hook.url)).json()["id"]
    a, b = {"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}
    assert world.client.get(f"/Subscription/{mine}", headers=b).status_code == 404
    assert world.client.delete(f"/Subscription/{mine}", headers=b).status_code == 404
    assert world.client.get("/Subscription", headers=b).json()["total"] == 0
    listed = world.client.get("/Subscription", headers=a).json()
    assert listed["total"] == 1
    assert listed["entry"][0]["resource"]["id"] == mine
    assert world.client.get("/Subscription?status=active", headers=a).status_code == 400
    assert world.client.delete(f"/Subscription/{mine}", headers=a).status_code == 204
    assert world.client.get(f"/Subscription/{mine}", headers=a).status_code == 404
    assert world.client.get("/Subscription", headers={"Authorization": "Bearer nobody"}).status_code == 401


# -- notifications --------------------------------------------------------------------------


def test_a_completion_is_posted_signed_and_numbered_to_the_subscribers_who_may_read_it(world: World) -> None:
    with receiver() as hook_a, receiver() as hook_b:
        mine = post(world, subscription(hook_a.url)).json()["id"]
        post(world, subscription(hook_b.url), token="Bearer b")  # noqa: S106
        answer = world.complete(CALLERS["Bearer a"])
        world.drain()
        answer_two = world.complete(CALLERS["Bearer a"], "03-two-lines")
        world.drain()
    assert len(hook_b.received) == 1  # its handshake only: supplier-b may not read supplier-a's claims
    _, first, second = hook_a.received
    numbers = []
    for sent, claim in ((first, answer), (second, answer_two)):
        assert verify(SECRET, sent.headers["x-signature"], sent.body, now=int(time.time()))
        assert not verify(
            "another-secret-of-enough-length-000000",
            sent.headers["x-signature"],
            sent.body,
            now=int(time.time()),
        )
        notification = jsonio.loads(sent.body)
        assert notification["id"] == sent.headers["x-event-id"]
        params = parameters(notification)
        assert params["type"]["valueCode"] == "event-notification"
        [event] = [
            p for p in notification["entry"][0]["resource"]["parameter"] if p["name"] == "notification-event"
        ]
        parts = {part["name"]: part for part in event["part"]}
        numbers.append(parts["event-number"]["valueString"])
        assert sent.headers["x-event-number"] == parts["event-number"]["valueString"]
        amo_id = claim["entry"][0]["resource"]["id"]
        assert parts["focus"]["valueReference"]["reference"] == f"ClaimResponse/{amo_id}"
        assert len(notification["entry"]) == 1  # id-only: no resource travels
    assert numbers == ["1", "2"]
    assert first.headers["x-event-id"] != second.headers["x-event-id"]
    read = world.client.get(f"/Subscription/{mine}", headers={"Authorization": "Bearer a"}).json()
    assert read["status"] == "active"


def test_full_resource_carries_the_claim_responses_and_outcome_criteria_filter(world: World) -> None:
    with receiver() as full, receiver() as errors_only:
        post(world, subscription(full.url, content="full-resource"))
        post(world, subscription(errors_only.url, criteria="ClaimResponse?outcome=error"))
        answer = world.complete(CALLERS["Bearer a"])
        world.drain()
    assert len(errors_only.received) == 1  # the handshake: the claim's outcome is complete
    _, sent = full.received
    entries = jsonio.loads(sent.body)["entry"]
    sent_ids = [entry["resource"]["id"] for entry in entries[1:]]
    expected = [
        e["resource"]["id"] for e in answer["entry"] if e["resource"]["resourceType"] == "ClaimResponse"
    ]
    assert sent_ids == expected


def test_a_failing_endpoint_is_retried_with_backoff_then_the_subscription_is_in_error(world: World) -> None:
    with receiver() as hook:
        mine = post(world, subscription(hook.url)).json()["id"]
        hook.default = 503
        world.complete(CALLERS["Bearer a"])
        world.drain()
        assert len(hook.received) == 2  # handshake, first attempt; the next waits out its backoff
        world.drain()
        assert len(hook.received) == 2
        world.clock.now += timedelta(seconds=31)  # the first backoff: 15 to 30 s
        world.drain()
        assert len(hook.received) == 3
        world.drain()
        assert len(hook.received) == 3
        world.clock.now += timedelta(seconds=61)  # the second: 30 to 60 s; the last attempt
        world.drain()
    _, *attempts = hook.received
    assert len(attempts) == 3  # max_attempts
    assert len({sent.headers["x-event-id"] for sent in attempts}) == 1  # one event, retried
    assert {sent.body for sent in attempts} == {attempts[0].body}
    read = world.client.get(f"/Subscription/{mine}", headers={"Authorization": "Bearer a"}).json()
    assert read["status"] == "error"
    assert read["error"] == "a notification could not be delivered: the endpoint answered HTTP 503"
    with world.claims.store.read() as tx:
        [dead] = tx.deliveries(caller=Caller(client_id="ops", everything=True), state="dead")
    assert (dead.destination, dead.target, dead.attempts) == ("subscription", mine, 3)
    world.complete(CALLERS["Bearer a"], "03-two-lines")  # a subscription in error is not notified
    world.drain()
    with world.claims.store.read() as tx:
        sent = tx.deliveries(caller=Caller(client_id="ops", everything=True), destination="subscription")
    # the dead notification, and its dead letter that put the subscription in error; nothing since
    assert [(d.event_type, d.state) for d in sent] == [
        ("claim.completed", "dead"),
        ("delivery.failed", "delivered"),
    ]


def test_a_deleted_subscription_gets_no_more_notifications(world: World) -> None:
    with receiver() as hook:
        mine = post(world, subscription(hook.url)).json()["id"]
        world.complete(CALLERS["Bearer a"])
        world.client.delete(f"/Subscription/{mine}", headers={"Authorization": "Bearer a"})
        world.drain()
    assert len(hook.received) == 1


def test_metadata_declares_subscriptions(world: World) -> None:
    statement = world.client.get("/metadata").json()
    [declared] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Subscription"]
    assert {i["code"] for i in declared["interaction"]} == {"create", "read", "delete", "search-type"}
    assert declared["supportedProfile"] == [
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
    ]


def test_the_served_app_notifies_through_its_own_worker(tmp_path: Path) -> None:
    """``adapter serve``'s app as built by the composition root: its embedded worker delivers a
    final answer to the subscription, signed, without anything else to run."""
    settings = Settings(data_dir=tmp_path / "data", auth="disabled", log_level="ERROR")
    with receiver() as hook, TestClient(build_app(settings)) as client:
        created = client.post(
            "/Subscription", content=jsonio.dumps(subscription(hook.url)), headers={"Content-Type": JSON}
        )
        assert created.json()["status"] == "active"
        submitted = client.post(
            "/Claim/$submit",
            content=(FIXTURES / "01-purchase-standard.json").read_bytes(),
            headers={"Content-Type": JSON},
        )
        assert submitted.status_code == 200
        deadline = time.monotonic() + 30
        while len(hook.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    _, sent = hook.received
    assert verify(SECRET, sent.headers["x-signature"], sent.body, now=int(time.time()))
    [event] = [
        p
        for p in jsonio.loads(sent.body)["entry"][0]["resource"]["parameter"]
        if p["name"] == "notification-event"
    ]
    focus = {part["name"]: part for part in event["part"]}["focus"]["valueReference"]["reference"]
    assert focus == f"ClaimResponse/{submitted.json()['entry'][0]['resource']['id']}"
    assert (tmp_path / "data" / "subscription-secrets.key").stat().st_mode & 0o777 == 0o600


def test_the_subscriptions_search_pages_with_links(world: World) -> None:
    a = {"Authorization": "Bearer a"}
    with receiver() as hook:
        first = post(world, subscription(hook.url)).json()["id"]
        world.clock.now += timedelta(seconds=1)  # oldest first
        second = post(world, subscription(hook.url)).json()["id"]
    page = world.client.get("/Subscription?_count=1", headers=a).json()
    assert page["total"] == 2
    assert [entry["resource"]["id"] for entry in page["entry"]] == [first]
    [following] = [link["url"] for link in page["link"] if link["relation"] == "next"]
    rest = world.client.get(following.removeprefix("http://testserver"), headers=a).json()
    assert [entry["resource"]["id"] for entry in rest["entry"]] == [second]
    assert [link["relation"] for link in rest["link"]] == ["self", "previous"]


def test_a_subscription_past_its_end_is_off_and_notified_no_more(world: World) -> None:
    end = (world.clock() + timedelta(hours=1)).isoformat()
    with receiver() as hook:
        mine = post(world, subscription(hook.url, end=end)).json()
        assert mine["status"] == "active"
        world.clock.now += timedelta(hours=2)
        world.complete(CALLERS["Bearer a"])
        world.drain()
    assert len(hook.received) == 1  # the handshake only
    read = world.client.get(f"/Subscription/{mine['id']}", headers={"Authorization": "Bearer a"}).json()
    assert read["status"] == "off"
