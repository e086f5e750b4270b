"""Data at rest (issue #15, item 9): owner-only SQLite files, and the purge of old bodies that
keeps what idempotency and the audit need."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from adapter.access import Caller
from adapter.bootstrap import build_service
from adapter.errors import ConflictError
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import ReferencePayers
from adapter.service.claims import StoreService
from adapter.settings import Settings
from adapter.store import Store
from mappings.fhir import jsonio

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "valid" / "01-purchase-standard.json"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
DEV = Caller(client_id="dev-client", everything=True)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_sqlite_database_and_its_directory_are_owner_only(tmp_path: Path) -> None:
    """Under the usual umask (022) the data directory is 0700 and the database, its WAL and its
    shared-memory file 0600; an existing world-readable database is tightened."""
    previous = os.umask(0o022)
    try:
        settings = Settings(data_dir=tmp_path / "var")
        service = build_service(settings)
        try:
            service.submit(FIXTURE.read_bytes(), Format.JSON, caller=DEV, now=NOW)
            database = settings.data_dir / "adapter.sqlite3"
            assert _mode(settings.data_dir) == 0o700
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert all(path.exists() for path in files)
            assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
        finally:
            service.store.dispose()
        os.chmod(database, 0o644)
        Store.open(f"sqlite:///{database}").dispose()
        assert _mode(database) == 0o600
    finally:
        os.umask(previous)


@pytest.fixture
def service(store: Store) -> StoreService:
    return StoreService(store, SubmitFlow(ReferencePayers.load()))


def test_purge_empties_old_bodies_and_keeps_replays_byte_for_byte(service: StoreService) -> None:
    data = FIXTURE.read_bytes()
    first = service.submit(data, Format.JSON, caller=DEV, now=NOW)
    claim_id = jsonio.loads(first.json)["entry"][0]["resource"]["request"]["reference"].removeprefix("Claim/")
    response_id = jsonio.loads(first.json)["entry"][0]["resource"]["id"]
    assert service.claim(claim_id, caller=DEV) is not None

    assert service.purge(older_than=timedelta(days=30), now=NOW + timedelta(days=29)) == 0
    assert service.purge(older_than=timedelta(days=30), now=NOW + timedelta(days=31)) == 1
    assert service.purge(older_than=timedelta(days=30), now=NOW + timedelta(days=32)) == 0

    with service.store.engine.connect() as connection:
        raw, request, purged = connection.execute(
            text("SELECT raw, request_json, purged_at FROM submissions")
        ).one()
        actions = connection.execute(text("SELECT action, outcome FROM audit_log ORDER BY id")).all()
    assert (raw, request) == (None, None)
    assert purged is not None
    assert [tuple(a) for a in actions][-3:] == [
        ("purge", "0 purged"),
        ("purge", "1 purged"),
        ("purge", "0 purged"),
    ]

    replay = service.submit(data, Format.JSON, caller=DEV, now=NOW + timedelta(days=40))
    assert replay.replayed
    assert replay.json == first.json
    changed = jsonio.loads(data)
    changed["timestamp"] = "2026-01-01T00:00:00+01:00"
    with pytest.raises(ConflictError):
        service.submit(jsonio.dumps(changed), Format.JSON, caller=DEV, now=NOW + timedelta(days=40))
    assert service.claim(claim_id, caller=DEV) is None  # the body is gone: 404
    read = service.claim_response(response_id, caller=DEV)
    assert read is not None


def test_the_purge_command(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env["ADAPTER_DATA_DIR"] = str(tmp_path / "var")
    command = [sys.executable, "-m", "adapter.cli", "purge", "--older-than-days", "7"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "purged the bodies of 0 submissions received more than 7 days ago" in done.stdout
    env["ADAPTER_DATABASE_URL"] = "postgresql://adapter:pw@127.0.0.1:9/none"
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "error: the database" in done.stderr
