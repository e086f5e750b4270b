"""Checking a prescription on its own: intake → the prescriber-side rules → every finding.

Serves ``DeviceRequest/$validate`` and ``adapter validate`` on a lone DeviceRequest. Reads no
clock: ``today`` dates a prescription that gives no date at all.
"""

from __future__ import annotations

from datetime import date

from adapter.errors import Issue
from adapter.intake import Format, Limits
from adapter.intake.prescription import read_lone_device_request
from adapter.rules.config import RulesConfig
from adapter.rules.lpp import LppTable
from adapter.rules.prescription import check_prescription
from mappings.systems import Canon

__all__ = ["validate_prescription"]


def validate_prescription(
    data: bytes,
    fmt: Format | None = None,
    *,
    table: LppTable,
    today: date,
    canon: Canon | None = None,
    limits: Limits | None = None,
    config: RulesConfig | None = None,
) -> tuple[Issue, ...]:
    """Every finding on a readable DeviceRequest: what its reading found, then, when nothing
    stopped it, the rules' findings. Raises ``ParseError`` (400) for unreadable input only."""
    reading = read_lone_device_request(data, fmt, today=today, canon=canon, limits=limits)
    issues = list(reading.issues)
    if reading.prescription is not None:
        issues.extend(check_prescription(reading.prescription, table=table, config=config or RulesConfig()))
    return tuple(issues)
