"""Authentication and authorisation failures, with their HTTP status and RFC 6750 challenge.

Hierarchy (all under :class:`adapter.errors.AdapterError`)::

    AuthError                   a request cannot be authenticated or authorised
    ├── AuthMissing             no bearer token                      401  auth-missing
    ├── AuthInvalid             bad token: signature, alg, kid, claims 401  auth-invalid
    │   └── AuthExpired         the token's ``exp`` has passed        401  auth-expired
    ├── AuthUnavailable         the signing keys cannot be fetched    503  auth-unavailable
    ├── ScopeInsufficient       the token lacks the scope             403  scope-insufficient
    └── OrganisationForbidden   the client may not act for the org    403  organisation-forbidden
    AuthConfigError             the auth configuration itself is wrong (raised at start-up)
    ├── KeySetError             a JWKS is unusable                         jwks-invalid
    ├── ClientsFileError        the clients file is malformed              clients-file-invalid
    └── DevKeyError             the development key is missing or not one  dev-key-invalid

Messages are fixed texts written here, never echoes of the token, so they are safe to log and
to put in a ``WWW-Authenticate`` header.
"""

from __future__ import annotations

import re

from adapter.errors import AdapterError, lookup

__all__ = [
    "REALM",
    "AuthConfigError",
    "AuthError",
    "AuthExpired",
    "AuthInvalid",
    "AuthMissing",
    "AuthUnavailable",
    "ClientsFileError",
    "DevKeyError",
    "KeySetError",
    "OrganisationForbidden",
    "ScopeInsufficient",
]

REALM = "adapter"

# RFC 6750 §3: error_description and scope values are limited to these characters.
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _quoted(value: str) -> str:
    return '"' + _UNSAFE.sub("?", value) + '"'


class AuthError(AdapterError):
    """A request cannot be authenticated or authorised.

    ``http_status`` is the status the API answers with; ``www_authenticate`` the value of its
    ``WWW-Authenticate`` header, or ``None`` when the failure is not the client's doing.
    """

    code = "auth-invalid"
    http_status = 401
    #: RFC 6750 §3.1 error code; ``None`` when the request carried no credentials at all.
    bearer_error: str | None = "invalid_token"

    def __init__(self, message: str) -> None:
        lookup(self.code)
        super().__init__(message)

    def _challenge_params(self) -> list[tuple[str, str]]:
        params = [("realm", REALM)]
        if self.bearer_error is not None:
            params += [("error", self.bearer_error), ("error_description", self.message)]
        return params

    @property
    def www_authenticate(self) -> str | None:
        """``Bearer realm="adapter", error="invalid_token", error_description="…"``."""
        return "Bearer " + ", ".join(f"{name}={_quoted(value)}" for name, value in self._challenge_params())


class AuthMissing(AuthError):
    """No bearer token: the header is absent, empty or uses another scheme (RFC 6750 §3.1)."""

    code = "auth-missing"
    bearer_error = None


class AuthInvalid(AuthError):
    """The token is malformed, wrongly signed, uses a refused algorithm or carries bad claims."""

    code = "auth-invalid"


class AuthExpired(AuthInvalid):
    """The token's ``exp`` has passed (beyond the leeway): the client must get a new one."""

    code = "auth-expired"


class AuthUnavailable(AuthError):
    """The signing keys cannot be obtained, so no token can be judged: HTTP 503, not 401.

    ``retry_after`` (seconds) suits a ``Retry-After`` header.
    """

    code = "auth-unavailable"
    http_status = 503
    bearer_error = None

    def __init__(self, message: str, *, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def www_authenticate(self) -> str | None:
        return None


class ScopeInsufficient(AuthError):
    """The token is valid but grants none of the scopes the operation needs (HTTP 403)."""

    code = "scope-insufficient"
    http_status = 403
    bearer_error = "insufficient_scope"

    def __init__(self, message: str, *, required_scope: str) -> None:
        super().__init__(message)
        self.required_scope = required_scope

    def _challenge_params(self) -> list[tuple[str, str]]:
        return [*super()._challenge_params(), ("scope", self.required_scope)]


class OrganisationForbidden(AuthError):
    """The client may not act for this organisation (HTTP 403; reads answer 404 instead)."""

    code = "organisation-forbidden"
    http_status = 403

    @property
    def www_authenticate(self) -> str | None:
        return None


class AuthConfigError(AdapterError):
    """The authentication configuration is wrong: the service should refuse to start."""

    def __init__(self, message: str) -> None:
        lookup(self.code)
        super().__init__(message)


class KeySetError(AuthConfigError):
    """A JWKS cannot be read or holds no usable public key; the message says why."""

    code = "jwks-invalid"


class ClientsFileError(AuthConfigError):
    """The clients file is malformed; the message names the file, the client and the field."""

    code = "clients-file-invalid"


class DevKeyError(AuthConfigError):
    """The development signing key is unreadable, too widely readable, or not a dev key."""

    code = "dev-key-invalid"
