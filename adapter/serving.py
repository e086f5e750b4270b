"""``adapter serve``: the API under uvicorn; with several workers, one listening socket each.

uvicorn's own multi-worker mode binds one socket in the parent and shares it: every worker
accepts from the same queue, and the kernel wakes the worker that waited last, which then
accepts every connection pending. Keep-alive clients stay where they landed, so one worker can
hold all of them while the others idle (benchmarks/README.md measured one worker at 99 % CPU and
the other at 0 %, and half the throughput). Where the kernel balances ``SO_REUSEPORT`` groups
(Linux), each worker here binds a socket of its own to the address instead, and the kernel
spreads new connections over them by a hash of the client's address and port.

The parent only supervises: it starts the workers, restarts one that dies, replaces them one
by one on SIGHUP (each replacement listens before the worker it replaces stops, and a
replacement that cannot start leaves the old workers in place), stops them all on SIGINT or
SIGTERM, and
gives up when a worker fails at startup (uvicorn's exit status 3: a database that cannot be
reached, a bad setting), since its replacement would fail the same way. A worker whose parent
is gone (killed outright) stops by itself.
"""

from __future__ import annotations

import asyncio
import errno
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any, Protocol

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapter.errors import UsageError

__all__ = [
    "STARTUP_FAILURE",
    "EventLog",
    "HeaderTimeoutProtocol",
    "Supervisor",
    "bind_reuse_port",
    "check_address_free",
    "reuse_port_available",
    "serve",
    "watch_parent",
]

STARTUP_FAILURE = 3
"""uvicorn's exit status for a worker whose application did not start."""

_STOP_GRACE_SECONDS = 20.0
_RESTART_PAUSE_SECONDS = 1.0
_PARENT_CHECK_SECONDS = 1.0
_READY_TIMEOUT_SECONDS = 120.0


class EventLog(Protocol):
    """Where the supervisor reports (a structlog logger in ``adapter serve``)."""

    def info(self, event: str, **fields: Any) -> Any: ...

    def error(self, event: str, **fields: Any) -> Any: ...


def reuse_port_available(port: int) -> bool:
    """True where the kernel balances connections over a ``SO_REUSEPORT`` group (Linux) and the
    port is fixed (with port 0 each worker would get a port of its own)."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT") and port != 0


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_address_free(host: str, port: int) -> None:
    """Refuse an address someone already listens on, ``SO_REUSEPORT`` or not.

    The probe binds without ``SO_REUSEPORT``, so it also fails when another process of the same
    user listens with it: joining that group would silently share its traffic.
    """
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc}"
        raise UsageError(f"{host}:{port} {reason}") from exc
    finally:
        probe.close()


def bind_reuse_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` in its ``SO_REUSEPORT`` group (uvicorn makes it listen)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def watch_parent(interval: float = _PARENT_CHECK_SECONDS) -> threading.Thread:
    """Send this process SIGTERM once its parent is gone (uvicorn then shuts down gracefully)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=watch, name="parent-watch", daemon=True)
    watcher.start()
    return watcher


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on each request's line and headers.

    uvicorn bounds only the idle time between two requests (``timeout_keep_alive``): a client
    that opens a connection and sends nothing, or trickles its headers a byte at a time, holds
    the connection for ever. Here the request line and headers must be complete within
    ``ADAPTER_HTTP_HEADER_TIMEOUT`` seconds of the connection's opening, or of the first byte of
    a later request on it; otherwise the connection is closed. The body has its own deadline in
    the application (``adapter.api.middleware``). The timeout is read from the settings in each
    process, so it holds under uvicorn's own worker processes too.
    """

    _timeout: float | None = None

    @classmethod
    def header_timeout(cls) -> float:
        if cls._timeout is None:
            from adapter.settings import Settings

            cls._timeout = Settings().http_header_timeout
        return cls._timeout

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._arm_header_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_headers = True
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._disarm_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.pipeline:
            self._awaiting_headers = True  # armed when the next request's first byte comes

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout(), self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            self.transport.close()


class _ReadyServer(uvicorn.Server):
    """uvicorn's server, which also tells the supervisor once it listens."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._ready.set()


def run_worker(options: Mapping[str, Any], ready: Event) -> None:
    """A worker process: uvicorn on a socket of its own (the target of each spawned worker);
    ``ready`` is set once it listens.

    Anything that stops it before it serves (the socket, the application factory: a database
    that cannot be reached) exits with :data:`STARTUP_FAILURE`, after the traceback.
    """
    watch_parent()
    server: uvicorn.Server | None = None
    try:
        config = uvicorn.Config(**options)
        sock = bind_reuse_port(config.host, config.port)
        server = _ReadyServer(config, ready)
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C: uvicorn shut down, then raised the signal again
        return
    except Exception:
        if server is not None and server.started:
            raise
        traceback.print_exc()
        sys.exit(STARTUP_FAILURE)
    if not server.started:
        sys.exit(STARTUP_FAILURE)


@dataclass(frozen=True, slots=True)
class _Worker:
    process: BaseProcess
    ready: Event


@dataclass
class Supervisor:
    """Runs ``workers`` processes of ``target(options, ready)`` until SIGINT or SIGTERM; SIGHUP
    replaces them. ``target`` sets ``ready`` once it serves."""

    options: Mapping[str, Any]
    workers: int
    log: EventLog
    target: Callable[[Mapping[str, Any], Event], None] = run_worker
    ready_timeout: float = _READY_TIMEOUT_SECONDS
    _workers: list[_Worker] = field(default_factory=list)
    _stopping: bool = False
    _replacing: bool = False

    @property
    def _processes(self) -> list[BaseProcess]:
        return [worker.process for worker in self._workers]

    def run(self) -> int:
        """Supervise until stopped; the exit status for the command (0, or 3 after a failed start)."""
        if self.workers < 1:
            raise UsageError("a supervisor needs at least one worker")
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._replace)
        status = 0
        try:
            self._workers = [self._start() for _ in range(self.workers)]
            while not self._stopping:
                time.sleep(0.2)
                if self._replacing:
                    self._replacing = False
                    self._replace_all()
                for index, process in enumerate(self._processes):
                    if process.is_alive() or self._stopping:
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        self.log.error("worker failed at startup: stopping", pid=process.pid)
                        status = STARTUP_FAILURE
                        self._stopping = True
                        break
                    self.log.error("worker exited: restarting it", pid=process.pid, exitcode=process.exitcode)
                    time.sleep(_RESTART_PAUSE_SECONDS)
                    self._workers[index] = self._start()
        finally:
            self._terminate_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _start(self) -> _Worker:
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        process = context.Process(target=self.target, args=(dict(self.options), ready))
        process.start()
        self.log.info("worker started", pid=process.pid)
        return _Worker(process, ready)

    def _until_ready(self, worker: _Worker) -> bool:
        """Wait until ``worker`` serves; False if it exits first, times out, or we are stopping."""
        deadline = time.monotonic() + self.ready_timeout
        while not worker.ready.wait(0.1):
            if not worker.process.is_alive() or self._stopping or time.monotonic() > deadline:
                return False
        return True

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _replace(self, signum: int, _frame: FrameType | None) -> None:
        self._replacing = True

    def _replace_all(self) -> None:
        """One worker at a time: its replacement starts and listens, then the worker stops after
        its requests in flight. A replacement that does not come up ends the round, keeping the
        workers not yet replaced."""
        for index, old in enumerate(list(self._workers)):
            if self._stopping:
                return
            new = self._start()
            if not self._until_ready(new):
                _stop_gracefully([new.process])
                if not self._stopping:
                    self.log.error(
                        "replacement did not start: keeping the worker",
                        pid=old.process.pid,
                        replacement=new.process.pid,
                        exitcode=new.process.exitcode,
                    )
                return
            self._workers[index] = new
            _stop_gracefully([old.process])
            self.log.info("worker replaced", pid=old.process.pid, by=new.process.pid)

    def _terminate_all(self) -> None:
        _stop_gracefully(self._processes)


def _stop_gracefully(processes: list[BaseProcess]) -> None:
    """SIGTERM (uvicorn finishes the requests in flight), then SIGKILL after the grace period."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def serve(options: Mapping[str, Any], *, workers: int, reuse_port: bool, log: EventLog) -> int:
    """Run uvicorn with ``options`` (``uvicorn.Config`` keywords, host and port included).

    One worker, or ``reuse_port`` off or unavailable: uvicorn's own ``run``. Otherwise a
    :class:`Supervisor` of workers with a socket each. Returns the command's exit status.
    """
    host, port = options["host"], options["port"]
    if workers > 1 and reuse_port and reuse_port_available(port):
        check_address_free(host, port)
        log.info("serving", url=f"http://{host}:{port}", workers=workers, listening="a socket per worker")
        return Supervisor(options=options, workers=workers, log=log).run()
    uvicorn.run(**options, workers=workers)
    return 0
