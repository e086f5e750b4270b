"""Authentication and tenancy for the HTTP service (bearer JWTs, SMART Backend Services style).

Framework-free. The web layer calls :meth:`Authenticator.authenticate` (header, scope, now)
and gets the caller's tenancy, or an :class:`AuthError` to answer with its ``http_status``
and ``www_authenticate`` header. The parts are usable alone: :func:`bearer_from_header`,
:meth:`TokenVerifier.verify`, :func:`require_scope`, and the registry's ``may_submit_for`` /
``may_read`` predicates. See docs/security.md.
"""

from adapter.auth.authenticator import DISABLED_PRINCIPAL, Authenticator, authenticator_from_settings
from adapter.auth.clients import (
    DEV_CLIENT_ID,
    ClientRegistry,
    dev_registry,
    load_clients,
    parse_clients,
    registry_from,
)
from adapter.auth.devkeys import DevKey, ensure_dev_key, mint_dev_token
from adapter.auth.failures import (
    AuthConfigError,
    AuthError,
    AuthExpired,
    AuthInvalid,
    AuthMissing,
    AuthUnavailable,
    ClientsFileError,
    DevKeyError,
    KeySetError,
    OrganisationForbidden,
    ScopeInsufficient,
)
from adapter.auth.keys import KeySet, RemoteKeySet, StaticKeySet, load_jwks_file
from adapter.auth.scopes import Access, grants, require_scope
from adapter.auth.tokens import Principal, TokenVerifier, bearer_from_header

__all__ = [
    "DEV_CLIENT_ID",
    "DISABLED_PRINCIPAL",
    "Access",
    "AuthConfigError",
    "AuthError",
    "AuthExpired",
    "AuthInvalid",
    "AuthMissing",
    "AuthUnavailable",
    "Authenticator",
    "ClientRegistry",
    "ClientsFileError",
    "DevKey",
    "DevKeyError",
    "KeySet",
    "KeySetError",
    "OrganisationForbidden",
    "Principal",
    "RemoteKeySet",
    "ScopeInsufficient",
    "StaticKeySet",
    "TokenVerifier",
    "authenticator_from_settings",
    "bearer_from_header",
    "dev_registry",
    "ensure_dev_key",
    "grants",
    "load_clients",
    "load_jwks_file",
    "mint_dev_token",
    "parse_clients",
    "registry_from",
    "require_scope",
]
