"""Pushing results out: the destinations the dispatcher delivers events to (docs/delivery.md).

``ports`` holds the extension point (:class:`Destination`, :class:`Event`, :class:`Sent`);
``mutuelle`` delivers the decision to the mutuelle's endpoint over HTTP, ``stream`` publishes
every event to an AMQP exchange. The dispatcher that drives them, on the store's outbox, is
``adapter.service.dispatch``.
"""

from __future__ import annotations

from adapter.delivery.ports import Destination, Event, SendStatus, Sent

__all__ = ["Destination", "Event", "SendStatus", "Sent"]
