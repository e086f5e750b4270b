"""The event stream on RabbitMQ: every event of a claim published to the topic exchange, with
publisher confirms, in order per claim, carrying its id, type, tenant, time and FHIR resource;
a repeat carries the same message id. Runs when ``ADAPTER_TEST_AMQP_URL`` is set (CI sets it);
each test uses an exchange and a queue of its own, so that parallel runs never collide."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from adapter.access import Caller
from adapter.delivery import Event, SendStatus
from adapter.delivery.stream import EventStream
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.service.claims import StoreService
from adapter.service.dispatch import Dispatcher, DispatchSettings
from adapter.store import Store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
OPERATOR = Caller(client_id="operator", everything=True)
ENV_VAR = "ADAPTER_TEST_AMQP_URL"


def _amqp_url() -> str:
    url = os.environ.get(ENV_VAR)
    if not url:
        pytest.skip(f"{ENV_VAR} is not set: RabbitMQ tests not run")
    return url


class Consumer:
    """A queue bound to every routing key of a fresh exchange, drained into ``messages``."""

    def __init__(self, url: str, exchange: str) -> None:
        self.url = url
        self.exchange = exchange
        self.messages: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def __aenter__(self) -> Consumer:
        self.connection = await aio_pika.connect(self.url)
        self.channel = await self.connection.channel()
        self._exchange = await self.channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        self.queue = await self.channel.declare_queue(
            f"{self.exchange}.test", exclusive=True, auto_delete=True
        )
        await self.queue.bind(self._exchange, routing_key="#")
        return self

    async def drain(self, expected: int, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < expected and asyncio.get_running_loop().time() < deadline:
            message = await self.queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            self.messages.append(message)

    async def __aexit__(self, *_: object) -> None:
        await self._exchange.delete()
        await self.connection.close()


def _exchange() -> str:
    return f"adapter-test.{uuid.uuid4().hex}"


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_every_event_of_every_claim_arrives_in_order_with_its_resource(store: Store) -> None:
    url = _amqp_url()
    exchange = _exchange()
    service = StoreService(store, SubmitFlow(ReferencePayers.load()))
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    names = ("01-purchase-standard.json", "02-rental-bed.json", "08-no-mutuelle.json")

    async def scenario() -> list[Any]:
        async with Consumer(url, exchange) as consumer:
            for name in names:
                service.submit((FIXTURES / name).read_bytes(), Format.JSON, caller=OPERATOR, now=now)
            stream = EventStream(url, exchange=exchange)
            dispatcher = Dispatcher(
                service, [stream], clock=lambda: now, name="t", settings=DispatchSettings()
            )
            for _ in range(10):
                if await dispatcher.run_once() == 0:
                    break
            await dispatcher.close()
            await consumer.drain(3 * len(names))
            return consumer.messages

    messages = _run(scenario())
    assert len(messages) == 3 * len(names)
    bodies = [json.loads(message.body) for message in messages]
    by_claim: dict[str, list[str]] = {}
    for message, body in zip(messages, bodies, strict=True):
        assert message.message_id == body["id"]
        assert message.type == body["type"] == message.routing_key
        assert message.content_type == "application/json"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert body["tenant"] == "operator"
        assert datetime.fromisoformat(body["time"]) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        assert body["resource"]["resourceType"] == "Bundle"
        by_claim.setdefault(body["claim"], []).append(body["type"])
    assert len(by_claim) == len(names)
    assert all(
        types == ["claim.accepted", "claim.adjudicated", "claim.completed"] for types in by_claim.values()
    )
    assert len({body["id"] for body in bodies}) == len(bodies)
    assert {d.state for d in service.deliveries(caller=OPERATOR)} == {"delivered"}
    # the amounts keep their digits: the answer in the message is the stored answer
    first = next(body for body in bodies if body["type"] == "claim.adjudicated")
    stored = service.claim_answer(first["claim"], caller=OPERATOR)
    assert stored is not None
    assert json.dumps(first["resource"], sort_keys=True) == json.dumps(
        json.loads(stored.json), sort_keys=True
    )


def test_a_repeat_carries_the_same_message_id() -> None:
    url = _amqp_url()
    exchange = _exchange()
    event = Event(
        id=str(uuid.uuid4()),
        type="claim.completed",
        tenant="hospital-a",
        time=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        claim=str(uuid.uuid4()),
        resource={"resourceType": "Bundle", "type": "collection"},
    )

    async def scenario() -> list[Any]:
        async with Consumer(url, exchange) as consumer:
            stream = EventStream(url, exchange=exchange)
            first = await stream.send(event, exchange)
            again = await stream.send(event, exchange)
            await stream.close()
            assert first.status is again.status is SendStatus.DELIVERED
            await consumer.drain(2)
            return consumer.messages

    messages = _run(scenario())
    assert [m.message_id for m in messages] == [event.id, event.id]
    assert [m.routing_key for m in messages] == ["claim.completed", "claim.completed"]


def test_a_broker_that_cannot_be_reached_is_a_retry_not_a_failure() -> None:
    stream = EventStream("amqp://guest:guest@127.0.0.1:1/", exchange="nowhere")
    event = Event(
        id=str(uuid.uuid4()),
        type="claim.accepted",
        tenant="t",
        time=datetime(2026, 3, 2, tzinfo=UTC),
        claim="c",
        resource={"resourceType": "Bundle"},
    )

    async def scenario() -> Any:
        try:
            return await stream.send(event, "nowhere")
        finally:
            await stream.close()

    sent = _run(scenario())
    assert sent.status is SendStatus.RETRY
    assert sent.reason is not None
    assert sent.reason.startswith("broker:")
    assert "guest" not in sent.reason  # never the credentials


def test_a_failed_stream_delivery_is_not_published_to_the_stream_itself() -> None:
    stream = EventStream("amqp://127.0.0.1:1/", exchange="x")
    failed = Event(
        id="1",
        type="delivery.failed",
        tenant="t",
        time=datetime(2026, 3, 2, tzinfo=UTC),
        claim="c",
        resource={},
        detail={"destination": "events"},
    )
    assert stream.targets(failed) == ()
    assert stream.targets(replace(failed, detail={"destination": "mutuelle"})) == ("x",)
    assert stream.targets(replace(failed, type="claim.accepted", detail={})) == ("x",)
