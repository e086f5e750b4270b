"""Slow and vanishing clients against a real ``adapter serve`` (issue #15, items 6 and 7).

A client that sends nothing, trickles its headers or trickles its body is cut off at the
configured deadlines; a client that disconnects mid-body is logged as an abort (no traceback)
and counted under status 499, not as a 500; ordinary keep-alive clients are unaffected.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server import FIXTURES, Server, _free_port

DEADLINE = 1.0
SUBMIT = b"POST /Claim/$submit HTTP/1.1\r\nHost: test\r\nContent-Type: application/fhir+json\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("slow")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env |= {
        "ADAPTER_DATA_DIR": str(root / "var"),
        "ADAPTER_AUTH": "disabled",
        "ADAPTER_HTTP_HEADER_TIMEOUT": str(DEADLINE),
        "ADAPTER_HTTP_BODY_TIMEOUT": str(DEADLINE),
    }
    running = Server(env=env, port=_free_port(), workers=1)
    running.start()
    yield running
    running.stop()


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _closed_after(sock: socket.socket, trickle: bytes = b"") -> float:
    """Seconds until the server closes ``sock`` while ``trickle`` is sent a byte every 0.2 s."""
    start = time.monotonic()
    sock.settimeout(0.2)
    for byte in trickle:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return time.monotonic() - start
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    sock.settimeout(10)
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass
    return time.monotonic() - start


def _log(server: Server) -> str:
    return (Path(server.env["ADAPTER_DATA_DIR"]).parent / "server.log").read_text(errors="replace")


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with _connect(server) as sock:
        assert _closed_after(sock) < DEADLINE + 1.5


def test_trickled_headers_are_cut_off(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST /Claim/$submit HTTP/1.1\r\n")
        assert _closed_after(sock, b"X-Slow: " + b"a" * 100) < DEADLINE + 1.5


def test_a_trickled_body_is_answered_408_and_the_connection_closed(server: Server) -> None:
    """Bytes keep coming, but not the whole body within the deadline: 408, then the connection closes.

    The client stops trickling shortly before the deadline and only reads: a byte sent after
    the server closed would draw a reset, which discards the answer still unread here."""
    with _connect(server) as sock:
        sock.sendall(SUBMIT + b"Content-Length: 1000\r\n\r\n{")
        start = time.monotonic()
        while time.monotonic() - start < DEADLINE * 0.6:
            sock.sendall(b" ")
            time.sleep(0.1)
        answer = b""
        sock.settimeout(0.2)
        while time.monotonic() - start < DEADLINE + 3:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"request-timeout" in answer
        assert time.monotonic() - start < DEADLINE + 2


def test_a_client_gone_mid_body_is_an_abort_not_a_500(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(SUBMIT + b"Content-Length: 100000\r\n\r\n" + b"{" * 10)
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    metrics = ""
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
        if 'status="499"' in metrics:
            break
        time.sleep(0.2)
    assert 'route="/Claim/$submit",status="499"} 1.0' in metrics
    assert 'status="500"' not in metrics
    log = _log(server)
    assert '"request.aborted"' in log
    assert "Traceback" not in log
    assert "unhandled exception" not in log


def test_ordinary_keep_alive_clients_are_served(server: Server) -> None:
    body = (FIXTURES / "valid" / "01-purchase-standard.json").read_bytes()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(3):
            response = client.post(
                "/Claim/$submit", content=body, headers={"Content-Type": "application/fhir+json"}
            )
            assert response.status_code == 200
            time.sleep(DEADLINE / 2)
