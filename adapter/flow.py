"""The submit flow: intake → mapping → AMO port → AMC port → response mapping.

One orchestration for every way in: the HTTP service (which adds idempotency, the
transaction and persistence around it), ``adapter submit`` (memory, nothing stored) and,
through the service, the conformance runner. It receives its payers from the composition
root and binds them to the records of the unit of work it is given; it reads no clock (the
caller passes ``now``) and stores nothing. The rules live in ``adapter.rules``, the FHIR in
``mappings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapter.domain import Finding, Outcome, PayerDecision, PayerKind
from adapter.intake import Format, Limits, Submission, read_submission
from adapter.payers.ports import PayerRecords, Payers
from adapter.rules.expressions import rebase_expression
from mappings.outbound import claim_response_id, to_claim_responses
from mappings.systems import Canon

__all__ = ["Adjudicated", "SubmitFlow", "worst_outcome"]

#: From worst to best: the outcome of a claim is the worst of its payers' outcomes.
_OUTCOME_ORDER = (Outcome.ERROR, Outcome.PARTIAL, Outcome.QUEUED, Outcome.COMPLETE)


def worst_outcome(*decisions: PayerDecision | None) -> Outcome:
    """The claim's outcome: the worst of the payers' (an absent AMC leg counts for nothing)."""
    outcomes = {decision.outcome for decision in decisions if decision is not None}
    return next((outcome for outcome in _OUTCOME_ORDER if outcome in outcomes), Outcome.COMPLETE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjudicated:
    """One adjudicated submission: both decisions, every finding, and the FHIR answer.

    ``response`` is the ``collection`` Bundle of ClaimResponses (conventions.md §3); the
    ClaimResponse ids are those the response mapping gave them, so nobody digs them out of it.
    """

    submission: Submission
    amo: PayerDecision
    amc: PayerDecision | None
    findings: tuple[Finding, ...]
    response: dict[str, Any]
    amo_response_id: str
    amc_response_id: str | None

    @property
    def outcome(self) -> Outcome:
        return worst_outcome(self.amo, self.amc)


def _entry_positions(bundle: Mapping[str, Any]) -> dict[str, int]:
    """Resource type → index of its first entry, to root the payers' findings in the Bundle."""
    positions: dict[str, int] = {}
    for index, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            positions.setdefault(resource["resourceType"], index)
    return positions


class SubmitFlow:
    """Reads a submission and has its payers adjudicate it, AMO first, then the AMC on the AMO
    decision (coordination of benefits)."""

    def __init__(self, payers: Payers, *, canon: Canon | None = None, limits: Limits | None = None) -> None:
        self.payers = payers
        self.canon = canon or Canon()
        self.limits = limits or Limits()

    def read(self, data: bytes, fmt: Format) -> Submission:
        """Intake: the validated Bundle and its request, or ``InputError`` with every issue."""
        return read_submission(data, fmt, canon=self.canon, limits=self.limits)

    def adjudicate(
        self,
        submission: Submission,
        *,
        records: PayerRecords,
        now: datetime,
        claim_reference: str | None = None,
        scope: str | None = None,
    ) -> Adjudicated:
        """Both payers' decisions on ``records`` and the answer; ``claim_reference`` (``Claim/<id>``)
        names the stored Claim in each ClaimResponse's ``request``; ``scope`` (the submitting
        tenant) goes into the answer's ids (``mappings.outbound.to_claim_responses``)."""
        request = submission.request
        payers = self.payers.bind(records)
        amo = payers.amo.adjudicate(request, now=now)
        amc = payers.amc.adjudicate(request, amo.decision, now=now)
        findings = [
            Finding(code=w.code, text=w.message, expression=w.expression, blocking=False)
            for w in submission.warnings
        ]
        positions = _entry_positions(submission.bundle) if amo.findings else {}
        for finding in amo.findings:
            if finding.expression is not None:
                finding = Finding(
                    code=finding.code,
                    text=finding.text,
                    expression=rebase_expression(finding.expression, positions),
                    blocking=finding.blocking,
                    sequence=finding.sequence,
                )
            findings.append(finding)
        response = to_claim_responses(
            request,
            amo.decision,
            amc,
            findings,
            canon=self.canon,
            claim_reference=claim_reference,
            scope=scope,
        )
        key = request.submission
        return Adjudicated(
            submission=submission,
            amo=amo.decision,
            amc=amc,
            findings=tuple(findings),
            response=response,
            amo_response_id=claim_response_id(key, PayerKind.AMO, scope=scope),
            amc_response_id=None if amc is None else claim_response_id(key, PayerKind.AMC, scope=scope),
        )
