"""SMART scopes: v1, v2 and wildcard forms granting submit and read."""

from __future__ import annotations

import pytest

from adapter.auth import Access, Principal, ScopeInsufficient, grants, require_scope
from adapter.auth.scopes import interactions


@pytest.mark.parametrize(
    "scope",
    [
        "system/Claim.write",
        "system/Claim.c",
        "system/Claim.cu",
        "system/Claim.cruds",
        "system/Claim.*",
        "system/*.write",
        "system/*.c",
        "system/*.*",
    ],
)
def test_scopes_granting_submit(scope: str) -> None:
    """v1 write, v2 create, and the wildcards let a client submit Claims."""
    assert grants({scope}, Access.SUBMIT)


@pytest.mark.parametrize(
    "scope",
    [
        "system/ClaimResponse.read",
        "system/ClaimResponse.r",
        "system/ClaimResponse.rs",
        "system/ClaimResponse.cruds",
        "system/*.read",
        "system/*.rs",
        "system/*.*",
    ],
)
def test_scopes_granting_read(scope: str) -> None:
    """v1 read, v2 r/rs/cruds and the wildcards let a client read responses."""
    assert grants({scope}, Access.READ)


@pytest.mark.parametrize(
    ("scope", "access"),
    [
        ("system/Claim.read", Access.SUBMIT),
        ("system/Claim.rs", Access.SUBMIT),
        ("system/ClaimResponse.write", Access.READ),
        ("system/ClaimResponse.s", Access.READ),
        ("system/Claim.read", Access.READ),
        ("system/ClaimResponse.read", Access.SUBMIT),
        ("patient/Claim.write", Access.SUBMIT),
        ("user/*.*", Access.READ),
        ("system/Claim.c?type=professional", Access.SUBMIT),
        ("system/Claim.rc", Access.SUBMIT),
        ("system/Claim.cc", Access.SUBMIT),
        ("system/claim.write", Access.SUBMIT),
        ("system/Claim.WRITE", Access.SUBMIT),
        ("system/*.read", Access.SUBMIT),
        ("system/*.write", Access.READ),
        ("openid", Access.READ),
    ],
)
def test_scopes_not_granting(scope: str, access: Access) -> None:
    """Wrong resource or interaction, non-system contexts, granular queries and bad letters grant nothing."""
    assert not grants({scope}, access)


def test_v1_permissions_expand_to_v2_letters() -> None:
    """v1 read is rs, write is cud, * is cruds."""
    assert interactions("system/Claim.read", "Claim") == frozenset("rs")
    assert interactions("system/Claim.write", "Claim") == frozenset("cud")
    assert interactions("system/Claim.*", "Claim") == frozenset("cruds")


def test_require_scope_passes_when_granted() -> None:
    """require_scope returns quietly when a scope grants the access."""
    principal = Principal("c", frozenset({"openid", "system/Claim.c"}))

    require_scope(principal, Access.SUBMIT)

    assert grants(principal.scopes, Access.SUBMIT)


def test_require_scope_refuses_with_403_and_the_scope() -> None:
    """require_scope raises scope-insufficient naming the needed scope in the challenge."""
    principal = Principal("c", frozenset({"system/Claim.write"}))

    with pytest.raises(ScopeInsufficient) as caught:
        require_scope(principal, Access.READ)

    assert caught.value.http_status == 403
    assert caught.value.required_scope == "system/ClaimResponse.read"
    assert 'scope="system/ClaimResponse.read"' in (caught.value.www_authenticate or "")


def test_access_is_found_by_its_canonical_scope() -> None:
    """The API names operations by their v1 scope; each maps back to its access."""
    assert Access.for_scope("system/Claim.write") is Access.SUBMIT
    assert Access.for_scope("system/ClaimResponse.read") is Access.READ
    with pytest.raises(ValueError, match="no operation"):
        Access.for_scope("system/Claim.c")
