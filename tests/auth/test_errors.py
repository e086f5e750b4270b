"""Auth errors: stable codes in the catalogue, HTTP statuses and RFC 6750 challenges."""

from __future__ import annotations

import pytest

from adapter.auth import (
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
from adapter.errors import CATALOGUE, AdapterError, IssueType


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (AuthMissing("m"), "auth-missing", 401),
        (AuthInvalid("m"), "auth-invalid", 401),
        (AuthExpired("m"), "auth-expired", 401),
        (AuthUnavailable("m"), "auth-unavailable", 503),
        (ScopeInsufficient("m", required_scope="system/Claim.write"), "scope-insufficient", 403),
        (OrganisationForbidden("m"), "organisation-forbidden", 403),
    ],
)
def test_each_auth_error_has_its_code_and_status(error: AuthError, code: str, status: int) -> None:
    """Every request-time auth error is an AdapterError with a catalogued code and an HTTP status."""
    assert isinstance(error, AdapterError)
    assert error.code == code
    assert error.http_status == status
    assert code in CATALOGUE


@pytest.mark.parametrize("error_type", [KeySetError, ClientsFileError, DevKeyError])
def test_configuration_errors_have_catalogued_codes(error_type: type[AdapterError]) -> None:
    """Start-up configuration errors carry catalogued codes too."""
    assert error_type("m").code in CATALOGUE


def test_auth_codes_use_the_precise_fhir_issue_types() -> None:
    """Token problems map to login/expired, refusals to forbidden, an unreachable JWKS to transient."""
    assert CATALOGUE["auth-invalid"].issue_type is IssueType.LOGIN
    assert CATALOGUE["auth-expired"].issue_type is IssueType.EXPIRED
    assert CATALOGUE["scope-insufficient"].issue_type is IssueType.FORBIDDEN
    assert CATALOGUE["organisation-forbidden"].issue_type is IssueType.FORBIDDEN
    assert CATALOGUE["auth-unavailable"].issue_type is IssueType.TRANSIENT


def test_invalid_token_challenge() -> None:
    """A 401 for a bad token carries error="invalid_token" and the description."""
    error = AuthExpired("the access token has expired")

    assert error.www_authenticate == (
        'Bearer realm="adapter", error="invalid_token", error_description="the access token has expired"'
    )


def test_insufficient_scope_challenge_names_the_scope() -> None:
    """A 403 for a missing scope carries error="insufficient_scope" and scope="…"."""
    error = ScopeInsufficient("needs more", required_scope="system/Claim.write")

    assert error.www_authenticate == (
        'Bearer realm="adapter", error="insufficient_scope", error_description="needs more", '
        'scope="system/Claim.write"'
    )


def test_challenge_never_carries_quotes_or_control_characters() -> None:
    """Characters RFC 6750 forbids in a challenge value are replaced, so the header stays well-formed."""
    error = AuthInvalid('bad "kid"\r\nX-Injected: 1')

    assert error.www_authenticate == (
        'Bearer realm="adapter", error="invalid_token", error_description="bad ?kid???X-Injected: 1"'
    )


def test_unavailable_has_no_challenge_and_a_retry_delay() -> None:
    """A 503 is not the client's fault: no WWW-Authenticate, a Retry-After value instead."""
    error = AuthUnavailable("down", retry_after=10)

    assert error.www_authenticate is None
    assert error.retry_after == 10
