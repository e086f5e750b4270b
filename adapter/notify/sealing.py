"""Subscribers' signing secrets, sealed at rest with AES-256-GCM.

The database holds only the sealed form (nonce + ciphertext + tag); the key lives in a file
of its own (owner-only, 0600), outside the database and its backups, so that a copy of the
database alone does not let anyone forge notifications. The subscription id is the
associated data: a sealed secret copied onto another subscription does not open.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapter.errors import UsageError

__all__ = ["SecretBox", "load_or_create_key"]

_NONCE = 12
_KEY = 32


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte key in ``path``, created (mode 0600, atomically) when the file does not exist;
    a key file readable by others is tightened to 0600."""
    if not path.exists():
        # Written whole under another name, then linked into place: a process starting at the same
        # time sees either no key or the whole key, and only one key ever wins.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(_KEY))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    key = path.read_bytes()
    if len(key) != _KEY:
        raise UsageError(f"{path}: a subscription key file holds exactly {_KEY} bytes")
    return key


class SecretBox:
    """Seals and opens secrets with one key; ``context`` binds a sealed value to its owner."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), context.encode("utf-8"))

    def open(self, sealed: bytes, *, context: str) -> str:
        try:
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode("utf-8"))
        except InvalidTag:
            raise UsageError("a subscription secret does not open with the configured key") from None
        return plain.decode("utf-8")
