"""A subscriber's endpoint for tests: a real HTTP server on the loopback that records every
notification (headers and exact body) and answers the statuses it is told to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 200  # what the receiver answered


@dataclass
class Receiver:
    """``statuses`` are answered in turn (then ``default``); ``received`` holds what came in."""

    url: str
    statuses: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.default


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A recording endpoint at ``http://127.0.0.1:<port>/hook`` for the block's duration."""
    state: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = state[0].next_status()
            state[0].received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.append(Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
