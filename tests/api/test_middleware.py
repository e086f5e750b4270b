"""The request middleware at the ASGI level: a streamed body is never read past the limit."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Message

from tests.api.conftest import WRITER, build_api


def test_an_endless_chunked_body_is_cut_at_the_limit() -> None:
    """An unbounded body without Content-Length gets 413 after about max_body_bytes, not a full read."""
    api = build_api(max_body_bytes=1_000)
    reads = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b" " * 100, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/Claim/$submit",
        "raw_path": b"/Claim/$submit",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/fhir+json"),
            (b"transfer-encoding", b"chunked"),
            (b"authorization", WRITER.encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }

    asyncio.run(api.app(scope, receive, send))

    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 413
    assert reads <= 11
    assert api.service.calls == []
