"""A withdrawn claim's answer: the stored answer Bundle with every ClaimResponse ``cancelled``.

FHIR R4 ClaimResponse.status is ``active | cancelled | draft | entered-in-error``;
``cancelled`` says the response no longer stands while keeping what it said (the amounts,
the notes) readable, so ``_history`` shows the decision and its withdrawal side by side.
A process note says when and why, in French and in English, as the other notes do.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mappings.outbound._terms import ENGLISH, FRENCH, LANGUAGE_SYSTEM

__all__ = ["cancelled_answer"]


def cancelled_answer(answer: dict[str, Any], *, reason: str, at: datetime) -> dict[str, Any]:
    """A copy of the answer Bundle whose ClaimResponses are ``cancelled``, each with a note
    naming the reason code and the day (``at``, timezone-aware)."""
    bundle = copy.deepcopy(answer)
    day = at.date().isoformat()
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") != "ClaimResponse":
            continue
        resource["status"] = "cancelled"
        notes = resource.setdefault("processNote", [])
        number = max((note.get("number", 0) for note in notes), default=0) + 1
        texts = (
            (f"Demande annulée le {day} (motif : {reason}).", FRENCH),
            (f"Claim cancelled on {day} (reason: {reason}).", ENGLISH),
        )
        for offset, (text, language) in enumerate(texts):
            notes.append(
                {
                    "number": number + offset,
                    "type": "display",
                    "text": text,
                    "language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": language}]},
                }
            )
    return bundle
