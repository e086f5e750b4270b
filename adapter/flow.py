"""The submit flow: intake → mapping → AMO port → AMC port → response mapping.

One orchestration for every way in: the HTTP service (which adds idempotency, the
transaction and persistence around it), ``adapter submit`` (memory, nothing stored) and,
through the service, the conformance runner. It receives its payers from the composition
root: in-process payers (``Payers``), which it binds to the records of the unit of work it is
given, or remote ones (``RemotePair``), which it awaits with an idempotency key per payer
(:meth:`SubmitFlow.adjudicate_remote`). It reads no clock (the caller passes ``now``) and
stores nothing. The rules live in ``adapter.rules``, the FHIR in ``mappings``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapter.domain import (
    Finding,
    LineDecision,
    Money,
    Outcome,
    PayerDecision,
    PayerKind,
    ReimbursementRequest,
)
from adapter.domain.decision import Rejection
from adapter.errors import PayerError, PayerRefusal
from adapter.intake import Format, Limits, Submission, read_submission
from adapter.payers.ports import AmoAnswer, PayerRecords, Payers, RemoteAmc, RemoteAmo, RemoteCancel
from adapter.rules.expressions import rebase_expression
from mappings.outbound import claim_response_id, to_claim_responses
from mappings.systems import Canon

__all__ = ["Adjudicated", "RemotePair", "SubmitFlow", "payer_key", "worst_outcome"]

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


@dataclass(frozen=True, slots=True)
class RemotePair:
    """The remote AMO and AMC of a connected deployment (``adapter.payers.http``); ``close``
    releases their connections (at shutdown)."""

    amo: RemoteAmo
    amc: RemoteAmc
    close: Callable[[], Awaitable[None]] | None = None


def _refused(
    request: ReimbursementRequest, payer: PayerKind, refusal: PayerError, now: datetime
) -> PayerDecision:
    """A payer's refusal of the exchange (or its silence, in the end) as its decision: every line
    rejected with the error's code, outcome error."""
    rejection = Rejection(code=refusal.code, text=refusal.message)
    zero = Money.zero()
    return PayerDecision(
        payer=payer,
        insurer=request.amo.organisme.value
        if payer is PayerKind.AMO or request.amc is None
        else request.amc.amc_number.value,
        created=now,
        outcome=Outcome.ERROR,
        disposition=f"{'AMO' if payer is PayerKind.AMO else 'Mutuelle'} ({refusal.code}): {refusal.message}",
        lines=tuple(
            LineDecision(
                sequence=line.sequence,
                submitted=line.net,
                eligible=zero,
                benefit=zero,
                rejections=(rejection,),
            )
            for line in request.lines
        ),
    )


def payer_key(claim_id: str, payer: PayerKind) -> str:
    """The idempotency key of one payer's exchange for a stored claim: the same on every retry,
    in every process, so that a payer decides the claim once."""
    return f"{claim_id}.{payer.value}"


class SubmitFlow:
    """Reads a submission and has its payers adjudicate it, AMO first, then the AMC on the AMO
    decision (coordination of benefits)."""

    def __init__(
        self, payers: Payers | RemotePair, *, canon: Canon | None = None, limits: Limits | None = None
    ) -> None:
        self.payers = payers
        self.canon = canon or Canon()
        self.limits = limits or Limits()

    @property
    def connected(self) -> bool:
        """True when the payers are remote: then :meth:`adjudicate_remote` is the way to them."""
        return isinstance(self.payers, RemotePair)

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
        if isinstance(self.payers, RemotePair):
            raise TypeError("remote payers are awaited: use adjudicate_remote")
        request = submission.request
        payers = self.payers.bind(records)
        amo = payers.amo.adjudicate(request, now=now)
        amc = payers.amc.adjudicate(request, amo.decision, now=now)
        return self._adjudicated(submission, amo, amc, claim_reference, scope)

    async def adjudicate_remote(
        self,
        submission: Submission,
        *,
        now: datetime,
        claim_id: str,
        claim_reference: str | None = None,
        scope: str | None = None,
    ) -> Adjudicated:
        """Both remote payers' decisions, each asked with its :func:`payer_key` for ``claim_id``.

        Raises ``PayerFault`` (try again later, with the same keys) or ``PayerRefusal``.
        """
        if not isinstance(self.payers, RemotePair):
            raise TypeError("in-process payers run on records: use adjudicate")
        request = submission.request
        try:
            amo = await self.payers.amo.adjudicate(request, now=now, key=payer_key(claim_id, PayerKind.AMO))
        except PayerRefusal as refusal:  # permanent: the claim ends in error, the AMC is not asked
            amo = AmoAnswer(decision=_refused(request, PayerKind.AMO, refusal, now))
            return self._adjudicated(submission, amo, None, claim_reference, scope)
        try:
            amc = await self.payers.amc.adjudicate(
                request, amo.decision, now=now, key=payer_key(claim_id, PayerKind.AMC)
            )
        except PayerRefusal as refusal:
            amc = _refused(request, PayerKind.AMC, refusal, now)
        return self._adjudicated(submission, amo, amc, claim_reference, scope)

    async def cancel_remote(
        self, claim_id: str, *, organisme: str, amc_number: str | None, now: datetime, reason: str
    ) -> None:
        """Have the remote payers cancel their decisions on a stored claim, the mutuelle first
        (it decided on the AMO's decision), each named by its :func:`payer_key`. A payer that
        holds no decision under the key has nothing to reverse. Raises ``PayerFault`` (try again
        later: the exchanges are idempotent) or ``PayerRefusal`` (a payer refused, or cannot cancel)."""
        if not isinstance(self.payers, RemotePair):
            raise TypeError("in-process payers are cancelled on the store's records")
        legs: list[tuple[object, str, PayerKind]] = []
        if amc_number is not None:
            legs.append((self.payers.amc, amc_number, PayerKind.AMC))
        legs.append((self.payers.amo, organisme, PayerKind.AMO))
        for payer, insurer, kind in legs:
            if not isinstance(payer, RemoteCancel):
                raise PayerRefusal(f"the remote {kind.value.upper()} cannot cancel a decision")
            await payer.cancel(insurer, key=payer_key(claim_id, kind), now=now, reason=reason)

    def pending(
        self,
        submission: Submission,
        *,
        now: datetime,
        claim_reference: str | None = None,
        scope: str | None = None,
    ) -> Adjudicated:
        """The answer while the remote payers have not decided: ClaimResponses with outcome
        ``queued`` (the Da Vinci PAS convention), no lines, and a disposition saying why."""
        request = submission.request
        amo = PayerDecision(
            payer=PayerKind.AMO,
            insurer=request.amo.organisme.value,
            created=now,
            outcome=Outcome.QUEUED,
            disposition="Queued: the AMO has not decided yet; the final answer replaces this one.",
            lines=(),
        )
        amc = None
        if request.amc is not None:
            amc = PayerDecision(
                payer=PayerKind.AMC,
                insurer=request.amc.amc_number.value,
                created=now,
                outcome=Outcome.QUEUED,
                disposition="Queued: the mutuelle decides after the AMO; the final answer replaces this one.",
                lines=(),
            )
        return self._adjudicated(submission, AmoAnswer(decision=amo), amc, claim_reference, scope)

    def unanswered(
        self,
        submission: Submission,
        fault: PayerError,
        *,
        now: datetime,
        claim_reference: str | None = None,
        scope: str | None = None,
    ) -> Adjudicated:
        """The final answer of a claim the payers never decided (its dead letter): outcome error,
        every line rejected with the fault's code, for the AMO (the AMC cannot decide without it)."""
        amo = AmoAnswer(decision=_refused(submission.request, PayerKind.AMO, fault, now))
        return self._adjudicated(submission, amo, None, claim_reference, scope)

    def _adjudicated(
        self,
        submission: Submission,
        amo: AmoAnswer,
        amc: PayerDecision | None,
        claim_reference: str | None,
        scope: str | None,
    ) -> Adjudicated:
        request = submission.request
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
