"""The token issuer's public signing keys: a JWKS read from a file or fetched from a URL.

Only two kinds of key are kept: RSA of at least 2048 bits for RS256, and EC P-256 for ES256.
Symmetric keys, private key material and keys meant for encryption are refused, so a token
can never be checked against a key of the wrong family (algorithm confusion).

Key sets take ``now`` from the caller instead of reading a clock: the URL cache expires on the
caller's time, which keeps the code deterministic under test.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from adapter.auth.failures import AuthInvalid, AuthUnavailable, KeySetError

__all__ = [
    "ALGORITHMS",
    "KeySet",
    "PublicKey",
    "RemoteKeySet",
    "StaticKeySet",
    "load_jwks_file",
    "parse_jwks",
]

log = logging.getLogger(__name__)

#: The only signature algorithms accepted, each bound to one key family.
ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")
MIN_RSA_BITS = 2048
MAX_JWKS_BYTES = 512 * 1024
# JWK members that only private or symmetric keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
_SECRET_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One usable verification key: its ``kid``, the one algorithm it may verify, the key."""

    kid: str | None
    algorithm: str
    jwk: jwt.PyJWK = field(repr=False, compare=False)


class KeySet(Protocol):
    """Finds the key that must have signed a token, from the token header's ``kid`` and ``alg``."""

    def key_for(self, kid: str | None, algorithm: str, *, now: datetime) -> jwt.PyJWK:
        """Return the key; raise ``AuthInvalid`` (no such key) or ``AuthUnavailable``."""
        ...


def _public_key(entry: Mapping[str, object], where: str) -> PublicKey | None:
    """Build the key, or ``None`` for a key this service does not verify with (skipped)."""
    kid = entry.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise KeySetError(f"{where}: 'kid' must be a string")
    kty = entry.get("kty")
    if kty == "RSA":
        algorithm = "RS256"
    elif kty == "EC" and entry.get("crv") == "P-256":
        algorithm = "ES256"
    else:
        return None
    key_ops = entry.get("key_ops")
    if entry.get("use", "sig") != "sig" or (isinstance(key_ops, list) and "verify" not in key_ops):
        return None
    if entry.get("alg", algorithm) != algorithm:
        return None
    try:
        jwk = jwt.PyJWK(dict(entry), algorithm=algorithm)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise KeySetError(f"{where}: not a valid {kty} public key") from exc
    if isinstance(jwk.key, RSAPublicKey) and jwk.key.key_size < MIN_RSA_BITS:
        raise KeySetError(f"{where}: RSA keys must have at least {MIN_RSA_BITS} bits")
    return PublicKey(kid=kid, algorithm=algorithm, jwk=jwk)


def parse_jwks(document: object, *, source: str) -> tuple[PublicKey, ...]:
    """Read a JWKS document (already JSON-decoded) into its usable keys.

    Raises ``KeySetError`` naming ``source`` when the document is not a JWKS, holds private or
    symmetric key material, repeats a ``kid``, or has no RS256/ES256 signing key at all.
    Keys of other families or uses are skipped, as RFC 7517 §5 asks.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise KeySetError(f"{source}: a JWKS is a JSON object with a 'keys' array")
    keys: list[PublicKey] = []
    for index, entry in enumerate(document["keys"]):
        where = f"{source}: keys[{index}]"
        if not isinstance(entry, Mapping):
            raise KeySetError(f"{where} is not a JSON object")
        if any(member in entry for member in _SECRET_MEMBERS):
            raise KeySetError(f"{where} holds private or symmetric key material; publish public keys only")
        key = _public_key(entry, where)
        if key is None:
            log.debug("JWKS key skipped (not an RS256/ES256 signing key)", extra={"index": index})
            continue
        if key.kid is not None and any(other.kid == key.kid for other in keys):
            raise KeySetError(f"{where}: kid {key.kid!r} appears twice")
        keys.append(key)
    if not keys:
        raise KeySetError(f"{source}: no RS256 (RSA) or ES256 (EC P-256) signing key")
    return tuple(keys)


def _select(keys: tuple[PublicKey, ...], kid: str | None, algorithm: str) -> jwt.PyJWK | None:
    """The key for this token, ``None`` when ``kid`` is unknown; refuses a family mismatch."""
    if kid is None:
        candidates = [key for key in keys if key.algorithm == algorithm]
        if len(candidates) != 1:
            raise AuthInvalid("the token has no key id (kid) and no single key matches its algorithm")
        return candidates[0].jwk
    match = next((key for key in keys if key.kid == kid), None)
    if match is None:
        return None
    if match.algorithm != algorithm:
        raise AuthInvalid("the token's algorithm does not match its signing key")
    return match.jwk


class StaticKeySet:
    """A fixed JWKS, read once (a file, or the development key)."""

    def __init__(self, keys: Iterable[PublicKey], *, source: str = "JWKS") -> None:
        self._keys = tuple(keys)
        if not self._keys:
            raise KeySetError(f"{source}: no key")
        self.source = source

    @classmethod
    def from_jwks(cls, document: object, *, source: str = "JWKS") -> StaticKeySet:
        """Build from a decoded JWKS document; see :func:`parse_jwks`."""
        return cls(parse_jwks(document, source=source), source=source)

    @property
    def kids(self) -> tuple[str | None, ...]:
        return tuple(key.kid for key in self._keys)

    def key_for(self, kid: str | None, algorithm: str, *, now: datetime) -> jwt.PyJWK:
        key = _select(self._keys, kid, algorithm)
        if key is None:
            raise AuthInvalid("the token is signed with an unknown key (kid)")
        return key


def load_jwks_file(path: Path) -> StaticKeySet:
    """Read a JWKS file (JSON); ``KeySetError`` names the file when it is unusable."""
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise KeySetError(f"{path}: cannot read the JWKS file ({exc.strerror})") from exc
    except ValueError as exc:
        raise KeySetError(f"{path}: the JWKS file is not valid JSON") from exc
    return StaticKeySet.from_jwks(document, source=str(path))


def _check_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise KeySetError(f"JWKS URL {url!r} is not a valid URL") from exc
    if parsed.userinfo:
        raise KeySetError("the JWKS URL must not carry credentials")
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in _LOOPBACK_HOSTS):
        return parsed
    raise KeySetError("the JWKS URL must use https (plain http only for localhost)")


class RemoteKeySet:
    """A JWKS fetched from a URL with httpx and cached.

    - The cached set is used for ``ttl``; then it is fetched again.
    - A token whose ``kid`` is not in the cached set triggers one immediate re-fetch (the issuer
      may have rotated its keys), at most once per ``refresh_interval`` so that tokens with
      invented ``kid`` values cannot make the service hammer the issuer. A set fetched for this
      very request is not fetched again.
    - When a fetch fails the failure is remembered for ``retry_after``: requests meanwhile fail
      fast with ``AuthUnavailable`` instead of each waiting for the timeout. A set that expired
      less than ``max_stale`` ago keeps being used while the URL is down.

    Thread-safe: one lock serialises fetches, so concurrent requests share one download.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
        ttl: timedelta = timedelta(minutes=10),
        refresh_interval: timedelta = timedelta(seconds=30),
        retry_after: timedelta = timedelta(seconds=10),
        max_stale: timedelta = timedelta(hours=1),
    ) -> None:
        self.url = str(_check_url(url))
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(follow_redirects=False)
        self._timeout = timeout
        self._ttl = ttl
        self._refresh_interval = refresh_interval
        self._retry_after = retry_after
        self._max_stale = max_stale
        self._lock = threading.Lock()
        self._keys: tuple[PublicKey, ...] | None = None
        self._fetched_at: datetime | None = None
        self._failed_at: datetime | None = None
        self._forced_at: datetime | None = None

    def close(self) -> None:
        """Close the HTTP client if this key set created it."""
        if self._own_client:
            self._client.close()

    def key_for(self, kid: str | None, algorithm: str, *, now: datetime) -> jwt.PyJWK:
        with self._lock:
            keys, fresh = self._current(now)
            key = _select(keys, kid, algorithm)
            if key is None and not fresh and self._may_force(now):
                self._forced_at = now
                if self._recently_failed(now):
                    raise self._unavailable()
                log.info("JWKS re-fetched for an unknown kid", extra={"jwks_url": self.url})
                key = _select(self._fetch(now), kid, algorithm)
            if key is None:
                raise AuthInvalid("the token is signed with an unknown key (kid)")
            return key

    def refresh(self, *, now: datetime) -> None:
        """Fetch now (e.g. at start-up, to fail early); raises ``AuthUnavailable``."""
        with self._lock:
            self._fetch(now)

    def _may_force(self, now: datetime) -> bool:
        return self._forced_at is None or now - self._forced_at >= self._refresh_interval

    def _stale_usable(self, now: datetime) -> bool:
        return self._fetched_at is not None and now < self._fetched_at + self._ttl + self._max_stale

    def _recently_failed(self, now: datetime) -> bool:
        return self._failed_at is not None and now < self._failed_at + self._retry_after

    def _current(self, now: datetime) -> tuple[tuple[PublicKey, ...], bool]:
        """The key set to use and whether it was fetched by this very call."""
        if self._keys is not None and self._fetched_at is not None and now < self._fetched_at + self._ttl:
            return self._keys, False
        try:
            if self._recently_failed(now):
                raise self._unavailable()
            return self._fetch(now), True
        except AuthUnavailable:
            if self._keys is not None and self._stale_usable(now):
                log.warning("JWKS URL unavailable: using the expired key set", extra={"jwks_url": self.url})
                return self._keys, False
            raise

    def _unavailable(self) -> AuthUnavailable:
        seconds = max(1, int(self._retry_after.total_seconds()))
        return AuthUnavailable("the token signing keys cannot be fetched", retry_after=seconds)

    def _fetch(self, now: datetime) -> tuple[PublicKey, ...]:
        try:
            keys = parse_jwks(json.loads(self._download()), source=self.url)
        except (AuthUnavailable, KeySetError, ValueError) as exc:
            self._failed_at = now
            log.warning(
                "JWKS fetch failed",
                extra={"jwks_url": self.url, "reason": type(exc).__name__},
            )
            if isinstance(exc, AuthUnavailable):
                raise
            raise self._unavailable() from exc
        self._keys, self._fetched_at, self._failed_at = keys, now, None
        return keys

    def _download(self) -> bytes:
        try:
            with self._client.stream(
                "GET", self.url, headers={"Accept": "application/json"}, timeout=self._timeout
            ) as response:
                if response.status_code != httpx.codes.OK:
                    raise self._unavailable()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise self._unavailable()
                return bytes(body)
        except httpx.HTTPError as exc:
            raise self._unavailable() from exc
