"""JWKS from a file or a URL: what is accepted, caching, refresh on unknown kid, outages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapter.auth import (
    AuthInvalid,
    AuthUnavailable,
    KeySetError,
    RemoteKeySet,
    StaticKeySet,
    TokenVerifier,
    load_jwks_file,
)
from tests.support.tokens import AUDIENCE, ISSUER, NOW, Mint, ec_jwk, rsa_jwk

JWKS_URL = "https://idp.example/realms/adapter/protocol/openid-connect/certs"
HOUR_LATER = int(NOW.timestamp()) + 3600


# -- parsing a JWKS -----------------------------------------------------------------------------


def test_jwks_file_is_loaded(tmp_path: Path, jwks: dict[str, Any]) -> None:
    """A JWKS file yields its RS256 and ES256 keys by kid."""
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks), encoding="utf-8")

    assert load_jwks_file(path).kids == ("rsa-1", "ec-1")


def test_missing_jwks_file_names_the_path(tmp_path: Path) -> None:
    """An unreadable JWKS file is a jwks-invalid error naming the file."""
    path = tmp_path / "absent.json"

    with pytest.raises(KeySetError, match=r"absent\.json") as caught:
        load_jwks_file(path)

    assert caught.value.code == "jwks-invalid"


def test_jwks_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    """A JWKS file that is not JSON is refused with a clear message."""
    path = tmp_path / "jwks.json"
    path.write_text("keys: []", encoding="utf-8")

    with pytest.raises(KeySetError, match="not valid JSON"):
        load_jwks_file(path)


@pytest.mark.parametrize("document", [[], {"kids": []}, {"keys": {}}, {"keys": ["RSA"]}])
def test_documents_that_are_not_a_jwks_are_refused(document: object) -> None:
    """A JWKS must be an object with a 'keys' array of objects."""
    with pytest.raises(KeySetError):
        StaticKeySet.from_jwks(document)


def test_private_key_material_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    """A JWKS publishing a private exponent is refused outright."""
    entry = rsa_jwk(rsa_key, "rsa-1", d="AQAB")

    with pytest.raises(KeySetError, match="private or symmetric"):
        StaticKeySet.from_jwks({"keys": [entry]})


def test_symmetric_keys_are_refused() -> None:
    """An oct (HMAC) key in a JWKS is refused: HS* is never accepted."""
    entry = {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}

    with pytest.raises(KeySetError, match="private or symmetric"):
        StaticKeySet.from_jwks({"keys": [entry]})


def test_short_rsa_keys_are_refused() -> None:
    """RSA keys under 2048 bits are refused."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point of the test

    with pytest.raises(KeySetError, match="2048"):
        StaticKeySet.from_jwks({"keys": [rsa_jwk(weak, "weak")]})


def test_keys_for_other_uses_and_algorithms_are_skipped(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    """Encryption keys, other algorithms and other curves are skipped, usable ones kept."""
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    entries = [
        rsa_jwk(rsa_key, "enc", use="enc"),
        rsa_jwk(rsa_key, "ps", alg="PS256"),
        rsa_jwk(rsa_key, "wrap", key_ops=["wrapKey"]),
        {"kty": "EC", "crv": "P-384", "kid": "p384", "x": str(p384.x), "y": str(p384.y)},
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "AAAA"},
        ec_jwk(ec_key, "ec-1"),
    ]

    assert StaticKeySet.from_jwks({"keys": entries}).kids == ("ec-1",)


def test_a_jwks_without_usable_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    """A JWKS whose keys are all skipped is an error, not a silent lock-out."""
    with pytest.raises(KeySetError, match="no RS256"):
        StaticKeySet.from_jwks({"keys": [rsa_jwk(rsa_key, "enc", use="enc")]})


def test_duplicate_kid_is_refused(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> None:
    """Two usable keys with the same kid make the JWKS ambiguous and are refused."""
    with pytest.raises(KeySetError, match="appears twice"):
        StaticKeySet.from_jwks({"keys": [rsa_jwk(rsa_key, "k"), ec_jwk(ec_key, "k")]})


def test_malformed_key_is_refused() -> None:
    """A JWK with broken coordinates is refused with its position."""
    entry = {"kty": "EC", "crv": "P-256", "kid": "bad", "x": "AAAA", "y": "AAAA"}

    with pytest.raises(KeySetError, match=r"keys\[0\]"):
        StaticKeySet.from_jwks({"keys": [entry]})


# -- a JWKS URL ---------------------------------------------------------------------------------


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Intercept httpx: nothing leaves the process."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An httpx client the key set borrows (closed by the test, not the key set)."""
    with httpx.Client() as http:
        yield http


def _remote(client: httpx.Client, **options: Any) -> tuple[RemoteKeySet, TokenVerifier]:
    keys = RemoteKeySet(JWKS_URL, client=client, **options)
    return keys, TokenVerifier(keys, ISSUER, AUDIENCE)


def _only(jwks: dict[str, Any], kid: str) -> dict[str, Any]:
    return {"keys": [entry for entry in jwks["keys"] if entry["kid"] == kid]}


def test_jwks_url_is_fetched_once_and_cached(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """Two tokens within the TTL cost one fetch."""
    route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    _, verifier = _remote(client)

    verifier.verify(mint("RS256", exp=HOUR_LATER), NOW)
    verifier.verify(mint("ES256", exp=HOUR_LATER), NOW + timedelta(minutes=9))

    assert route.call_count == 1


def test_jwks_url_is_fetched_again_after_the_ttl(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """Once the TTL has passed the JWKS is fetched again."""
    route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    _, verifier = _remote(client, ttl=timedelta(minutes=10))

    verifier.verify(mint(exp=HOUR_LATER), NOW)
    verifier.verify(mint(exp=HOUR_LATER), NOW + timedelta(minutes=10))

    assert route.call_count == 2


def test_unknown_kid_triggers_one_refresh_then_succeeds(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """A key rotated in after the last fetch is found by one immediate re-fetch."""
    route = router.get(JWKS_URL).mock(
        side_effect=[httpx.Response(200, json=_only(jwks, "ec-1")), httpx.Response(200, json=jwks)]
    )
    _, verifier = _remote(client)
    verifier.verify(mint("ES256"), NOW)

    principal = verifier.verify(mint("RS256"), NOW)

    assert principal.client_id == "clinique-exemple"
    assert route.call_count == 2


def test_unknown_kid_after_refresh_is_auth_invalid(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """A kid still unknown after the re-fetch is auth-invalid, and the next one does not re-fetch."""
    route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    _, verifier = _remote(client, refresh_interval=timedelta(seconds=30))
    verifier.verify(mint(), NOW)

    with pytest.raises(AuthInvalid, match="unknown key"):
        verifier.verify(mint(kid="invented-1"), NOW)
    with pytest.raises(AuthInvalid, match="unknown key"):
        verifier.verify(mint(kid="invented-2"), NOW + timedelta(seconds=5))

    assert route.call_count == 2


def test_unknown_kid_on_a_cold_cache_fetches_once(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """A set fetched for this very request is not fetched a second time for its unknown kid."""
    route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    _, verifier = _remote(client)

    with pytest.raises(AuthInvalid, match="unknown key"):
        verifier.verify(mint(kid="invented"), NOW)

    assert route.call_count == 1


def test_forced_refresh_is_allowed_again_after_the_interval(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """After refresh_interval an unknown kid may trigger another re-fetch."""
    route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    _, verifier = _remote(client, refresh_interval=timedelta(seconds=30))
    verifier.verify(mint(), NOW)

    for offset in (0, 30):
        with pytest.raises(AuthInvalid):
            verifier.verify(mint(kid="invented"), NOW + timedelta(seconds=offset))

    assert route.call_count == 3


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(500),
        httpx.Response(404),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"keys": []}),
    ],
    ids=["connect", "timeout", "500", "404", "not-json", "no-keys"],
)
def test_jwks_url_down_is_auth_unavailable(
    router: respx.MockRouter, client: httpx.Client, mint: Mint, answer: Exception | httpx.Response
) -> None:
    """A JWKS that cannot be fetched or read is auth-unavailable (503), not a 401."""
    if isinstance(answer, Exception):
        router.get(JWKS_URL).mock(side_effect=answer)
    else:
        router.get(JWKS_URL).mock(return_value=answer)
    _, verifier = _remote(client)

    with pytest.raises(AuthUnavailable) as caught:
        verifier.verify(mint(), NOW)

    assert caught.value.code == "auth-unavailable"
    assert caught.value.http_status == 503


def test_oversized_jwks_is_auth_unavailable(
    router: respx.MockRouter, client: httpx.Client, mint: Mint
) -> None:
    """A JWKS response over the size bound is not read to the end."""
    router.get(JWKS_URL).mock(return_value=httpx.Response(200, content=b" " * (600 * 1024)))
    _, verifier = _remote(client)

    with pytest.raises(AuthUnavailable):
        verifier.verify(mint(), NOW)


def test_failure_is_remembered_for_retry_after(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """After a failed fetch, requests fail fast until retry_after, then the URL is tried again."""
    route = router.get(JWKS_URL).mock(
        side_effect=[httpx.ConnectError("down"), httpx.Response(200, json=jwks)]
    )
    _, verifier = _remote(client, retry_after=timedelta(seconds=10))

    with pytest.raises(AuthUnavailable):
        verifier.verify(mint(), NOW)
    with pytest.raises(AuthUnavailable) as caught:
        verifier.verify(mint(), NOW + timedelta(seconds=5))
    assert route.call_count == 1
    assert caught.value.retry_after == 10

    assert verifier.verify(mint(), NOW + timedelta(seconds=10)).client_id == "clinique-exemple"
    assert route.call_count == 2


def test_expired_set_is_used_while_the_url_is_down(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """Within max_stale after the TTL, an outage keeps the last good key set in use."""
    router.get(JWKS_URL).mock(side_effect=[httpx.Response(200, json=jwks), httpx.ConnectError("down")])
    _, verifier = _remote(client, ttl=timedelta(minutes=10), max_stale=timedelta(hours=1))
    verifier.verify(mint(), NOW)
    later = NOW + timedelta(minutes=30)

    principal = verifier.verify(mint(iat=int(later.timestamp()), exp=int(later.timestamp()) + 60), later)

    assert principal.client_id == "clinique-exemple"


def test_expired_set_beyond_max_stale_is_not_used(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """Past ttl + max_stale an outage is auth-unavailable again."""
    router.get(JWKS_URL).mock(side_effect=[httpx.Response(200, json=jwks), httpx.ConnectError("down")])
    _, verifier = _remote(client, ttl=timedelta(minutes=10), max_stale=timedelta(hours=1))
    verifier.verify(mint(), NOW)
    later = NOW + timedelta(hours=2)

    with pytest.raises(AuthUnavailable):
        verifier.verify(mint(iat=int(later.timestamp()), exp=int(later.timestamp()) + 60), later)


def test_unknown_kid_while_the_url_is_down_is_auth_unavailable(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """If the re-fetch for an unknown kid fails, the answer is 503: the key may exist."""
    router.get(JWKS_URL).mock(side_effect=[httpx.Response(200, json=jwks), httpx.ConnectError("down")])
    _, verifier = _remote(client)
    verifier.verify(mint(), NOW)

    with pytest.raises(AuthUnavailable):
        verifier.verify(mint(kid="rotated-in"), NOW)


def test_unknown_kid_during_an_outage_fails_fast(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """While the expired set stands in for a down URL, an unknown kid is 503 without a new call."""
    route = router.get(JWKS_URL).mock(
        side_effect=[httpx.Response(200, json=jwks), httpx.ConnectError("down")]
    )
    _, verifier = _remote(client, ttl=timedelta(minutes=10), retry_after=timedelta(seconds=10))
    verifier.verify(mint(exp=HOUR_LATER), NOW)
    later = NOW + timedelta(minutes=11)
    verifier.verify(mint(exp=HOUR_LATER), later)

    with pytest.raises(AuthUnavailable):
        verifier.verify(mint(kid="rotated-in", exp=HOUR_LATER), later + timedelta(seconds=1))

    assert route.call_count == 2


def test_concurrent_requests_share_one_download(
    router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any], mint: Mint
) -> None:
    """Requests arriving together on a cold cache wait for one fetch instead of each fetching."""

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return httpx.Response(200, json=jwks)

    route = router.get(JWKS_URL).mock(side_effect=slow)
    _, verifier = _remote(client)
    token = mint()

    with ThreadPoolExecutor(max_workers=8) as pool:
        principals = list(pool.map(lambda _: verifier.verify(token, NOW), range(8)))

    assert {principal.client_id for principal in principals} == {"clinique-exemple"}
    assert route.call_count == 1


def test_refresh_fetches_now(router: respx.MockRouter, client: httpx.Client, jwks: dict[str, Any]) -> None:
    """refresh() fetches immediately, so a start-up check can fail early."""
    route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    keys, _ = _remote(client)

    keys.refresh(now=NOW)

    assert route.call_count == 1


def test_default_client_is_created_and_closed(
    router: respx.MockRouter, jwks: dict[str, Any], mint: Mint
) -> None:
    """Without a client the key set makes its own, and close() closes it."""
    router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
    keys = RemoteKeySet(JWKS_URL)

    assert TokenVerifier(keys, ISSUER, AUDIENCE).verify(mint(), NOW).client_id == "clinique-exemple"
    keys.close()


@pytest.mark.parametrize(
    "url",
    ["http://idp.example/jwks", "https://user:pw@idp.example/jwks", "ftp://idp.example/jwks", "not a url"],
)
def test_unsafe_jwks_urls_are_refused(url: str) -> None:
    """Plain http (except localhost), credentials in the URL and other schemes are refused."""
    with pytest.raises(KeySetError):
        RemoteKeySet(url)


def test_plain_http_is_allowed_for_localhost(client: httpx.Client) -> None:
    """A local identity provider may be reached over plain http."""
    keys = RemoteKeySet("http://localhost:8081/jwks", client=client)

    assert keys.url == "http://localhost:8081/jwks"
