"""The authenticator built from settings: key source, clients registry, development warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from adapter.access import Caller, may_read, may_submit
from adapter.api import deps
from adapter.auth import (
    DISABLED_PRINCIPAL,
    Authenticator,
    AuthMissing,
    ClientsFileError,
    KeySetError,
    OrganisationForbidden,
    ScopeInsufficient,
    authenticator_from_settings,
    mint_dev_token,
)
from adapter.settings import Settings
from tests.support.tokens import AUDIENCE, ISSUER, NOW, Mint

JWKS_URL = "https://idp.example/jwks"
SUBMIT = "system/Claim.write"
READ = "system/ClaimResponse.read"
CLIENTS = """
clients:
  - client_id: clinique-exemple
    finess: ["750000013"]
  - client_id: supervision
    organisations: "*"
"""


def test_default_settings_use_the_dev_key_and_dev_clients(tmp_path: Path) -> None:
    """With nothing configured, tokens minted with the dev key authenticate, and warnings say so."""
    settings = Settings(data_dir=tmp_path)
    auth = authenticator_from_settings(settings)
    token = mint_dev_token(
        tmp_path,
        client_id="dev-client",
        scopes=["system/*.*"],
        now=NOW,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )

    caller = auth.authenticate(f"Bearer {token}", scope=SUBMIT, now=NOW)

    assert caller == Caller(client_id="dev-client", everything=True)
    assert any("DEVELOPMENT key" in line for line in auth.warnings())
    assert any("no clients file" in line for line in auth.warnings())


def test_dev_key_password_setting_encrypts_the_key(tmp_path: Path) -> None:
    """The dev_key_password setting is used to encrypt the generated key."""
    password = SecretStr("correct horse battery")
    authenticator_from_settings(Settings(data_dir=tmp_path, dev_key_password=password))

    assert b"ENCRYPTED" in (tmp_path / "dev-signing-key.pem").read_bytes()


def test_jwks_file_and_clients_file(tmp_path: Path, jwks: dict[str, Any], mint: Mint) -> None:
    """A configured JWKS file and clients file replace the development defaults."""
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(json.dumps(jwks), encoding="utf-8")
    clients_path = tmp_path / "clients.yaml"
    clients_path.write_text(CLIENTS, encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path / "var",
        jwks_file=jwks_path,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        clients_file=clients_path,
    )

    auth = authenticator_from_settings(settings)

    caller = auth.authenticate(f"Bearer {mint()}", scope=READ, now=NOW)

    assert caller == Caller(client_id="clinique-exemple", finess=frozenset({"750000013"}))
    assert auth.warnings() == ("client 'supervision' may act for EVERY organisation",)
    assert not (tmp_path / "var").exists()


def test_jwks_url_is_used_when_configured(tmp_path: Path, jwks: dict[str, Any], mint: Mint) -> None:
    """A configured JWKS URL is fetched on the first request."""
    clients_path = tmp_path / "clients.yaml"
    clients_path.write_text(CLIENTS, encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path,
        jwks_url=JWKS_URL,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        clients_file=clients_path,
    )
    with respx.mock() as router, httpx.Client() as client:
        route = router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks))
        auth = authenticator_from_settings(settings, http_client=client)

        principal = auth.principal(f"Bearer {mint()}", now=NOW)

    assert principal.client_id == "clinique-exemple"
    assert route.call_count == 1


def test_real_keys_without_a_clients_file_refuse_to_start(tmp_path: Path, jwks: dict[str, Any]) -> None:
    """With real signing keys, a missing clients registry is a configuration error, not a wildcard."""
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(json.dumps(jwks), encoding="utf-8")

    with pytest.raises(ClientsFileError, match="ADAPTER_CLIENTS_FILE"):
        authenticator_from_settings(Settings(data_dir=tmp_path, jwks_file=jwks_path))
    with pytest.raises(ClientsFileError):
        authenticator_from_settings(Settings(data_dir=tmp_path, jwks_url=JWKS_URL))


def test_jwks_file_and_url_together_are_refused(tmp_path: Path) -> None:
    """Configuring both key sources is ambiguous and refused."""
    settings = Settings(data_dir=tmp_path, jwks_file=tmp_path / "jwks.json", jwks_url=JWKS_URL)

    with pytest.raises(KeySetError, match="not both"):
        authenticator_from_settings(settings)


def test_missing_header_is_auth_missing(tmp_path: Path) -> None:
    """With authentication on, a request without a bearer token is auth-missing."""
    auth = authenticator_from_settings(Settings(data_dir=tmp_path))

    with pytest.raises(AuthMissing):
        auth.authenticate(None, scope=SUBMIT, now=NOW)


def test_disabled_auth_lets_everyone_in_as_dev_client(tmp_path: Path) -> None:
    """auth=disabled makes every request dev-client with every scope, and says so loudly."""
    auth = authenticator_from_settings(Settings(data_dir=tmp_path, auth="disabled"))

    assert auth.principal(None, now=NOW) is DISABLED_PRINCIPAL
    assert auth.authenticate(None, scope=SUBMIT, now=NOW).everything
    assert auth.clients.development
    assert any("DISABLED" in line for line in auth.warnings())
    assert not list(tmp_path.iterdir())


def _authenticator(tmp_path: Path, jwks: dict[str, Any], clients: str = CLIENTS) -> Authenticator:
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(json.dumps(jwks), encoding="utf-8")
    clients_path = tmp_path / "clients.yaml"
    clients_path.write_text(clients, encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path,
        jwks_file=jwks_path,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        clients_file=clients_path,
    )
    return authenticator_from_settings(settings)


def test_token_without_the_operation_scope_is_403(tmp_path: Path, jwks: dict[str, Any], mint: Mint) -> None:
    """A valid token lacking the operation's scope is scope-insufficient."""
    auth = _authenticator(tmp_path, jwks)

    with pytest.raises(ScopeInsufficient):
        auth.authenticate(f"Bearer {mint(scope='system/Claim.write')}", scope=READ, now=NOW)


def test_v2_scope_satisfies_the_canonical_one(tmp_path: Path, jwks: dict[str, Any], mint: Mint) -> None:
    """The API names the v1 scope; a token holding the SMART v2 form passes."""
    auth = _authenticator(tmp_path, jwks)

    caller = auth.authenticate(f"Bearer {mint(scope='system/Claim.c')}", scope=SUBMIT, now=NOW)

    assert caller.client_id == "clinique-exemple"


def test_unregistered_client_is_organisation_forbidden(
    tmp_path: Path, jwks: dict[str, Any], mint: Mint
) -> None:
    """A valid token for a client missing from the clients file has no rights (403)."""
    auth = _authenticator(tmp_path, jwks)

    with pytest.raises(OrganisationForbidden):
        auth.authenticate(f"Bearer {mint(client_id='stranger')}", scope=SUBMIT, now=NOW)


def test_unknown_operation_scope_is_a_programming_error(
    tmp_path: Path, jwks: dict[str, Any], mint: Mint
) -> None:
    """Asking for a scope no operation uses is a bug in the caller, not a 403."""
    auth = _authenticator(tmp_path, jwks)

    with pytest.raises(ValueError, match="no operation"):
        auth.authenticate(f"Bearer {mint()}", scope="system/Patient.read", now=NOW)


def test_fits_the_api_authenticator_port(tmp_path: Path, jwks: dict[str, Any], mint: Mint) -> None:
    """The authenticator plugs into the API's port as it is (checked by mypy and at run time)."""
    port: deps.Authenticator = _authenticator(tmp_path, jwks)

    caller = port.authenticate(f"Bearer {mint()}", scope=deps.SCOPE_SUBMIT, now=NOW)

    assert caller.finess == frozenset({"750000013"})


def test_the_authenticated_caller_is_the_one_the_access_rules_take() -> None:
    """The registry's clients are the service's Caller: one type, checked by adapter.access."""
    caller = Caller(client_id="clinique-exemple", finess=frozenset({"750000013"}))

    assert may_submit(caller, "750000013", None)
    assert not may_submit(caller, "750000013", "12345678900015")
    assert may_read(caller, {"provider_finess": "690000026", "client_id": "clinique-exemple"})
    assert not may_read(caller, {"provider_finess": "690000026", "amc_number": "75500001", "client_id": "x"})
