"""The development signing key: created once, private to its owner, and the tokens minted with it."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapter.auth import DevKeyError, TokenVerifier, ensure_dev_key, mint_dev_token
from adapter.auth.devkeys import DEV_KEY_FILE, MARKER
from tests.support.tokens import NOW

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _mint(data_dir: Path, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "client_id": "dev-client",
        "scopes": ["system/Claim.write", "system/ClaimResponse.read"],
        "now": NOW,
        "issuer": "adapter-dev",
        "audience": "adapter",
    }
    arguments.update(overrides)
    return mint_dev_token(data_dir, **arguments)  # type: ignore[arg-type]


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _plant(data_dir: Path, content: bytes) -> Path:
    path = data_dir / DEV_KEY_FILE
    path.write_bytes(content)
    path.chmod(0o600)
    return path


@posix_only
def test_dev_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    """The first call writes an owner-only PEM file; the second reuses it unchanged."""
    data_dir = tmp_path / "var"

    first = ensure_dev_key(data_dir)
    content = first.path.read_bytes()
    second = ensure_dev_key(data_dir)

    assert first.created
    assert not second.created
    assert first.kid == second.kid
    assert first.kid.startswith("dev-")
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert content.startswith(MARKER)
    assert b"BEGIN PRIVATE KEY" in content
    assert second.path.read_bytes() == content
    assert [p.name for p in data_dir.iterdir()] == [DEV_KEY_FILE]


def test_public_jwks_holds_no_private_material(tmp_path: Path) -> None:
    """The exposed JWKS is one public ES256 key with the dev kid."""
    dev = ensure_dev_key(tmp_path)

    (key,) = dev.jwks["keys"]

    assert key["kid"] == dev.kid
    assert key["alg"] == "ES256"
    assert key["crv"] == "P-256"
    assert "d" not in key
    assert "private_key" not in repr(dev)


def test_minted_dev_token_verifies_with_the_dev_jwks(tmp_path: Path) -> None:
    """A token minted with the dev key is accepted by a verifier on the dev JWKS."""
    token = _mint(tmp_path, lifetime=600)
    verifier = TokenVerifier(ensure_dev_key(tmp_path).key_set(), "adapter-dev", "adapter")

    principal = verifier.verify(token, NOW + timedelta(seconds=599))

    assert principal.client_id == "dev-client"
    assert principal.scopes == frozenset({"system/Claim.write", "system/ClaimResponse.read"})
    assert principal.claims["exp"] == int(NOW.timestamp()) + 600
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


def test_minting_creates_the_key_when_absent(tmp_path: Path) -> None:
    """Minting in an empty data dir creates the key first."""
    _mint(tmp_path / "fresh")

    assert (tmp_path / "fresh" / DEV_KEY_FILE).exists()


def test_minting_refuses_a_key_that_is_not_a_dev_key(tmp_path: Path) -> None:
    """A PEM key placed in the data dir without the dev marker is never used to mint."""
    _plant(tmp_path, _pem(ec.generate_private_key(ec.SECP256R1())))

    with pytest.raises(DevKeyError, match="not a development key") as caught:
        _mint(tmp_path)

    assert caught.value.code == "dev-key-invalid"


def test_dev_key_must_be_ec_p256(tmp_path: Path) -> None:
    """A marked file holding an RSA key is refused."""
    _plant(tmp_path, MARKER + _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))

    with pytest.raises(DevKeyError, match="EC P-256"):
        ensure_dev_key(tmp_path)


@posix_only
def test_dev_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A dev key file readable by group or others is refused rather than trusted."""
    path = ensure_dev_key(tmp_path).path
    path.chmod(0o644)

    with pytest.raises(DevKeyError, match="chmod 600"):
        ensure_dev_key(tmp_path)


@posix_only
def test_dev_key_symlink_is_refused(tmp_path: Path) -> None:
    """The dev key path must be a regular file, not a link to some other key."""
    target = _plant(tmp_path, MARKER + _pem(ec.generate_private_key(ec.SECP256R1())))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / DEV_KEY_FILE).symlink_to(target)

    with pytest.raises(DevKeyError, match="regular file"):
        ensure_dev_key(elsewhere)


def test_dev_key_can_be_encrypted(tmp_path: Path) -> None:
    """With a password the PEM is encrypted, and the same password is needed to load it."""
    dev = ensure_dev_key(tmp_path, password=b"correct horse")

    assert b"BEGIN ENCRYPTED PRIVATE KEY" in dev.path.read_bytes()
    assert ensure_dev_key(tmp_path, password=b"correct horse").kid == dev.kid
    with pytest.raises(DevKeyError, match="password"):
        ensure_dev_key(tmp_path, password=b"wrong")
    with pytest.raises(DevKeyError, match="password"):
        ensure_dev_key(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lifetime": 0}, "lifetime"),
        ({"lifetime": 3 * 86400}, "lifetime"),
        ({"now": datetime(2025, 3, 14, 10, 0)}, "timezone-aware"),  # noqa: DTZ001
        ({"client_id": "dev client"}, "client_id"),
        ({"scopes": ["system/Claim.write system/*.*"]}, "scope"),
    ],
)
def test_mint_arguments_are_checked(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    """Minting refuses a non-positive or day-plus lifetime, a naive clock and blanks in names."""
    with pytest.raises(ValueError, match=message):
        _mint(tmp_path, **overrides)
