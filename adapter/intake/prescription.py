"""The edge of ``DeviceRequest/$validate``: bytes → a readable lone DeviceRequest, or ``ParseError``.

Unreadable input (not JSON or XML, not a DeviceRequest, not FHIR R4) is refused (400) as a
submission would be; anything readable is answered with its findings, errors included.
"""

from __future__ import annotations

from datetime import date

from adapter.errors import Issue, ParseError
from adapter.intake.formats import Format, Limits
from adapter.intake.pipeline import parse_payload, root_is
from mappings.fhir import structure_issues, walk
from mappings.inbound import PrescriptionReading, read_lone_prescription
from mappings.systems import Canon

__all__ = ["read_lone_device_request"]


def read_lone_device_request(
    data: bytes,
    fmt: Format | None = None,
    *,
    today: date,
    canon: Canon | None = None,
    limits: Limits | None = None,
) -> PrescriptionReading:
    """The readable DeviceRequest's reading (its issues included), or ``ParseError``."""
    fmt = fmt or Format.sniff(data)
    limits = limits or Limits()
    resource = parse_payload(data, fmt, limits)
    root_is(resource, "DeviceRequest")
    try:
        walked = walk(resource, max_depth=limits.max_depth)
        issues = walked.parse or structure_issues(resource)
    except RecursionError:
        raise ParseError([Issue("input-too-large", "the resource nesting is too deep")]) from None
    if issues:
        raise ParseError(issues)
    reading = read_lone_prescription(resource, today=today, canon=canon, references=walked.references)
    if walked.codes:
        return PrescriptionReading(prescription=None, issues=(*walked.codes, *reading.issues))
    return reading
