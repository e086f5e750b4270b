"""One object for the web layer: turn an ``Authorization`` header into the caller's tenancy.

Built once at the composition root from the settings; framework-free, and shaped as the API's
authenticator port (``authenticate(authorization, *, scope, now) -> Caller``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from adapter.access import Caller
from adapter.auth.clients import DEV_CLIENT_ID, ClientRegistry, dev_registry, registry_from
from adapter.auth.devkeys import ensure_dev_key
from adapter.auth.failures import ClientsFileError, KeySetError, OrganisationForbidden
from adapter.auth.keys import KeySet, RemoteKeySet, load_jwks_file
from adapter.auth.scopes import Access, require_scope
from adapter.auth.tokens import Principal, TokenVerifier, bearer_from_header
from adapter.settings import Settings

__all__ = ["DISABLED_PRINCIPAL", "Authenticator", "authenticator_from_settings"]

#: Every request is this principal when authentication is disabled (local experiments only).
DISABLED_PRINCIPAL = Principal(client_id=DEV_CLIENT_ID, scopes=frozenset({"system/*.*"}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Authenticator:
    """The token verifier (``None`` when authentication is disabled) and the clients registry."""

    verifier: TokenVerifier | None
    clients: ClientRegistry
    dev_key: bool = False

    def principal(self, authorization: str | None, *, now: datetime) -> Principal:
        """The principal behind an ``Authorization`` header value; raises an ``AuthError``."""
        if self.verifier is None:
            return DISABLED_PRINCIPAL
        return self.verifier.verify(bearer_from_header(authorization), now)

    def authenticate(self, authorization: str | None, *, scope: str, now: datetime) -> Caller:
        """Verify the token, require ``scope``, and return what the client may act for.

        ``scope`` is the canonical scope of the operation (``system/Claim.write`` or
        ``system/ClaimResponse.read``); the token may grant it in any form docs/security.md
        lists. A valid token for a client the registry does not know is ``OrganisationForbidden``.
        May block on a JWKS download: call it off the event loop.
        """
        access = Access.for_scope(scope)
        principal = self.principal(authorization, now=now)
        require_scope(principal, access)
        client = self.clients.get(principal.client_id)
        if client is None:
            raise OrganisationForbidden("this client is not registered with the adapter")
        return client

    def warnings(self) -> tuple[str, ...]:
        """What the service must log loudly at start-up: every development shortcut in force."""
        found: list[str] = []
        if self.verifier is None:
            found.append("authentication is DISABLED: every request acts as dev-client for everyone")
        if self.dev_key:
            found.append("tokens are verified with the generated DEVELOPMENT key: configure a JWKS")
        if self.clients.development:
            found.append(f"no clients file: {DEV_CLIENT_ID!r} may act for EVERY organisation")
        else:
            found.extend(
                f"client {client_id!r} may act for EVERY organisation"
                for client_id in self.clients.wildcard_clients
            )
        return tuple(found)


def authenticator_from_settings(
    settings: Settings, *, http_client: httpx.Client | None = None
) -> Authenticator:
    """Build the authenticator: JWKS file, else JWKS URL, else the development key.

    Raises an ``AuthConfigError`` (the service should not start) when the configuration is
    unusable; the JWKS URL itself is only fetched on the first request.
    """
    if settings.auth == "disabled":
        return Authenticator(verifier=None, clients=dev_registry())
    if settings.jwks_file is not None and settings.jwks_url:
        raise KeySetError("configure either a JWKS file or a JWKS URL, not both")
    keys: KeySet
    dev_key = False
    if settings.jwks_file is not None:
        keys = load_jwks_file(settings.jwks_file)
    elif settings.jwks_url:
        keys = RemoteKeySet(settings.jwks_url, client=http_client)
    else:
        secret = settings.dev_key_password
        password = secret.get_secret_value().encode("utf-8") if secret is not None else None
        keys = ensure_dev_key(settings.data_dir, password=password).key_set()
        dev_key = True
    if not dev_key and settings.clients_file is None:
        # Real signing keys mean real clients: without a registry, every token's client
        # would fall back to the development client that acts for every organisation.
        raise ClientsFileError(
            "a JWKS is configured but ADAPTER_CLIENTS_FILE is not: register the clients and the "
            "organisations they act for (docs/security.md)"
        )
    verifier = TokenVerifier(keys, settings.jwt_issuer, settings.jwt_audience)
    return Authenticator(verifier=verifier, clients=registry_from(settings.clients_file), dev_key=dev_key)
