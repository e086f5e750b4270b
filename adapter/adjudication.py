"""One adjudication: AMO first, then the AMC with the AMO decision (coordination of benefits),
and the response Bundle built from both. Orchestration only; the rules live in adapter.rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapter.domain import Finding, PayerDecision, ReimbursementRequest
from adapter.errors import Issue
from adapter.payers.ports import AmcGateway, AmoGateway
from adapter.rules.expressions import rebase_expression
from mappings.outbound import to_claim_responses
from mappings.systems import Canon

__all__ = ["Adjudication", "adjudicate", "entry_positions", "response_bundle"]


@dataclass(frozen=True, slots=True)
class Adjudication:
    """Both payers' decisions and every finding (integrity findings and intake warnings)."""

    amo: PayerDecision
    amc: PayerDecision | None
    findings: tuple[Finding, ...]


def entry_positions(bundle: Mapping[str, Any]) -> dict[str, int]:
    """Resource type → index of its first entry, to root findings' paths in the submitted Bundle."""
    positions: dict[str, int] = {}
    entries = bundle.get("entry")
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
                positions.setdefault(resource["resourceType"], index)
    return positions


def adjudicate(
    request: ReimbursementRequest,
    *,
    amo: AmoGateway,
    amc: AmcGateway,
    now: datetime,
    positions: Mapping[str, int] | None = None,
    warnings: tuple[Issue, ...] = (),
) -> Adjudication:
    """AMO, then AMC on the AMO decision; findings rooted in the Bundle when positions are given."""
    answer = amo.adjudicate(request, now=now)
    amc_decision = amc.adjudicate(request, answer.decision, now=now)
    findings = [
        Finding(code=w.code, text=w.message, expression=w.expression, blocking=False) for w in warnings
    ]
    for finding in answer.findings:
        if positions is not None and finding.expression is not None:
            finding = Finding(
                code=finding.code,
                text=finding.text,
                expression=rebase_expression(finding.expression, positions),
                blocking=finding.blocking,
                sequence=finding.sequence,
            )
        findings.append(finding)
    return Adjudication(amo=answer.decision, amc=amc_decision, findings=tuple(findings))


def response_bundle(
    request: ReimbursementRequest,
    adjudication: Adjudication,
    *,
    canon: Canon | None = None,
    claim_reference: str | None = None,
) -> dict[str, Any]:
    """The $submit answer (conventions.md §3); ``claim_reference`` names the stored Claim."""
    return to_claim_responses(
        request,
        adjudication.amo,
        adjudication.amc,
        adjudication.findings,
        canon=canon or Canon(),
        claim_reference=claim_reference,
    )
