"""``adapter.serving``: a listening socket per worker, the address checked first, supervision."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapter.errors import UsageError
from adapter.serving import (
    STARTUP_FAILURE,
    Supervisor,
    bind_reuse_port,
    check_address_free,
    reuse_port_available,
    serve,
)
from tests.serving import targets

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balancing is Linux's")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[str] = []

    def info(self, event: str, **fields: Any) -> None:
        self.seen.append((event, fields))

    def error(self, event: str, **fields: Any) -> None:
        self.errors.append(event)
        self.info(event, **fields)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [fields for name, fields in self.seen if name == event]


def _wait_for(ready: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)


def _files(folder: Path) -> int:
    """How many workers have started (each target leaves a file named after its process)."""
    return len(list(folder.iterdir()))


def _supervise(supervisor: Supervisor, drive: Callable[[], None]) -> int:
    """Run the supervisor here (it installs signal handlers) while ``drive`` signals it."""
    driver = threading.Thread(target=drive)
    driver.start()
    status = supervisor.run()
    driver.join()
    return status


def test_port_zero_cannot_be_shared() -> None:
    """With port 0 each worker would bind a port of its own."""
    assert not reuse_port_available(0)


@linux_only
def test_reuse_port_sockets_share_an_address() -> None:
    port = _free_port()
    first = bind_reuse_port("127.0.0.1", port)
    second = bind_reuse_port("127.0.0.1", port)
    try:
        first.listen()
        second.listen()
        assert first.getsockname() == second.getsockname() == ("127.0.0.1", port)
    finally:
        first.close()
        second.close()


@linux_only
@pytest.mark.parametrize("reuse_port", [False, True])
def test_an_address_in_use_is_refused_even_by_a_reuse_port_listener(reuse_port: bool) -> None:
    """Joining another server's SO_REUSEPORT group would silently share its traffic."""
    port = _free_port()
    other = bind_reuse_port("127.0.0.1", port) if reuse_port else socket.socket()
    try:
        if not reuse_port:
            other.bind(("127.0.0.1", port))
        other.listen()
        with pytest.raises(UsageError, match=f"127.0.0.1:{port} is already in use"):
            check_address_free("127.0.0.1", port)
        events = _Events()
        with pytest.raises(UsageError):
            serve({"app": "x:y", "host": "127.0.0.1", "port": port}, workers=2, reuse_port=True, log=events)
        assert events.seen == []
    finally:
        other.close()
    check_address_free("127.0.0.1", port)  # free again


def test_a_worker_failing_at_startup_stops_the_supervisor() -> None:
    """Its replacement would fail the same way: the command exits with uvicorn's status 3."""
    events = _Events()
    supervisor = Supervisor(options={}, workers=2, log=events, target=targets.fail_at_startup)

    assert supervisor.run() == STARTUP_FAILURE
    assert events.errors[:1] == ["worker failed at startup: stopping"]
    assert not any(process.is_alive() for process in supervisor._processes)


def test_a_dead_worker_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    events = _Events()
    supervisor = Supervisor(
        options={"folder": str(tmp_path)}, workers=2, log=events, target=targets.die_once_then_run
    )

    def stop_when_replaced() -> None:
        _wait_for(lambda: _files(tmp_path) >= 3)
        os.kill(os.getpid(), signal.SIGTERM)

    status = _supervise(supervisor, stop_when_replaced)

    assert status == 0
    assert _files(tmp_path) == 3  # two workers, and the one that replaced the dead one
    assert [fields["exitcode"] for fields in events.named("worker exited: restarting it")] == [1]
    assert len(events.named("worker started")) == 3
    assert not any(process.is_alive() for process in supervisor._processes)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are given back


def test_sighup_replaces_the_workers_one_by_one(tmp_path: Path) -> None:
    events = _Events()
    supervisor = Supervisor(
        options={"folder": str(tmp_path)}, workers=2, log=events, target=targets.run_until_stopped
    )

    def hang_up_then_stop() -> None:
        _wait_for(lambda: _files(tmp_path) >= 2)
        os.kill(os.getpid(), signal.SIGHUP)
        _wait_for(lambda: _files(tmp_path) >= 4)
        os.kill(os.getpid(), signal.SIGTERM)

    status = _supervise(supervisor, hang_up_then_stop)

    assert status == 0
    started = [fields["pid"] for fields in events.named("worker started")]
    replaced = events.named("worker replaced")
    assert len(started) == 4
    assert [(fields["pid"], fields["by"]) for fields in replaced] == [
        (started[0], started[2]),
        (started[1], started[3]),
    ]
    assert not any(process.is_alive() for process in supervisor._processes)


def test_a_replacement_that_cannot_start_keeps_the_old_workers(tmp_path: Path) -> None:
    """SIGHUP with a broken new release (say): the first replacement fails at startup, so no
    worker is stopped, and the service goes on with the ones it had."""
    events = _Events()
    supervisor = Supervisor(
        options={"folder": str(tmp_path)}, workers=2, log=events, target=targets.only_the_first_two_start
    )
    survivors: list[bool] = []

    def hang_up_then_stop() -> None:
        _wait_for(lambda: _files(tmp_path) >= 2)
        time.sleep(0.5)  # both first workers are up
        os.kill(os.getpid(), signal.SIGHUP)
        _wait_for(lambda: bool(events.errors))
        survivors.extend(process.is_alive() for process in supervisor._processes)
        os.kill(os.getpid(), signal.SIGTERM)

    status = _supervise(supervisor, hang_up_then_stop)

    assert status == 0
    assert events.errors == ["replacement did not start: keeping the worker"]
    assert events.named("worker replaced") == []
    assert survivors == [True, True]
