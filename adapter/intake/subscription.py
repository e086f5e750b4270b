"""The edge of ``POST /Subscription``: bytes → the subscription a client asks for, or every issue.

The same stages as a submission: read within the bounds (400), the root is a Subscription
(400), its FHIR R4 structure (400), then what the adapter supports (422, each issue at its
element's FHIRPath, all at once).
"""

from __future__ import annotations

from datetime import datetime

from adapter.domain.subscription import SubscriptionSpec
from adapter.errors import ConventionError, Issue, ParseError
from adapter.intake.formats import Format, Limits
from adapter.intake.pipeline import parse_payload, root_is
from mappings.fhir import structure_issues, walk
from mappings.inbound import read_subscription
from mappings.systems import Canon

__all__ = ["read_subscription_body"]


def read_subscription_body(
    data: bytes, fmt: Format, *, canon: Canon, allow_http: bool, now: datetime, limits: Limits | None = None
) -> SubscriptionSpec:
    """The subscription in ``data``; ``ParseError`` (400) or ``ConventionError`` (422)."""
    limits = limits or Limits()
    resource = parse_payload(data, fmt, limits)
    root_is(resource, "Subscription")
    try:
        walked = walk(resource, max_depth=limits.max_depth)
        issues = walked.parse or structure_issues(resource)
    except RecursionError:
        raise ParseError([Issue("input-too-large", "the resource nesting is too deep")]) from None
    if issues:
        raise ParseError(issues)
    spec, problems = read_subscription(resource, canon=canon, allow_http=allow_http, now=now)
    problems = [*walked.codes, *problems]
    if problems or spec is None:
        raise ConventionError(problems or [Issue("subscription-channel", "the subscription cannot be read")])
    return spec
