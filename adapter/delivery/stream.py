"""The event stream: every event published to an AMQP topic exchange (RabbitMQ), with confirms.

With ``ADAPTER_EVENTS_URL`` set, each event (``claim.accepted``, ``claim.pended``,
``claim.adjudicated``, ``claim.completed``, ``claim.dead-letter``, ``claim.cancelled``,
``delivery.failed``) is published to the durable topic exchange ``ADAPTER_EVENTS_EXCHANGE``
with the event type as routing key, as a persistent JSON message: ``id``, ``type``, ``tenant``,
``time``, ``claim`` and ``resource`` (the FHIR resource), and the same id and type in the AMQP
``message_id`` and ``type`` properties. A send counts as delivered only when the broker
confirms it (publisher confirms); a broker that is down, a refused channel or a negative
confirm is a retry. A repeat carries the same ``message_id``: consumers deduplicate on it.

``delivery.failed`` of a delivery to this very stream is not published here (it would only
fail again); it stays in the dead letters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from adapter.delivery.ports import Event, Sent
from mappings.fhir import jsonio

__all__ = ["EventStream", "message_body"]

_log = structlog.get_logger("adapter.delivery.stream")
#: Seconds to connect, and to wait for the broker's confirm of one message.
_CONNECT_TIMEOUT = 5.0
_CONFIRM_TIMEOUT = 10.0


def message_body(event: Event) -> bytes:
    """The message an event becomes (UTF-8 JSON; amounts keep their digits)."""
    body: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "tenant": event.tenant,
        "time": event.time.isoformat(),
        "claim": event.claim,
        "resource": event.resource,
    }
    return jsonio.dumps(body)


class EventStream:
    """Publishes to one exchange (the only target, named after it) on one broker connection."""

    kind = "events"

    def __init__(self, url: str, *, exchange: str) -> None:
        self._url = url
        self.exchange_name = exchange
        self._lock = asyncio.Lock()
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    def targets(self, event: Event) -> Sequence[str]:
        if event.type == "delivery.failed" and event.detail.get("destination") == self.kind:
            return ()
        return (self.exchange_name,)

    async def _ready(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is not None and self._channel is not None and not self._channel.is_closed:
                return self._exchange
            await self._reset()
            self._connection = await aio_pika.connect(self._url, timeout=_CONNECT_TIMEOUT)
            self._channel = await self._connection.channel(publisher_confirms=True)
            self._exchange = await self._channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            _log.info("stream.connected", exchange=self.exchange_name)
            return self._exchange

    async def _reset(self) -> None:
        connection, self._connection, self._channel, self._exchange = self._connection, None, None, None
        if connection is not None and not connection.is_closed:
            try:
                await connection.close()
            except Exception:  # already broken: nothing more to release
                _log.debug("stream.close_failed", exc_info=True)

    async def send(self, event: Event, target: str) -> Sent:
        if target != self.exchange_name:
            return Sent.failed(
                f"no exchange {target!r} in this process (publishing to {self.exchange_name!r})"
            )
        message = aio_pika.Message(
            body=message_body(event),
            content_type="application/json",
            message_id=event.id,
            type=event.type,
            timestamp=event.time,
            headers={"tenant": event.tenant, "claim": event.claim},
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        try:
            exchange = await self._ready()
            await exchange.publish(message, routing_key=event.type, timeout=_CONFIRM_TIMEOUT)
        except Exception as exc:  # broker down, channel closed, negative confirm, timeout
            async with self._lock:
                await self._reset()
            return Sent.retry(f"broker: {type(exc).__name__}: {exc}"[:300])
        return Sent.delivered()

    async def close(self) -> None:
        async with self._lock:
            await self._reset()
