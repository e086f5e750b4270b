"""Fixtures for the auth tests: keys generated once per session, a JWKS, a verifier, a minter."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapter.auth import StaticKeySet, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, Mint, claims, ec_jwk, rsa_jwk


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """An RSA 2048 signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    """An EC P-256 signing key."""
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def jwks(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """A JWKS publishing both test keys."""
    return {"keys": [rsa_jwk(rsa_key, "rsa-1", use="sig", alg="RS256"), ec_jwk(ec_key, "ec-1", use="sig")]}


@pytest.fixture
def verifier(jwks: dict[str, Any]) -> TokenVerifier:
    """A verifier trusting the test JWKS."""
    return TokenVerifier(StaticKeySet.from_jwks(jwks), issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def mint(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> Mint:
    """Sign claims with a test key: ``mint(alg="ES256", kid=..., **claim_overrides)``."""

    def _mint(alg: str = "RS256", kid: str | None = None, **overrides: Any) -> str:
        key = rsa_key if alg == "RS256" else ec_key
        default_kid = "rsa-1" if alg == "RS256" else "ec-1"
        headers = {"kid": kid or default_kid}
        return jwt.encode(claims(**overrides), key, algorithm=alg, headers=headers)

    return _mint
