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
CREATE TABLE IF NOT EXISTS cancellations (
    key TEXT PRIMARY KEY, decision_key TEXT NOT NULL, cancelled INTEGER NOT NULL,
    asked INTEGER NOT NULL DEFAULT 1
);
"""
#: Columns added since the first schema (an older simulator file gets them on open): the
#: decision that wrote a record, and whether a cancellation reversed it.
_ADDED = {
    "deliveries": ("decision_key TEXT", "reversed INTEGER NOT NULL DEFAULT 0"),
    "ledger": ("decision_key TEXT", "reversed INTEGER NOT NULL DEFAULT 0"),
}


@dataclass(frozen=True, slots=True)
class Decided:
    """A stored decision: the request's hash it answered and the answer sent."""

    request_hash: str
    answer: dict[str, Any]


class _History:
    def __init__(self, connection: sqlite3.Connection, key: str | None) -> None:
        self._connection = connection
        self._key = key

    def deliveries(self, nir: Nir) -> Sequence[DeliveryRecord]:
        rows = self._connection.execute(
            "SELECT record FROM deliveries WHERE nir = ? AND reversed = 0 ORDER BY id", (nir.value,)
        )
        return tuple(from_jsonable(DeliveryRecord, json.loads(record)) for (record,) in rows)

    def record(self, records: Iterable[DeliveryRecord]) -> None:
        self._connection.executemany(
            "INSERT INTO deliveries (nir, record, decision_key) VALUES (?, ?, ?)",
            [(record.nir.value, json.dumps(to_jsonable(record)), self._key) for record in records],
        )


class _Ledger:
    def __init__(self, connection: sqlite3.Connection, key: str | None) -> None:
        self._connection = connection
        self._key = key

    def entries(self, nir: Nir) -> Sequence[LedgerEntry]:
        rows = self._connection.execute(
            "SELECT entry FROM ledger WHERE nir = ? AND reversed = 0 ORDER BY id", (nir.value,)
        )
        return tuple(from_jsonable(LedgerEntry, json.loads(entry)) for (entry,) in rows)

    def apply(self, entries: Iterable[LedgerEntry]) -> None:
        self._connection.executemany(
            "INSERT INTO ledger (nir, entry, decision_key) VALUES (?, ?, ?)",
            [(entry.nir.value, json.dumps(to_jsonable(entry)), self._key) for entry in entries],
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
            for table, columns in _ADDED.items():
                present = {row[1] for row in self._connection.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in present:
                        self._connection.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    @contextmanager
    def transaction(self, key: str | None = None) -> Iterator[SimRecords]:
        """One decision's unit of work: everything it writes commits together, or nothing; the
        records it writes belong to the decision ``key`` (what a cancellation reverses)."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield SimRecords(
                    history=_History(self._connection, key), ledger=_Ledger(self._connection, key)
                )
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

    def cancel(self, key: str, decision_key: str) -> bool:
        """Cancel the decision ``decision_key`` once (call inside :meth:`transaction`): its delivery
        records and ledger entries stop counting. True when there was a decision to cancel; the
        same cancellation asked again answers what it answered first, reversing nothing more."""
        row = self._connection.execute(
            "SELECT decision_key, cancelled FROM cancellations WHERE key = ?", (key,)
        ).fetchone()
        if row is not None:
            if row[0] != decision_key:  # pragma: no cover - the key is derived from the decision key
                raise KeyError(key)
            self._connection.execute("UPDATE cancellations SET asked = asked + 1 WHERE key = ?", (key,))
            return bool(row[1])
        decided = self._connection.execute(
            "SELECT 1 FROM decisions WHERE key = ?", (decision_key,)
        ).fetchone()
        if decided is not None:
            for table in ("deliveries", "ledger"):
                self._connection.execute(
                    f"UPDATE {table} SET reversed = 1 WHERE decision_key = ?",  # noqa: S608 - fixed names
                    (decision_key,),
                )
        self._connection.execute(
            "INSERT INTO cancellations (key, decision_key, cancelled) VALUES (?, ?, ?)",
            (key, decision_key, int(decided is not None)),
        )
        return decided is not None

    def reversed_records(self) -> int:
        """How many delivery records and ledger entries cancellations reversed (the counts)."""
        with self._lock:
            return sum(
                self._connection.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE reversed = 1"  # noqa: S608 - fixed names
                ).fetchone()[0]
                for table in ("deliveries", "ledger")
            )

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
