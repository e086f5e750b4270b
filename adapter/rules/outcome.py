"""ClaimResponse.outcome from the line decisions (FHIR ``remittance-outcome``)."""

from __future__ import annotations

from collections.abc import Sequence

from adapter.domain.decision import LineDecision, Outcome

__all__ = ["outcome_for"]


def outcome_for(lines: Sequence[LineDecision]) -> Outcome:
    """``complete`` if no line is rejected, ``error`` if all are, else ``partial``."""
    rejected = len([line for line in lines if line.rejected])
    if rejected == 0:
        return Outcome.COMPLETE
    if rejected == len(lines):
        return Outcome.ERROR
    return Outcome.PARTIAL
