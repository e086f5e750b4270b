"""The simulator's own state, as a remote payer keeps its own: the beneficiaries' delivery
history and forfait ledger, and every decision by idempotency key (an embedded SQLite file,
or memory).

The adapter's store is not used: a remote payer shares nothing with the adapter. Records are
kept as their plain-JSON view (``adapter.domain.jsonable``). One lock and one ``BEGIN
IMMEDIATE`` transaction per decision make read-compute-write atomic.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapter.domain.jsonable import from_jsonable, to_jsonable
from adapter.domain.values import Nir
from adapter.rules.history import DeliveryRecord
from adapter.rules.ledger import LedgerEntry

__all__ = ["Decided", "SimRecords", "SimState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    key TEXT PRIMARY KEY, type TEXT NOT NULL, request_hash TEXT NOT NULL,
    answer TEXT NOT NULL, decided INTEGER NOT NULL DEFAULT 1, asked INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, nir TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_nir ON deliveries (nir);
CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, nir TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_nir ON ledger (nir);
CREATE TABLE IF NOT EXISTS received (
    event_id TEXT PRIMARY KEY, claim_responses TEXT NOT NULL, received INTEGER NOT NULL DEFAULT 1
);
"""


@dataclass(frozen=True, slots=True)
class Decided:
    """A stored decision: the request's hash it answered and the answer sent."""

    request_hash: str
    answer: dict[str, Any]


class _History:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]:
        rows = self._connection.execute(
            "SELECT record FROM deliveries WHERE nir = ? ORDER BY id", (nir.value,)
        )
        return tuple(from_jsonable(DeliveryRecord, json.loads(record)) for (record,) in rows)

    def record(self, records: Iterable[DeliveryRecord]) -> None:
        self._connection.executemany(
            "INSERT INTO deliveries (nir, record) VALUES (?, ?)",
            [(record.nir.value, json.dumps(to_jsonable(record))) for record in records],
        )


class _Ledger:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]:
        rows = self._connection.execute("SELECT entry FROM ledger WHERE nir = ? ORDER BY id", (nir.value,))
        return tuple(from_jsonable(LedgerEntry, json.loads(entry)) for (entry,) in rows)

    def apply(self, entries: Iterable[LedgerEntry]) -> None:
        self._connection.executemany(
            "INSERT INTO ledger (nir, entry) VALUES (?, ?)",
            [(entry.nir.value, json.dumps(to_jsonable(entry))) for entry in entries],
        )


@dataclass(frozen=True, slots=True)
class SimRecords:
    """``PayerRecords`` on the simulator's open transaction."""

    history: _History
    ledger: _Ledger


class SimState:
    """The simulator's database: ``path`` a SQLite file (created owner-only), or None for memory."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._connection = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        with self._lock:
            if path is not None:
                # WAL, flushed at checkpoints: a killed simulator loses nothing it answered; only
                # a crash of the machine could, which a simulator may afford.
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[SimRecords]:
        """One decision's unit of work: everything it writes commits together, or nothing."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield SimRecords(history=_History(self._connection), ledger=_Ledger(self._connection))
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def decided(self, key: str) -> Decided | None:
        """The decision stored under ``key``, counting this ask (call inside :meth:`transaction`)."""
        row = self._connection.execute(
            "SELECT request_hash, answer FROM decisions WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        self._connection.execute("UPDATE decisions SET asked = asked + 1 WHERE key = ?", (key,))
        return Decided(request_hash=row[0], answer=json.loads(row[1]))

    def keep(self, key: str, kind: str, request_hash: str, answer: dict[str, Any]) -> None:
        """Store a new decision (call inside :meth:`transaction`)."""
        self._connection.execute(
            "INSERT INTO decisions (key, type, request_hash, answer) VALUES (?, ?, ?, ?)",
            (key, kind, request_hash, json.dumps(answer, ensure_ascii=False)),
        )

    def receive(self, event_id: str, claim_responses: Sequence[str]) -> bool:
        """Record a delivered decision once per event id (a mutuelle's deduplication); True when it
        is new (applied now), False for a repeat (only counted)."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                seen = self._connection.execute(
                    "UPDATE received SET received = received + 1 WHERE event_id = ?", (event_id,)
                ).rowcount
                if not seen:
                    self._connection.execute(
                        "INSERT INTO received (event_id, claim_responses) VALUES (?, ?)",
                        (event_id, json.dumps(list(claim_responses))),
                    )
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")
        return not seen

    def received(self) -> dict[str, Any]:
        """The decisions delivered to this mutuelle: per event id, how often it arrived (it was
        applied once) and the ClaimResponse ids it carried."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT event_id, claim_responses, received FROM received ORDER BY event_id"
            ).fetchall()
        events = {
            event_id: {"received": count, "applied": 1, "claim_responses": json.loads(ids)}
            for event_id, ids, count in rows
        }
        return {
            "applied": len(events),
            "received": sum(entry["received"] for entry in events.values()),
            "events": events,
        }

    def stats(self) -> dict[str, Any]:
        """Decisions per key (``decided`` is how often it was computed: never more than 1)."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT key, decided, asked FROM decisions ORDER BY key"
            ).fetchall()
        keys = {key: {"decided": decided, "asked": asked} for key, decided, asked in rows}
        return {
            "decisions": len(keys),
            "asked": sum(entry["asked"] for entry in keys.values()),
            "keys": keys,
        }

    def close(self) -> None:
        with self._lock:
            self._connection.close()
