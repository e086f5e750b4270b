"""The worker: completes pended claims from the outbox, puts aside those the payers never
decide, and keeps the outbox from growing forever.

Each round leases a batch of outbox events (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any
number of workers in any number of processes share the work without taking an event twice
at the same time; one writer at a time on SQLite). A ``claim.pending`` event asks the remote
payers again, with the claim's own keys and as of its reception, so that a payer that decided
before answers the same decision; the answer becomes the claim's next version. A payer fault
leaves the event leased: the lease is the retry interval, and after ``max_attempts`` the
claim is dead-lettered with an error answer. Events of other topics are the dispatcher's
(``adapter.service.dispatch``): with destinations configured, a loop of its own beside this one
fans every outbox event out to deliveries and sends them; the pending-claims loop marks those
events done. Completed events are deleted after ``retention`` (with a dispatcher, only once
fanned out), and delivered deliveries after the dispatcher's retention.

Nothing here blocks on a payer: the payers are awaited, and the store's work runs on threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from adapter.errors import PayerFault, StoreConnectionLost, StoreUnavailable
from adapter.service.claims import PENDING_TOPIC, StoreService
from adapter.service.dispatch import Dispatcher
from adapter.store import OutboxEvent

__all__ = ["PendingWorker", "WorkerSettings"]

_log = structlog.get_logger("adapter.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """``retry_after``: how long an event stays leased (the retry interval after a fault);
    ``max_attempts``: leases of one claim before it goes to the dead letters; ``batch``: events
    per round; ``idle``: seconds between rounds that found nothing; ``retention``: how long
    completed events are kept."""

    retry_after: timedelta = timedelta(seconds=10)
    max_attempts: int = 20
    batch: int = 20
    idle: float = 1.0
    retention: timedelta = timedelta(days=7)
    prune_every: timedelta = timedelta(minutes=10)


class PendingWorker:
    """One worker of the outbox; run :meth:`run` until its stop event is set."""

    def __init__(
        self,
        service: StoreService,
        *,
        clock: Callable[[], datetime],
        settings: WorkerSettings | None = None,
        name: str | None = None,
        dispatcher: Callable[[str], Dispatcher] | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.dispatcher = None if dispatcher is None else dispatcher(self.name)
        self._pruned_at: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until ``stop`` is set, and the dispatcher's beside them; a round that found
        nothing waits ``idle`` seconds."""
        _log.info("worker.started", worker=self.name)
        loops = [self._loop(stop, self.run_once, "worker.round_failed")]
        if self.dispatcher is not None:
            loops.append(self._loop(stop, self.dispatcher.run_once, "dispatch.round_failed"))
        try:
            await asyncio.gather(*loops)
        finally:
            if self.dispatcher is not None:
                await self.dispatcher.close()
        _log.info("worker.stopped", worker=self.name)

    async def _loop(self, stop: asyncio.Event, round_: Callable[[], Awaitable[int]], failed: str) -> None:
        while not stop.is_set():
            try:
                done = await round_()
            except (StoreUnavailable, StoreConnectionLost) as exc:  # an outage: pause, try again
                _log.warning(failed, worker=self.name, reason=str(exc))
                done = 0
            except Exception:  # a fault of ours: said with its traceback, and the worker lives on
                _log.error(failed, worker=self.name, exc_info=True)
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.idle)

    async def run_once(self) -> int:
        """One round: the events leased and handled (0 when there was nothing to do)."""
        now = self.clock()
        events = await asyncio.to_thread(self._lease, now)
        for event in events:
            if event.topic == PENDING_TOPIC:
                await self._complete(event)
            else:
                await asyncio.to_thread(self._done, event)
        if self._pruned_at is None or now - self._pruned_at >= self.settings.prune_every:
            await asyncio.to_thread(self._prune, now)
        return len(events)

    def _lease(self, now: datetime) -> list[OutboxEvent]:
        with self.service.store.write() as tx:
            return tx.claim_outbox(
                self.name, limit=self.settings.batch, now=now, lease=self.settings.retry_after
            )

    def _done(self, event: OutboxEvent) -> None:
        with self.service.store.write() as tx:
            tx.complete(event.id, self.clock())

    def _prune(self, now: datetime) -> None:
        with self.service.store.write() as tx:
            pruned = tx.prune_outbox(
                completed_before=now - self.settings.retention, keep_undispatched=self.dispatcher is not None
            )
        if self.dispatcher is not None:
            pruned += self.dispatcher.prune(now)
        self._pruned_at = now
        if pruned:
            _log.info("worker.pruned", worker=self.name, events=pruned)

    async def _complete(self, event: OutboxEvent) -> None:
        claim_id = event.payload.get("submission")
        pending = None
        if isinstance(claim_id, str):
            pending = await asyncio.to_thread(self.service.pending_claim, claim_id)
        if pending is None:  # completed meanwhile (by the submit itself, or another worker)
            await asyncio.to_thread(self._done, event)
            return
        try:
            adjudicated = await self.service.adjudicate_pending(pending)
        except PayerFault as fault:
            if event.attempts < self.settings.max_attempts:
                _log.info("claim.retry", claim=claim_id, attempt=event.attempts, reason=fault.code)
                return  # the lease runs out and the event comes back
            await asyncio.to_thread(self.service.dead_letter, pending, fault, at=self.clock())
            _log.warning("claim.dead_letter", claim=claim_id, attempts=event.attempts, reason=fault.code)
            await asyncio.to_thread(self._done, event)
            return
        await asyncio.to_thread(self.service.complete_pending, pending, adjudicated, at=self.clock())
        _log.info("claim.completed", claim=claim_id, attempt=event.attempts)
        await asyncio.to_thread(self._done, event)
