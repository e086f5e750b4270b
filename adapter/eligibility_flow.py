"""The eligibility flow: intake → the AMO's answer → the AMC's on it → the answer Bundle.

Like the submit flow (``adapter.flow``), it serves every way in: the HTTP service (which adds
idempotency and the audit record), ``adapter eligibility`` (memory) and the conformance runner.
In-process payers read the records of the unit of work they are bound to and write nothing;
remote ones are asked over the payer protocol with one key per payer. No clock: ``now`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapter.domain.decision import PayerKind
from adapter.domain.eligibility import EligibilityAnswer
from adapter.intake import Format, Limits
from adapter.intake.eligibility import EligibilityQuestion, read_eligibility
from adapter.payers.ports import EligibilityPayers, PayerRecords, RemoteEligibility
from mappings.outbound import to_eligibility_responses
from mappings.systems import Canon

__all__ = ["Assessed", "EligibilityFlow", "eligibility_outcome"]


def eligibility_outcome(amo: EligibilityAnswer, amc: EligibilityAnswer | None) -> str:
    """The audit's one-word outcome: ``open`` when every payer asked has rights open on the day
    and covers every device asked about, ``partial`` when rights are open but a device is not
    covered, ``closed`` when a payer's rights are closed."""
    answers = [answer for answer in (amo, amc) if answer is not None]
    if not all(answer.rights_open for answer in answers):
        return "closed"
    if any(not item.covered for answer in answers for item in answer.items):
        return "partial"
    return "open"


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessed:
    """One answered question: both answers and the FHIR answer Bundle."""

    question: EligibilityQuestion
    amo: EligibilityAnswer
    amc: EligibilityAnswer | None
    response: dict[str, Any]

    @property
    def outcome(self) -> str:
        return eligibility_outcome(self.amo, self.amc)


class EligibilityFlow:
    """Reads an eligibility question and has the payers answer it, the AMO first."""

    def __init__(
        self,
        payers: EligibilityPayers | RemoteEligibility,
        *,
        canon: Canon | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.payers = payers
        self.canon = canon or Canon()
        self.limits = limits or Limits()

    @property
    def connected(self) -> bool:
        """True when the payers are remote: then :meth:`assess_remote` is the way to them."""
        return not hasattr(self.payers, "bind_eligibility")

    def read(self, data: bytes, fmt: Format) -> EligibilityQuestion:
        return read_eligibility(data, fmt, canon=self.canon, limits=self.limits)

    def assess(
        self, question: EligibilityQuestion, *, records: PayerRecords, now: datetime, scope: str | None = None
    ) -> Assessed:
        """The in-process payers' answers on ``records`` (read, never written)."""
        payers = self.payers
        if not hasattr(payers, "bind_eligibility"):
            raise TypeError("remote payers are awaited: use assess_remote")
        pair = payers.bind_eligibility(records)
        amo = pair.amo(question.request, now)
        amc = pair.amc(question.request, amo, now)
        return self._assessed(question, amo, amc, scope)

    async def assess_remote(
        self, question: EligibilityQuestion, *, now: datetime, key: str, scope: str | None = None
    ) -> Assessed:
        """The remote payers' answers, asked with ``<key>.amo`` and ``<key>.amc``."""
        payers = self.payers
        if hasattr(payers, "bind_eligibility"):
            raise TypeError("in-process payers run on records: use assess")
        amo = await payers.amo(question.request, now=now, key=f"{key}.{PayerKind.AMO.value}")
        amc = None
        if question.request.amc is not None:
            amc = await payers.amc(question.request, amo, now=now, key=f"{key}.{PayerKind.AMC.value}")
        return self._assessed(question, amo, amc, scope)

    def _assessed(
        self,
        question: EligibilityQuestion,
        amo: EligibilityAnswer,
        amc: EligibilityAnswer | None,
        scope: str | None,
    ) -> Assessed:
        response = to_eligibility_responses(
            question.request, amo, amc, question.warnings, canon=self.canon, scope=scope
        )
        return Assessed(question=question, amo=amo, amc=amc, response=response)
