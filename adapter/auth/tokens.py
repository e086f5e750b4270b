"""Bearer access tokens: read the ``Authorization`` header and verify the JWT.

The verifier is pure apart from the key set: it takes ``now`` from the caller (PyJWT's own
clock checks are switched off and redone here on that ``now``). Nothing here logs a token.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import jwt

from adapter.auth.failures import AuthExpired, AuthInvalid, AuthMissing
from adapter.auth.keys import ALGORITHMS, KeySet

__all__ = ["MAX_TOKEN_LENGTH", "Principal", "TokenVerifier", "bearer_from_header"]

MAX_TOKEN_LENGTH = 16_384
# RFC 6750 §2.1 b64token.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAX_LEEWAY = 300
_VERIFIED_CACHE = 4096  # verified tokens kept (bounded: tokens come from clients)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the client id, the scopes granted and the verified claims.

    ``claims`` is read-only and left out of ``repr`` so a logged principal shows no claim values.
    """

    client_id: str
    scopes: frozenset[str]
    claims: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))


def bearer_from_header(value: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value.

    No header, another scheme or an empty token raise ``AuthMissing`` (RFC 6750 §3.1: no error
    code in the challenge); a token with characters outside the b64token grammar raises
    ``AuthInvalid``.
    """
    if value is None or not value.strip():
        raise AuthMissing("the request has no Authorization header")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthMissing("the Authorization header does not use the Bearer scheme")
    token = token.strip()
    if not token:
        raise AuthMissing("the Authorization header carries no bearer token")
    if len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        raise AuthInvalid("the bearer token is malformed")
    return token


def _timestamp(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthInvalid(f"the '{name}' claim must be a number of seconds since the epoch")
    return float(value)


class TokenVerifier:
    """Verifies signed access tokens against a key set, an issuer and an audience.

    Accepted: RS256 or ES256 only (``none``, HS* and every other algorithm are refused before
    any key is looked up), signed by the key the header's ``kid`` names, with ``exp``, ``iss``
    and ``aud`` present and right, ``nbf`` and ``iat`` right when present, each time check
    allowing ``leeway`` seconds of clock skew. The client is the ``client_id`` claim, else
    ``sub``; the scopes come from the space-separated ``scope`` claim.

    >>> verifier = TokenVerifier(keys, issuer="https://idp.example", audience="adapter")
    >>> principal = verifier.verify(token, now)   # AuthInvalid / AuthExpired / AuthUnavailable
    """

    def __init__(self, keys: KeySet, issuer: str, audience: str, leeway: int = 30) -> None:
        if not 0 <= leeway <= _MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {_MAX_LEEWAY} seconds")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        # Verified tokens: digest → (key that verified it, claims). Signature checks cost 0.2–0.7 ms;
        # a hit still re-checks the times and that the same key is still the one for its kid.
        self._verified: OrderedDict[bytes, tuple[jwt.PyJWK, dict[str, object]]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str, now: datetime) -> Principal:
        """Return the caller's principal, or raise an ``AuthError`` saying why not."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthInvalid("the bearer token is malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthInvalid("the bearer token is not a signed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthInvalid("the token's signature algorithm is not accepted (RS256 or ES256 only)")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthInvalid("the token's key id (kid) must be a string")
        key = self.keys.key_for(kid, algorithm, now=now)
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        with self._lock:
            cached = self._verified.get(digest)
            if cached is not None:
                self._verified.move_to_end(digest)
        hit = cached is not None and cached[0] is key
        claims = cached[1] if cached is not None and hit else self._decode(token, key, algorithm)
        self._check_times(claims, now)
        if not hit:
            with self._lock:
                self._verified[digest] = (key, claims)
                while len(self._verified) > _VERIFIED_CACHE:
                    self._verified.popitem(last=False)
        return Principal(client_id=self._client_id(claims), scopes=self._scopes(claims), claims=claims)

    def _decode(self, token: str, key: jwt.PyJWK, algorithm: str) -> dict[str, object]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "verify_signature": True,
                    "verify_aud": True,
                    "verify_iss": True,
                    # Time claims are checked on the caller's clock in _check_times.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "iss", "aud"],
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidSignatureError:
            raise AuthInvalid("the token signature does not verify") from None
        except jwt.InvalidAudienceError:
            raise AuthInvalid("the token is not meant for this service (aud)") from None
        except jwt.InvalidIssuerError:
            raise AuthInvalid("the token comes from an issuer this service does not trust (iss)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthInvalid(f"the token lacks the '{exc.claim}' claim") from None
        except jwt.PyJWTError:
            raise AuthInvalid("the token cannot be verified") from None

    def _check_times(self, claims: Mapping[str, object], now: datetime) -> None:
        current = now.timestamp()
        expires = _timestamp(claims, "exp")
        if expires is not None and current >= expires + self.leeway:
            raise AuthExpired("the access token has expired")
        not_before = _timestamp(claims, "nbf")
        if not_before is not None and current + self.leeway < not_before:
            raise AuthInvalid("the access token is not valid yet (nbf)")
        issued_at = _timestamp(claims, "iat")
        if issued_at is not None and current + self.leeway < issued_at:
            raise AuthInvalid("the access token is issued in the future (iat)")

    @staticmethod
    def _client_id(claims: Mapping[str, object]) -> str:
        client_id = claims.get("client_id", claims.get("sub"))
        if not isinstance(client_id, str) or not client_id.strip():
            raise AuthInvalid("the token names no client (client_id or sub)")
        return client_id

    @staticmethod
    def _scopes(claims: Mapping[str, object]) -> frozenset[str]:
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise AuthInvalid("the 'scope' claim must be a space-separated string")
        return frozenset(scope.split())
