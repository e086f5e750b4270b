"""FHIR R4 ``Subscription`` → ``SubscriptionSpec``: a rest-hook on the caller's ClaimResponses.

The resource has passed the structural checks; this reads what the adapter supports and
reports everything else at once, each issue at its element's FHIRPath. The channel's
``payload`` content follows the R4 backport of R5 Subscriptions (``backport-payload-content``
on the ``payload`` element); the signing secret travels in the adapter's own extension on
``channel``, and nowhere else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from adapter.domain.subscription import FINAL_OUTCOMES, PayloadContent, SubscriptionSpec
from adapter.errors import Issue
from mappings.systems import BACKPORT_PAYLOAD_CONTENT, Canon

__all__ = ["SECRET_MAX", "SECRET_MIN", "read_subscription"]

SECRET_MIN = 32
SECRET_MAX = 256
_CRITERIA_TYPE = "ClaimResponse"
_JSON = "application/fhir+json"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_issues(endpoint: Any, *, allow_http: bool) -> list[Issue]:
    where = "Subscription.channel.endpoint"
    if not isinstance(endpoint, str) or not endpoint:
        return [Issue("subscription-endpoint", "a rest-hook needs channel.endpoint, an https URL", where)]
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        return [Issue("subscription-endpoint", "channel.endpoint is not a URL", where)]
    if parts.scheme not in ("https", "http") or not host:
        return [Issue("subscription-endpoint", "channel.endpoint must be an absolute https URL", where)]
    if parts.username is not None or parts.password is not None:
        return [Issue("subscription-endpoint", "channel.endpoint must not carry credentials", where)]
    if parts.fragment:
        return [Issue("subscription-endpoint", "channel.endpoint must not carry a fragment", where)]
    if parts.scheme == "http" and not (allow_http or _loopback(host)):
        return [
            Issue(
                "subscription-endpoint",
                "channel.endpoint must be https (plain http only to this machine's loopback)",
                where,
            )
        ]
    return []


def _criteria(criteria: Any) -> tuple[frozenset[str], list[Issue]]:
    where = "Subscription.criteria"
    if not isinstance(criteria, str):
        return frozenset(), [Issue("subscription-criteria", "criteria is required", where)]
    kind, _, query = criteria.partition("?")
    if kind != _CRITERIA_TYPE:
        return frozenset(), [
            Issue(
                "subscription-criteria",
                f"criteria must be {_CRITERIA_TYPE} or {_CRITERIA_TYPE}?outcome=…: only the caller's "
                "own ClaimResponses can be subscribed to",
                where,
            )
        ]
    outcomes: set[str] = set()
    issues: list[Issue] = []
    seen: set[str] = set()
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "outcome" or name in seen:
            issues.append(
                Issue(
                    "subscription-criteria",
                    f"criteria parameter {name!r} is not supported: only outcome, given once",
                    where,
                )
            )
            continue
        seen.add(name)
        for code in value.split(","):
            if code not in FINAL_OUTCOMES:
                issues.append(
                    Issue(
                        "subscription-criteria",
                        f"outcome {code!r} is not a final outcome ({', '.join(FINAL_OUTCOMES)})",
                        where,
                    )
                )
            outcomes.add(code)
    return frozenset(outcomes), issues


def _extension_value(element: Any, url: str, kind: str) -> tuple[Any, int | None]:
    """The ``value[kind]`` of the first extension ``url`` on ``element`` and its index."""
    if not isinstance(element, Mapping):
        return None, None
    for index, extension in enumerate(element.get("extension") or ()):
        if isinstance(extension, Mapping) and extension.get("url") == url:
            return extension.get(f"value{kind}"), index
    return None, None


def _content(channel: Mapping[str, Any]) -> tuple[PayloadContent, list[Issue]]:
    issues: list[Issue] = []
    payload = channel.get("payload")
    if payload is not None and payload != _JSON:
        issues.append(
            Issue(
                "subscription-channel",
                f"channel.payload must be {_JSON}: notifications are sent as FHIR JSON",
                "Subscription.channel.payload",
            )
        )
    code, index = _extension_value(channel.get("_payload"), BACKPORT_PAYLOAD_CONTENT, "Code")
    if index is None:
        return PayloadContent.ID_ONLY, issues
    try:
        return PayloadContent(code), issues
    except ValueError:
        issues.append(
            Issue(
                "subscription-channel",
                "the payload content must be empty, id-only or full-resource",
                f"Subscription.channel.payload.extension[{index}].value",
            )
        )
        return PayloadContent.ID_ONLY, issues


def _secret(channel: Mapping[str, Any], canon: Canon) -> tuple[str, list[Issue]]:
    url = canon.subscription_secret
    value, index = _extension_value(channel, url, "String")
    where = (
        f"Subscription.channel.extension.where(url='{url}')"
        if index is None
        else f"Subscription.channel.extension[{index}].value"
    )
    if not isinstance(value, str):
        return "", [Issue("subscription-secret", f"the signing secret (extension {url}) is required", where)]
    if not SECRET_MIN <= len(value) <= SECRET_MAX or not value.isascii() or not value.isprintable():
        return "", [
            Issue(
                "subscription-secret",
                f"the signing secret must be {SECRET_MIN} to {SECRET_MAX} printable ASCII characters",
                where,
            )
        ]
    return value, []


def read_subscription(
    resource: Mapping[str, Any], *, canon: Canon, allow_http: bool, now: datetime
) -> tuple[SubscriptionSpec | None, list[Issue]]:
    """The subscription a structurally valid R4 ``Subscription`` asks for, or every issue.

    ``allow_http`` lets an endpoint be plain http anywhere (else only on a loopback address);
    ``now`` refuses an ``end`` already past.
    """
    issues: list[Issue] = []
    outcomes, criteria_issues = _criteria(resource.get("criteria"))
    issues.extend(criteria_issues)
    channel = resource.get("channel")
    channel = channel if isinstance(channel, Mapping) else {}
    if channel.get("type") != "rest-hook":
        issues.append(
            Issue("subscription-channel", "channel.type must be rest-hook", "Subscription.channel.type")
        )
    issues.extend(_endpoint_issues(channel.get("endpoint"), allow_http=allow_http))
    if channel.get("header"):
        issues.append(
            Issue(
                "subscription-channel",
                "channel.header is not sent: notifications are signed with the secret of the "
                f"extension {canon.subscription_secret}",
                "Subscription.channel.header",
            )
        )
    content, content_issues = _content(channel)
    issues.extend(content_issues)
    secret, secret_issues = _secret(channel, canon)
    issues.extend(secret_issues)
    end = _end(resource.get("end"), now, issues)
    reason = resource.get("reason")
    if issues:
        return None, issues
    return (
        SubscriptionSpec(
            criteria=str(resource["criteria"]),
            outcomes=outcomes,
            endpoint=str(channel["endpoint"]),
            content=content,
            secret=secret,
            reason=reason if isinstance(reason, str) else "",
            end=end,
        ),
        [],
    )


def _end(value: Any, now: datetime, issues: list[Issue]) -> datetime | None:
    if value is None:
        return None
    try:
        end = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        end = None
    if not isinstance(end, datetime) or end.tzinfo is None:
        issues.append(Issue("element-invalid", "end must be an instant with its offset", "Subscription.end"))
        return None
    if end <= now:
        issues.append(Issue("subscription-end", "end is already past", "Subscription.end"))
        return None
    return end
