"""Bearer header parsing and access-token verification (signature, algorithm, claims, clock)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapter.auth import (
    AuthExpired,
    AuthInvalid,
    AuthMissing,
    Principal,
    StaticKeySet,
    TokenVerifier,
    bearer_from_header,
)
from tests.support.tokens import AUDIENCE, ISSUER, NOW, Mint, claims, rsa_jwk


def _segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unsigned(header: dict[str, Any]) -> str:
    return f"{_segment(header)}.{_segment(claims())}"


# -- valid tokens ---------------------------------------------------------------------------


def test_rs256_token_gives_the_principal(verifier: TokenVerifier, mint: Mint) -> None:
    """A valid RS256 token yields its client_id and scopes."""
    principal = verifier.verify(mint("RS256"), NOW)

    assert principal.client_id == "clinique-exemple"
    assert principal.scopes == frozenset({"system/Claim.write", "system/ClaimResponse.read"})
    assert principal.claims["iss"] == ISSUER


def test_es256_token_gives_the_principal(verifier: TokenVerifier, mint: Mint) -> None:
    """A valid ES256 token is accepted too."""
    principal = verifier.verify(mint("ES256"), NOW)

    assert principal.client_id == "clinique-exemple"


def test_sub_names_the_client_without_client_id(verifier: TokenVerifier, mint: Mint) -> None:
    """Without a client_id claim the client is the sub claim."""
    principal = verifier.verify(mint(client_id=None), NOW)

    assert principal.client_id == "svc-clinique-exemple"


def test_audience_list_containing_ours_is_accepted(verifier: TokenVerifier, mint: Mint) -> None:
    """An aud array that includes this service's audience is accepted."""
    principal = verifier.verify(mint(aud=["other-api", AUDIENCE]), NOW)

    assert principal.client_id == "clinique-exemple"


def test_missing_scope_claim_means_no_scopes(verifier: TokenVerifier, mint: Mint) -> None:
    """A token without a scope claim is valid but grants nothing."""
    principal = verifier.verify(mint(scope=None), NOW)

    assert principal.scopes == frozenset()


def test_token_without_kid_uses_the_only_key_of_its_family(
    verifier: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    """With no kid, the single key of the token's algorithm is used."""
    token = jwt.encode(claims(), ec_key, algorithm="ES256")

    assert verifier.verify(token, NOW).client_id == "clinique-exemple"


def test_principal_repr_hides_claims(verifier: TokenVerifier, mint: Mint) -> None:
    """A logged principal shows the client and scopes, never claim values."""
    principal = verifier.verify(mint(), NOW)

    assert ISSUER not in repr(principal)
    assert "clinique-exemple" in repr(principal)


def test_principal_claims_are_read_only() -> None:
    """The claims mapping of a principal cannot be modified."""
    principal = Principal("c", frozenset(), {"scope": ""})

    with pytest.raises(TypeError):
        principal.claims["scope"] = "system/*.*"  # type: ignore[index]


# -- time claims on the injected clock ----------------------------------------------------------


def test_expired_token_is_auth_expired(verifier: TokenVerifier, mint: Mint) -> None:
    """A token past exp + leeway raises auth-expired (401)."""
    token = mint()

    with pytest.raises(AuthExpired) as caught:
        verifier.verify(token, NOW + timedelta(seconds=300 + 30))

    assert caught.value.code == "auth-expired"
    assert caught.value.http_status == 401


def test_expiry_allows_the_leeway(verifier: TokenVerifier, mint: Mint) -> None:
    """Within the 30 s leeway after exp the token is still accepted."""
    principal = verifier.verify(mint(), NOW + timedelta(seconds=300 + 29))

    assert principal.client_id == "clinique-exemple"


def test_not_yet_valid_token_is_refused(verifier: TokenVerifier, mint: Mint) -> None:
    """A token whose nbf is beyond now + leeway is auth-invalid."""
    token = mint(nbf=int(NOW.timestamp()) + 120)

    with pytest.raises(AuthInvalid, match="not valid yet") as caught:
        verifier.verify(token, NOW)

    assert caught.value.code == "auth-invalid"


def test_nbf_within_leeway_is_accepted(verifier: TokenVerifier, mint: Mint) -> None:
    """A clock 20 s behind the issuer's still accepts a token valid from its iat."""
    token = mint(nbf=int(NOW.timestamp()) + 20, iat=int(NOW.timestamp()) + 20)

    assert verifier.verify(token, NOW).client_id == "clinique-exemple"


def test_token_issued_in_the_future_is_refused(verifier: TokenVerifier, mint: Mint) -> None:
    """An iat beyond now + leeway is auth-invalid."""
    token = mint(iat=int(NOW.timestamp()) + 120)

    with pytest.raises(AuthInvalid, match="future"):
        verifier.verify(token, NOW)


def test_non_numeric_exp_is_refused(verifier: TokenVerifier, mint: Mint) -> None:
    """A time claim that is not a number is auth-invalid, not a crash."""
    with pytest.raises(AuthInvalid):
        verifier.verify(mint(exp="tomorrow"), NOW)


def test_naive_now_is_a_programming_error(verifier: TokenVerifier, mint: Mint) -> None:
    """The injected clock must be timezone-aware."""
    with pytest.raises(ValueError, match="timezone-aware"):
        verifier.verify(mint(), datetime(2025, 3, 14, 10, 0))  # noqa: DTZ001


# -- claims -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iss": "https://evil.example"}, "issuer"),
        ({"aud": "another-service"}, "aud"),
        ({"exp": None}, "'exp'"),
        ({"iss": None}, "'iss'"),
        ({"aud": None}, "'aud'"),
        ({"client_id": None, "sub": None}, "names no client"),
        ({"client_id": "  "}, "names no client"),
        ({"scope": ["system/*.*"]}, "space-separated"),
    ],
)
def test_bad_claims_are_auth_invalid(
    verifier: TokenVerifier, mint: Mint, overrides: dict[str, Any], message: str
) -> None:
    """Wrong iss or aud, a missing exp/iss/aud, no client or a non-string scope is auth-invalid."""
    with pytest.raises(AuthInvalid, match=message) as caught:
        verifier.verify(mint(**overrides), NOW)

    assert type(caught.value) is AuthInvalid


# -- signature and algorithm --------------------------------------------------------------------


def test_tampered_payload_fails_the_signature(verifier: TokenVerifier, mint: Mint) -> None:
    """Changing the payload after signing is auth-invalid."""
    header, _, signature = mint().split(".")
    forged = f"{header}.{_segment(claims(scope='system/*.*'))}.{signature}"

    with pytest.raises(AuthInvalid, match="signature"):
        verifier.verify(forged, NOW)


def test_token_signed_by_another_key_with_our_kid_is_refused(verifier: TokenVerifier) -> None:
    """A token signed by an unknown RSA key under a trusted kid fails the signature check."""
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), intruder, algorithm="RS256", headers={"kid": "rsa-1"})

    with pytest.raises(AuthInvalid, match="signature"):
        verifier.verify(token, NOW)


def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    """An unsigned token (alg none) is refused before any key is looked up."""
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": "rsa-1"}) + "."

    with pytest.raises(AuthInvalid, match="algorithm"):
        verifier.verify(token, NOW)


def test_hs256_signed_with_the_public_key_is_refused(
    verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    """The classic confusion attack (HS256 keyed with the RSA public key PEM) is refused."""
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"})
    mac = hmac.new(public_pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    with pytest.raises(AuthInvalid, match="algorithm"):
        verifier.verify(token, NOW)


def test_es256_header_on_an_rsa_kid_is_refused(verifier: TokenVerifier, mint: Mint) -> None:
    """A token whose alg does not fit the family of the key its kid names is refused."""
    token = mint("ES256", kid="rsa-1")

    with pytest.raises(AuthInvalid, match="does not match"):
        verifier.verify(token, NOW)


def test_other_rsa_algorithms_are_refused(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    """RS512 (and every algorithm but RS256 and ES256) is refused."""
    token = jwt.encode(claims(), rsa_key, algorithm="RS512", headers={"kid": "rsa-1"})

    with pytest.raises(AuthInvalid, match="RS256 or ES256 only"):
        verifier.verify(token, NOW)


def test_unknown_kid_in_a_static_set_is_refused(verifier: TokenVerifier, mint: Mint) -> None:
    """A kid absent from a file JWKS is auth-invalid."""
    with pytest.raises(AuthInvalid, match="unknown key"):
        verifier.verify(mint(kid="rotated-away"), NOW)


def test_kid_must_be_a_string(verifier: TokenVerifier) -> None:
    """A non-string kid header is auth-invalid."""
    token = _unsigned({"alg": "RS256", "kid": 7}) + ".c2lnbmF0dXJl"

    with pytest.raises(AuthInvalid):
        verifier.verify(token, NOW)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 20_000])
def test_garbage_is_auth_invalid(verifier: TokenVerifier, token: str) -> None:
    """Empty, truncated, undecodable or oversized tokens are auth-invalid."""
    with pytest.raises(AuthInvalid):
        verifier.verify(token, NOW)


def test_leeway_is_bounded(jwks: dict[str, Any]) -> None:
    """A leeway beyond five minutes is refused at construction."""
    with pytest.raises(ValueError, match="leeway"):
        TokenVerifier(StaticKeySet.from_jwks(jwks), ISSUER, AUDIENCE, leeway=3600)


def test_key_without_kid_is_ambiguous_among_several(jwks: dict[str, Any], rsa_key: rsa.RSAPrivateKey) -> None:
    """With no kid and two keys of the token's family, the token is refused."""
    second = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = StaticKeySet.from_jwks({"keys": [*jwks["keys"], rsa_jwk(second, "rsa-2")]})
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")

    with pytest.raises(AuthInvalid, match="no key id"):
        TokenVerifier(keys, ISSUER, AUDIENCE).verify(token, NOW)


# -- the Authorization header -------------------------------------------------------------------


def test_bearer_from_header_returns_the_token() -> None:
    """The scheme is matched case-insensitively and the token returned as is."""
    assert bearer_from_header("bearer abc.DEF-_~+/.ghi==") == "abc.DEF-_~+/.ghi=="


@pytest.mark.parametrize("value", [None, "", "   ", "Basic dXNlcjpwdw==", "Bearer", "Bearer   "])
def test_no_bearer_is_auth_missing(value: str | None) -> None:
    """No header, another scheme or an empty token raise auth-missing with a bare challenge."""
    with pytest.raises(AuthMissing) as caught:
        bearer_from_header(value)

    assert caught.value.code == "auth-missing"
    assert caught.value.www_authenticate == 'Bearer realm="adapter"'


def test_malformed_bearer_is_auth_invalid() -> None:
    """A bearer value with spaces or quotes inside is auth-invalid."""
    with pytest.raises(AuthInvalid):
        bearer_from_header('Bearer abc "def"')


def test_unknown_critical_header_is_refused(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    """A token marking a header extension the adapter does not understand as critical is refused."""
    token = jwt.encode(
        claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1", "crit": ["exp"], "exp": 1}
    )

    with pytest.raises(AuthInvalid):
        verifier.verify(token, NOW)


# -- the verified-token cache ------------------------------------------------------------------


def test_a_verified_token_is_not_checked_again(
    verifier: TokenVerifier, mint: Mint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second use of a token skips the signature check but gives the same principal."""
    token = mint("ES256")
    first = verifier.verify(token, NOW)
    calls: list[str] = []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: calls.append("decode") or {})

    assert verifier.verify(token, NOW) == first
    assert calls == []


def test_a_cached_token_still_expires(verifier: TokenVerifier, mint: Mint) -> None:
    """Expiry is checked on every use, cached or not."""
    token = mint()
    verifier.verify(token, NOW)

    with pytest.raises(AuthExpired):
        verifier.verify(token, NOW + timedelta(days=1))


def test_a_rotated_key_forces_a_new_check(mint: Mint, jwks: dict[str, Any]) -> None:
    """When the kid now names another key, the cached verification no longer counts."""
    token = mint()
    verifier = TokenVerifier(StaticKeySet.from_jwks(jwks), issuer=ISSUER, audience=AUDIENCE)
    verifier.verify(token, NOW)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier.keys = StaticKeySet.from_jwks({"keys": [rsa_jwk(other, "rsa-1", use="sig", alg="RS256")]})

    with pytest.raises(AuthInvalid, match="signature"):
        verifier.verify(token, NOW)
