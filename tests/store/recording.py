"""A driver connection that logs what the store's fixed statements send (``adapter.store.prepared``)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.store import prepared

try:  # the driver's own point where it asks the server to answer what was sent (a round trip)
    from psycopg._pipeline_base import BasePipeline
except ImportError:  # pragma: no cover - psycopg is a dependency
    BasePipeline = None

__all__ = ["recorded_statements"]


class _Recorded:
    """A DBAPI connection that logs what the store sends through it: each statement, each
    batch (PostgreSQL pipeline) and each commit."""

    def __init__(self, real: Any, log: list[str]) -> None:
        self._real, self._log = real, log

    def cursor(self) -> Any:
        return _RecordedCursor(self._real.cursor(), self._log)

    def pipeline(self) -> Any:
        self._log.append("BATCH")
        return self._real.pipeline()

    def commit(self) -> None:
        self._log.append("COMMIT")
        self._real.commit()


class _RecordedCursor:
    def __init__(self, real: Any, log: list[str]) -> None:
        self._real, self._log = real, log

    def execute(self, sql: str, params: Any, **options: Any) -> Any:
        self._log.append(sql)
        return self._real.execute(sql, params, **options)

    def executemany(self, sql: str, params: Any) -> Any:
        self._log.append(sql)
        return self._real.executemany(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def recorded_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, what the store's fixed statements send to the driver, in order: each SQL
    text, ``BATCH`` where a batch (a PostgreSQL round trip) starts, ``COMMIT``."""
    log: list[str] = []
    real = prepared._dbapi
    if BasePipeline is not None:
        enqueue_sync = BasePipeline._enqueue_sync

        def sync(pipeline: Any) -> None:
            log.append("SYNC")
            enqueue_sync(pipeline)

        monkeypatch.setattr(BasePipeline, "_enqueue_sync", sync)
    monkeypatch.setattr(prepared, "_dbapi", lambda connection: _Recorded(real(connection), log))
    return log
