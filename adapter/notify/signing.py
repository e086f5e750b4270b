"""The notification signature: HMAC-SHA256 over the timestamp and the exact body.

``X-Signature: t=<unix seconds>,v1=<hex>`` where ``v1 = HMAC-SHA256(secret, "<t>." + body)``.
The timestamp is inside the MAC so that a captured notification cannot be replayed later
with a fresh time; a receiver refuses a ``t`` further than :data:`TOLERANCE_SECONDS` from its
own clock and compares the MAC in constant time (docs/http-api.md gives a worked example).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_SECONDS", "sign", "verify"]

SIGNATURE_HEADER = "X-Signature"
TOLERANCE_SECONDS = 300


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the header parses, its time is within ``tolerance`` seconds of
    ``now``, and one of its ``v1`` MACs matches (constant-time comparison)."""
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            macs.append(value)
    if timestamp is None or not macs or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, mac) for mac in macs)
