"""The use cases: the port the HTTP layer codes against (``port``, re-exported here) and its
implementation on the submit flow and the store (``claims``, wired by the composition root)."""

from adapter.service.port import (
    SORTS,
    Answer,
    ClaimService,
    DeviceStatus,
    ReferenceVersion,
    Requeue,
    Runner,
    SearchPage,
    StoredClaim,
)

__all__ = [
    "SORTS",
    "Answer",
    "ClaimService",
    "DeviceStatus",
    "ReferenceVersion",
    "Requeue",
    "Runner",
    "SearchPage",
    "StoredClaim",
]
