"""The auth tests' issuer, audience and clock, and their JWK, JWKS and token builders."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

PARIS = timezone(timedelta(hours=1))
NOW = datetime(2025, 3, 14, 10, 0, tzinfo=PARIS)
ISSUER = "https://idp.example/realms/adapter"
AUDIENCE = "https://adapter.example/fhir"

Mint = Callable[..., str]


def b64url_int(value: int, length: int) -> str:
    """Base64url of a big-endian unsigned integer, as JWK members are written."""
    return base64.urlsafe_b64encode(value.to_bytes(length, "big")).rstrip(b"=").decode("ascii")


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    """The public JWK of an RSA key."""
    numbers = key.public_key().public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    return {
        "kty": "RSA",
        "kid": kid,
        "n": b64url_int(numbers.n, size),
        "e": b64url_int(numbers.e, 3),
        **extra,
    }


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    """The public JWK of an EC P-256 key."""
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "kid": kid,
        "x": b64url_int(numbers.x, 32),
        "y": b64url_int(numbers.y, 32),
        **extra,
    }


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid access-token claims at ``NOW``; ``None`` values remove a claim."""
    issued = int(NOW.timestamp())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "svc-clinique-exemple",
        "client_id": "clinique-exemple",
        "scope": "system/Claim.write system/ClaimResponse.read",
        "iat": issued,
        "exp": issued + 300,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}
