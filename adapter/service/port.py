"""The service port: what the HTTP layer asks of the adapter, and what it gets back.

The API codes against ``ClaimService``; ``adapter.service.claims`` implements it on the submit
flow and the store. Results carry FHIR-JSON dicts plus, for answers that must replay byte
for byte, the exact JSON bytes that were stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from adapter.access import Caller
from adapter.domain.device import DeviceStatus
from adapter.intake import Format

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

_T = TypeVar("_T")

#: The orders a search may ask for, by FHIR ``_sort`` value (``-``: descending).
SORTS = ("-created", "created", "-_lastUpdated", "_lastUpdated")


class Runner(Protocol):
    """Runs blocking work (intake, a transaction) off the event loop, on the caller's terms
    (the API: a worker thread, at most ``submit_concurrency`` at once)."""

    def __call__(self, work: Callable[[], _T], /) -> Awaitable[_T]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A FHIR resource to send back; ``json`` holds the canonical bytes when they must replay exactly.

    ``outcome`` is the claim's stored outcome (the worst of its payers': ``complete``,
    ``partial``, ``error`` or ``queued``) for a submit, None for a read. A read of a stored
    resource gives its ``version`` and ``last_updated`` (also in its ``meta``), the answer's
    validators (``ETag``, ``Last-Modified``); a submit's answer has neither.
    """

    resource: dict[str, Any]
    json: bytes
    replayed: bool = False
    outcome: str | None = None
    version: int | None = None
    last_updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredClaim:
    """The submission exactly as received."""

    raw: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a ClaimResponse search: the matches, the total number of matching
    ClaimResponses, and the opaque offsets of the next and previous pages (None at the ends).

    A page never holds more than the requested count (FHIR's ``_count``); the offsets count
    resources, so that the AMO and AMC ClaimResponses of one claim may fall on two pages.
    """

    resources: list[dict[str, Any]]
    total: int
    next_offset: int | None = None
    previous_offset: int | None = None


class Requeue(StrEnum):
    """What asking the payers again for a claim did."""

    REQUEUED = "requeued"  # it was dead-lettered: it is pending again, the worker takes it up
    NOT_FOUND = "not-found"  # unknown, or not readable by the caller (the API answers 404)
    NOT_DEAD = "not-dead"  # readable, but complete or still pending: nothing to retry (409)


@dataclass(frozen=True, slots=True)
class ReferenceVersion:
    """Which LPP table the service reads: ``digest`` hashes its rows (computed once, at
    construction), ``newest`` is the latest ``valid_from`` in it (the answers' Last-Modified)."""

    digest: str
    newest: date


class ClaimService(Protocol):
    """The use cases. Bad input raises ``adapter.errors.InputError`` (400/422); a reused
    idempotency key with other content raises ``ConflictError`` (409); a tenant refusal on
    submit raises ``adapter.auth`` 's forbidden error (403). Reads return None for anything the
    caller may not see, so that existence does not leak (the API answers 404)."""

    @property
    def connected(self) -> bool:
        """True when the payers are remote: then submits go through :meth:`submit_connected`."""
        ...

    def submit(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer: ...

    async def submit_connected(
        self,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        run: Runner,
        request_id: str | None = None,
    ) -> Answer:
        """A submit to remote payers: stored at once, answered with the payers' decision when they
        give it within the budget, else with a ``queued`` answer that a worker completes."""
        ...

    def claim_response(self, resource_id: str, *, caller: Caller) -> Answer | None: ...

    def claim_response_history(self, resource_id: str, *, caller: Caller) -> list[dict[str, Any]] | None:
        """Every version of a ClaimResponse, newest first; None when the caller may not see it."""
        ...

    def inquire(self, data: bytes, fmt: Format, *, caller: Caller) -> Answer | None:
        """The current answer to the caller's submission a Bundle names by its identifier."""
        ...

    def search_claim_responses(
        self,
        *,
        caller: Caller,
        request: str | None = None,
        patient_identifier: str | None = None,
        insurer: str | None = None,
        outcome: str | None = None,
        state: str | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        sort: str = "-created",
        offset: int = 0,
        count: int = 20,
    ) -> SearchPage:
        """``outcome`` is the claim's stored outcome (the worst of its payers'), ``state`` its
        processing state (``complete``, ``pending``, ``dead``); ``created_from`` (inclusive) and
        ``created_before`` (exclusive) bound the time the claim was received; ``sort`` is one of
        :data:`SORTS`. Every ClaimResponse carries ``meta.versionId`` and ``meta.lastUpdated``."""
        ...

    def search_claims(
        self,
        *,
        caller: Caller,
        identifier: tuple[str | None, str] | None = None,
        sort: str = "-created",
        offset: int = 0,
        count: int = 20,
    ) -> SearchPage:
        """The stored Claims (as :meth:`claim_resource` reads them) whose ``Claim.identifier``, or
        the ``Bundle.identifier`` they were submitted under, is ``identifier`` (system, value; a
        None system: any, an empty one: none). A purged
        submission's Claim is counted but not returned: its body is gone."""
        ...

    def claim(self, resource_id: str, *, caller: Caller) -> StoredClaim | None:
        """The submission's bytes as received (None once purged)."""
        ...

    def claim_resource(self, resource_id: str, *, caller: Caller) -> Answer | None:
        """The Claim of a submission (its Bundle's first entry), under the stored Claim's id, with
        ``meta.versionId`` and ``meta.lastUpdated``; None when unseen, unknown or purged."""
        ...

    def submitted_bundle(self, resource_id: str, *, caller: Caller) -> Answer | None:
        """The whole submitted Bundle, under the stored Claim's id, with ``meta.versionId`` and
        ``meta.lastUpdated``; None when unseen, unknown or purged."""
        ...

    def claim_answer(self, claim_id: str, *, caller: Caller) -> Answer | None:
        """The claim's current answer, the whole Bundle (ClaimResponses and the warnings'
        OperationOutcome) as the submit answered it or as the worker completed it."""
        ...

    async def cancel(
        self,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        run: Runner,
        request_id: str | None = None,
    ) -> Answer | None:
        """Withdraw the caller's claim a ``Parameters`` body names (``Claim/$cancel``): its answer
        with every ClaimResponse ``cancelled`` (a replay when it was cancelled before); None when
        the caller's tenant submitted no such claim. Raises ``InputError`` (400/422),
        ``CancelError`` (409: not decided, or a payer refused) or ``CancelUnavailable`` (503)."""
        ...

    def requeue_claim(self, claim_id: str, *, caller: Caller, now: datetime) -> Requeue:
        """Ask the remote payers again for a dead-lettered claim the caller may read."""
        ...

    @property
    def reference_version(self) -> ReferenceVersion:
        """The loaded LPP table's version."""
        ...

    def device_status(self, code: str, day: date) -> DeviceStatus | None:
        """The LPP row in force for ``code`` (7 characters, already checked) on ``day``, or None."""
        ...

    def device_status_by_id(self, resource_id: str, day: date) -> DeviceStatus | None:
        """The LPP row whose id is ``resource_id`` (``lpp-<code>-<valid_from>``), seen on ``day``."""
        ...

    @property
    def eligibility_connected(self) -> bool:
        """True when eligibility questions go to remote payers (:meth:`check_eligibility_connected`)."""
        ...

    def check_eligibility(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        """Answer a CoverageEligibilityRequest Bundle (one CoverageEligibilityResponse per payer)
        without consuming anything; the same Bundle again replays the answer, its identifier with
        other content is a ``ConflictError``; a provider the caller may not act for is a 403."""
        ...

    async def check_eligibility_connected(
        self,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        run: Runner,
        request_id: str | None = None,
    ) -> Answer:
        """As :meth:`check_eligibility`, asking the remote payers."""
        ...

    def validate_prescription(self, data: bytes, fmt: Format, *, today: date) -> dict[str, Any]:
        """A lone DeviceRequest checked before it reaches a supplier: an OperationOutcome of its
        errors, warnings and information (``InputError`` only for what cannot be read)."""
        ...

    def ready(self) -> bool: ...
