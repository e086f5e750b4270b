"""The notification signature (the docs' worked example), and the sealing of secrets at rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapter.errors import UsageError
from adapter.notify import SecretBox, load_or_create_key, sign, verify

# The worked example of docs/http-api.md, "Subscriptions".
SECRET = "whsec-example-0123456789abcdef0123456789"  # noqa: S105 - the documented example
BODY = b'{"resourceType":"Bundle","id":"5e0c6a3e-8d1f-4f57-9a43-2f6f0f9b1c11","type":"history"}'
HEADER = "t=1764673200,v1=d7625447e83956f711e8e6ae0a4d9585da1b9060a613617d85fd5593c10088d0"


def test_the_documented_example_signs_and_verifies() -> None:
    assert sign(SECRET, 1764673200, BODY) == HEADER
    assert verify(SECRET, HEADER, BODY, now=1764673200 + 299)


@pytest.mark.parametrize(
    ("secret", "header", "body", "now"),
    [
        ("another-secret-0123456789abcdef012345", HEADER, BODY, 1764673200),  # wrong secret
        (SECRET, HEADER, BODY + b" ", 1764673200),  # body changed
        (SECRET, HEADER, BODY, 1764673200 + 301),  # too old: a replay
        (SECRET, HEADER.replace("t=1764673200", "t=1764673201"), BODY, 1764673200),  # time changed
        (SECRET, "v1=" + HEADER.split("v1=")[1], BODY, 1764673200),  # no time
        (SECRET, "garbage", BODY, 1764673200),
    ],
)
def test_a_receiver_refuses_what_was_not_signed_so(secret: str, header: str, body: bytes, now: int) -> None:
    assert not verify(secret, header, body, now=now)


def test_the_key_file_is_created_once_owner_only_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "subscription-secrets.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no draft left behind
    path.chmod(0o644)
    assert load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_bytes(b"short")
    with pytest.raises(UsageError):
        load_or_create_key(path)


def test_a_sealed_secret_opens_only_with_its_key_and_owner() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal(SECRET, context="subscription-1")
    assert SECRET.encode() not in sealed
    assert box.open(sealed, context="subscription-1") == SECRET
    with pytest.raises(UsageError):
        box.open(sealed, context="subscription-2")
    with pytest.raises(UsageError):
        SecretBox(os.urandom(32)).open(sealed, context="subscription-1")
