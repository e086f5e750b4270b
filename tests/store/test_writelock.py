"""The SQLite writer queue and the commit's fsync after it (``adapter.store.writelock``)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adapter.domain.values import Nir
from adapter.errors import UsageError
from adapter.store import Store, engine, writelock
from adapter.store.writelock import WriterQueue, database_path
from tests.store import workers
from tests.support.submissions import KEY_SYSTEM, T0, submission
from tests.threads import held_elsewhere

PROCESSES = 3
THREADS = 3
WRITES = 15


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file (migrated here, so that workers only write)."""
    url = f"sqlite:///{tmp_path / 'db' / 'adapter.sqlite3'}"
    Store.open(url).dispose()
    return url


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """A store on that file."""
    store = Store.open(sqlite_url, migrate=False)
    yield store
    store.dispose()


def _database(store: Store) -> Path:
    path = database_path(store.engine.url.database or "")
    assert path is not None
    return path


def _events(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM outbox")).scalar_one())


def _write_then_fail(store: Store) -> None:
    with store.write() as tx:
        tx.enqueue(topic="t", payload={}, at=T0)
        raise RuntimeError


@contextmanager
def _try_flock(path: Path) -> Iterator[bool]:
    """Whether an exclusive flock of ``path`` can be taken now (through a descriptor of our own)."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("/var/lib/adapter/adapter.sqlite3", Path("/var/lib/adapter/adapter.sqlite3")),
        ("file:/srv/a.sqlite3?mode=rwc&uri=true", Path("/srv/a.sqlite3")),
        ("", None),
        (":memory:", None),
        ("file:shared?mode=memory&cache=shared", None),
    ],
)
def test_the_database_file_is_read_from_the_url(database: str, expected: Path | None) -> None:
    """A path or a file: URI names a file next to which the lock lives; memory names none."""
    assert database_path(database) == expected


def test_the_lock_and_wal_files_sit_next_to_the_database() -> None:
    """The queue locks <db>.lock and flushes <db>-wal."""
    writers = WriterQueue(Path("/srv/adapter/adapter.sqlite3"))

    assert writers.lock_path == Path("/srv/adapter/adapter.sqlite3.lock")
    assert writers.wal_path == Path("/srv/adapter/adapter.sqlite3-wal")


def test_a_write_holds_the_lock_file_until_it_commits(sqlite_store: Store) -> None:
    """While write() is open, no one else can flock <db>.lock; after it, anyone can."""
    lock = _database(sqlite_store).with_name("adapter.sqlite3.lock")
    with sqlite_store.write() as tx:
        tx.enqueue(topic="t", payload={}, at=T0)
        with _try_flock(lock) as free:
            assert free is False
    with _try_flock(lock) as free:
        assert free is True


def test_a_failed_write_releases_the_lock_file(sqlite_store: Store) -> None:
    """A rollback ends the turn too: the next writer is not left waiting."""
    lock = _database(sqlite_store).with_name("adapter.sqlite3.lock")
    with pytest.raises(RuntimeError):
        _write_then_fail(sqlite_store)
    with _try_flock(lock) as free:
        assert free is True
    assert _events(sqlite_store) == 0


def test_a_nested_write_in_one_thread_is_refused_rather_than_waiting_forever(sqlite_store: Store) -> None:
    """A second write() inside the first, on the same thread, raises a UsageError at once."""
    with sqlite_store.write() as tx:
        tx.enqueue(topic="t", payload={}, at=T0)
        with pytest.raises(UsageError), sqlite_store.write():
            pass
    assert _events(sqlite_store) == 1


def test_threads_queue_instead_of_meeting_sqlites_busy_handler(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a zero busy timeout, eight threads writing at once all commit: none finds the lock taken."""
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 0)
    store = Store.open(sqlite_url, migrate=False)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(WRITES):
                with store.write() as tx:
                    tx.enqueue(topic="t", payload={"n": n, "i": i}, at=T0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert _events(store) == 8 * WRITES
    finally:
        store.dispose()


def test_processes_queue_on_the_lock_file(sqlite_url: str) -> None:
    """Three processes of three threads, busy timeout zero: every write commits, none is refused."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=workers.write_many, args=(sqlite_url, n, THREADS, WRITES, barrier, results))
        for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports: list[tuple[int, str]] = []
    try:
        for _ in range(PROCESSES):
            reports.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail(f"workers did not report in time: {reports}")
    finally:
        for process in processes:
            process.join(timeout=30)
    assert sorted(reports) == [(n, "ok") for n in range(PROCESSES)]
    store = Store.open(sqlite_url, migrate=False)
    try:
        assert _events(store) == PROCESSES * THREADS * WRITES
    finally:
        store.dispose()


def test_a_writer_that_dies_mid_transaction_frees_the_queue(sqlite_store: Store, sqlite_url: str) -> None:
    """A process killed inside write() loses its transaction, and the next writer goes ahead."""
    context = multiprocessing.get_context("spawn")
    holding = context.Event()
    child = context.Process(target=workers.hold_then_die, args=(sqlite_url, holding))
    child.start()
    try:
        assert holding.wait(timeout=60)
        lock = _database(sqlite_store).with_name("adapter.sqlite3.lock")
        with _try_flock(lock) as free:
            assert free is False
        with sqlite_store.write() as tx:  # waits for the child's death, then proceeds
            tx.enqueue(topic="after", payload={}, at=T0)
    finally:
        child.join(timeout=30)
    assert child.exitcode == 3
    with sqlite_store.engine.connect() as connection:
        audits = connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert audits == 0
    assert _events(sqlite_store) == 1


def test_a_fork_while_another_thread_writes_leaves_the_child_a_usable_queue() -> None:
    """The child of a fork gets a fresh process-local lock, not a copy held by a thread it lacks."""
    writers = WriterQueue(None)
    with held_elsewhere(writers.turn):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            try:
                with writers.turn():
                    pass
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_commit_is_flushed_after_its_turn_and_a_rollback_is_not(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write() fsyncs <db>-wal once the lock file is free again, and only when it committed."""
    lock = _database(sqlite_store).with_name("adapter.sqlite3.lock")
    flushed: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        with _try_flock(lock) as free:
            flushed.append((os.readlink(f"/proc/self/fd/{fd}"), free))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with sqlite_store.write() as tx:
        tx.enqueue(topic="t", payload={}, at=T0)
    with pytest.raises(RuntimeError):
        _write_then_fail(sqlite_store)

    assert flushed == [(str(_database(sqlite_store)) + "-wal", True)]


def test_sqlite_file_connections_leave_the_fsync_to_the_store(sqlite_store: Store) -> None:
    """WAL with synchronous=NORMAL: COMMIT does not wait for the disk, the store's sync does."""
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_sqlite_connections_never_checkpoint_inside_a_commit(sqlite_store: Store) -> None:
    """SQLite's automatic checkpoint would run inside a COMMIT, holding the write lock."""
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0


def test_the_store_checkpoints_every_so_many_commits_outside_the_turn(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every CHECKPOINT_EVERY commits of the process, after the writer's turn and the WAL
    flush, a PASSIVE checkpoint copies the WAL into the database file."""
    queue = sqlite_store._writers
    assert queue is not None
    checkpoints: list[int | None] = []
    real = sqlite_store.checkpoint

    def checkpoint() -> None:
        checkpoints.append(queue._holder)  # who holds the writers' turn meanwhile: nobody
        real()

    monkeypatch.setattr(sqlite_store, "checkpoint", checkpoint)
    for n in range(2 * writelock.CHECKPOINT_EVERY):
        with sqlite_store.write() as tx:
            tx.enqueue(topic="t", payload={"n": n}, at=T0)

    assert checkpoints == [None, None]
    with sqlite_store.engine.connect() as connection:
        busy, frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0
    assert copied == frames  # nothing was left behind in the WAL
    assert _events(sqlite_store) == 2 * writelock.CHECKPOINT_EVERY


def test_commits_flushed_together_share_one_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flush covers every commit numbered before it started: a thread whose commit it
    covered does not flush again (group commit); a later commit does."""
    (tmp_path / "db.sqlite3-wal").write_bytes(b"wal")
    writers = WriterQueue(tmp_path / "db.sqlite3")
    flushes: list[int] = []
    monkeypatch.setattr(writelock.os, "fsync", flushes.append)
    with writers.turn():
        first = writers.committed()
    with writers.turn():
        second = writers.committed()

    assert writers.sync(second)
    assert writers.sync(first)  # covered by the flush made for the second
    assert len(flushes) == 1
    with writers.turn():
        third = writers.committed()
    assert writers.sync(third)
    assert len(flushes) == 2


def test_a_missing_wal_file_needs_no_flush(tmp_path: Path) -> None:
    """After the last connection checkpointed and removed the WAL, sync() has nothing to do."""
    writers = WriterQueue(tmp_path / "gone.sqlite3")

    writers.sync()

    assert not (tmp_path / "gone.sqlite3-wal").exists()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_sends_locks_reads_and_writes_in_few_batches(store: Store, sent: list[str]) -> None:
    """Three lock keys are one statement, sent with the first read; the queued writes go with
    the COMMIT: a submit is two round trips. Writes on PostgreSQL never touch the SQLite queue."""
    new = submission(1)
    with store.write(lock_keys=["a", "b", "c"]) as tx:
        tx.preload_beneficiary(Nir(new.patient_nir))
        assert tx.find_submission(new.client_id, new.key_system, new.key_value) is None
        assert tx.history.deliveries(Nir(new.patient_nir)) == ()
        assert tx.ledger.entries(Nir(new.patient_nir)) == ()
        tx.audit(
            action="submit", outcome="complete", client_id="c", submission_id=new.id, request_id=None, at=T0
        )
        tx.insert_submission(new)
        tx.enqueue(topic="t", payload={}, at=T0)
    assert sent.count("BATCH") == sent.count("SYNC") == 2
    first, second = "\n".join(sent).split("BATCH\n")[1:]
    assert first.startswith("BEGIN\n")
    assert first.count("pg_advisory_xact_lock") == 3
    assert first.count("SELECT") == 4  # the locks, the key, the history, the ledger
    assert "INSERT" not in first
    assert "INSERT INTO audit_log" in second
    assert "INSERT INTO submissions" in second
    assert "INSERT INTO outbox" in second
    assert second.endswith("COMMIT\nSYNC")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_postgresql_read_is_one_round_trip_in_a_read_only_transaction(
    store: Store, sent: list[str]
) -> None:
    """BEGIN READ ONLY and COMMIT travel with the read: one round trip, after which the
    connection is out of any transaction (the end of the store's has nothing to send). A direct
    use of the connection gets a read-only transaction too, which the server enforces."""
    with store.read() as tx:
        assert tx.find_submission("hospital-a", KEY_SYSTEM, "nothing") is None
        assert tx.find_submission("hospital-a", KEY_SYSTEM, "nothing either") is None
        driver = tx._connection.connection.dbapi_connection
        assert driver is not None
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        tx.queue.send()  # what a direct use of the connection does first
        with pytest.raises(DBAPIError, match="read-only transaction"):
            tx._connection.execute(text("CREATE TABLE not_allowed (n integer)"))
    assert sent[2].startswith("SELECT submissions.id")
    assert sent[:10] == [
        *("BATCH", "BEGIN READ ONLY", sent[2], "COMMIT", "SYNC"),
        *("BATCH", "BEGIN READ ONLY", sent[7], "COMMIT", "SYNC"),
    ]
    assert sent[10:] == ["BATCH", "BEGIN READ ONLY", "SYNC"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_postgresql_write_that_sends_nothing_costs_no_round_trip(store: Store, sent: list[str]) -> None:
    """The BEGIN waits for the transaction's first statement: with none, neither BEGIN nor
    COMMIT is sent."""
    with store.write():
        pass
    assert sent == []
