"""The eligibility use case: answer a CoverageEligibilityRequest Bundle, keep its audit record.

Asking consumes nothing: the payers read the beneficiary's history and ledger in a read
transaction and write nothing. What is stored, in a write transaction of its own, is the
tenant's record of the question (who asked, when, under which Bundle.identifier, the outcome)
with the answer's bytes, so that the same question replays the same answer, the same key with
other content is refused (409), and the audit log holds an ``eligibility`` line.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog

from adapter.access import Caller, may_submit
from adapter.auth import OrganisationForbidden
from adapter.domain.request import BillingProvider
from adapter.eligibility_flow import Assessed, EligibilityFlow
from adapter.errors import AdapterError, ConflictError, PayerFault, PayerRefusal, StoreConflict
from adapter.intake import Format
from adapter.intake.eligibility import EligibilityQuestion
from adapter.service.claims import content_hash, id_scope
from adapter.service.port import Answer, Runner
from adapter.store import EligibilityCheck, Store
from mappings.fhir import jsonio

__all__ = ["EligibilityUseCases", "PayersRefused", "PayersUnavailable", "eligibility_check_id"]

_log = structlog.get_logger("adapter.service")
_NAMESPACE = uuid.UUID("2f6a8c51-7d3e-5b49-a0c2-91e4d7b36f08")


class PayersUnavailable(AdapterError):
    """The remote payers gave no eligibility answer in time (HTTP 503): ask again later."""

    code = "payer-unavailable"
    http_status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = max(1, round(retry_after))


class PayersRefused(AdapterError):
    """A remote payer refused the eligibility exchange itself (HTTP 502): not the asker's input."""

    code = "payer-refused"
    http_status = 502


def eligibility_check_id(client_id: str, system: str, value: str) -> str:
    """The stored check's id, and the payers' key: one per tenant and Bundle.identifier."""
    return str(uuid.uuid5(_NAMESPACE, f"{len(client_id)}:{client_id}|{system}|{value}"))


def check_provider(caller: Caller, provider: BillingProvider) -> None:
    """A tenant asks only for the organisations it acts for, as it submits only for them."""
    finess = None if provider.finess is None else provider.finess.value
    siret = None if provider.siret is None else provider.siret.value
    if not may_submit(caller, finess, siret):
        raise OrganisationForbidden(
            f"client {caller.client_id!r} may not ask for provider {provider.identifier}"
        )


class EligibilityUseCases:
    """The eligibility part of the service (``ClaimService``), on a store and an eligibility flow."""

    def __init__(self, store: Store, flow: EligibilityFlow) -> None:
        self.store = store
        self.eligibility = flow

    @property
    def eligibility_connected(self) -> bool:
        """True when the eligibility questions go to remote payers (:meth:`check_eligibility_connected`)."""
        return self.eligibility.connected

    def _eligibility_flow(self) -> EligibilityFlow:
        return self.eligibility

    def check_eligibility(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        """Validate, replay or refuse (409), else have the in-process payers answer and keep the record."""
        flow = self._eligibility_flow()
        question, digest, stored = self._prepare(flow, data, fmt, caller)
        if stored is not None:
            return _replay(stored, digest)
        check_id = self._check_id(caller, question)
        with self.store.read() as tx:
            tx.preload_beneficiary(question.request.beneficiary.nir)
            assessed = flow.assess(question, records=tx, now=now, scope=_scope(caller))
        return self._keep(assessed, check_id, digest, caller=caller, now=now, request_id=request_id)

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
        """As :meth:`check_eligibility`, the remote payers asked over the payer protocol (their
        ``PayerFault`` or ``PayerRefusal`` goes to the caller: nothing is kept then)."""
        flow = self._eligibility_flow()
        question, digest, stored = await run(lambda: self._prepare(flow, data, fmt, caller))
        if stored is not None:
            return _replay(stored, digest)
        check_id = self._check_id(caller, question)
        try:
            assessed = await flow.assess_remote(question, now=now, key=check_id, scope=_scope(caller))
        except PayerFault as exc:
            raise PayersUnavailable(exc.message, retry_after=exc.retry_after) from None
        except PayerRefusal as exc:
            raise PayersRefused(exc.message) from None
        return await run(
            lambda: self._keep(assessed, check_id, digest, caller=caller, now=now, request_id=request_id)
        )

    def eligibility_checks(self, *, caller: Caller) -> list[EligibilityCheck]:
        """The caller's answered questions, oldest first (its own only: the records are the tenant's)."""
        with self.store.read() as tx:
            return tx.eligibility_checks(caller.client_id)

    # -- pieces -----------------------------------------------------------------------------
    def _prepare(
        self, flow: EligibilityFlow, data: bytes, fmt: Format, caller: Caller
    ) -> tuple[EligibilityQuestion, str, EligibilityCheck | None]:
        question = flow.read(data, fmt)
        check_provider(caller, question.request.provider)
        digest = _content_hash(question)
        key = question.request.identifier
        with self.store.read() as tx:
            stored = tx.find_eligibility(caller.client_id, key.system, key.value)
        return question, digest, stored

    @staticmethod
    def _check_id(caller: Caller, question: EligibilityQuestion) -> str:
        key = question.request.identifier
        return eligibility_check_id(caller.client_id, key.system, key.value)

    def _keep(
        self,
        assessed: Assessed,
        check_id: str,
        digest: str,
        *,
        caller: Caller,
        now: datetime,
        request_id: str | None,
    ) -> Answer:
        key = assessed.question.request.identifier
        body = jsonio.dumps(assessed.response)
        check = EligibilityCheck(
            id=check_id,
            client_id=caller.client_id,
            key_system=key.system,
            key_value=key.value,
            content_hash=digest,
            outcome=assessed.outcome,
            response_json=body,
            asked_at=now,
            request_id=request_id,
        )
        try:
            with self.store.write(lock_keys=(f"eligibility:{check_id}",)) as tx:
                stored = tx.find_eligibility(caller.client_id, key.system, key.value)
                if stored is None:
                    tx.insert_eligibility(check)
                    tx.audit(
                        action="eligibility",
                        outcome=assessed.outcome,
                        client_id=caller.client_id,
                        submission_id=check_id,
                        request_id=request_id,
                        at=now,
                    )
        except StoreConflict:  # the same question answered meanwhile by a writer that ignored the lock
            with self.store.read() as tx:
                stored = tx.find_eligibility(caller.client_id, key.system, key.value)
            if stored is None:
                raise
        if stored is not None:
            return _replay(stored, digest)
        _log.info("eligibility.answered", check=check_id, outcome=assessed.outcome)
        return Answer(resource=assessed.response, json=body, outcome=assessed.outcome)


def _content_hash(question: EligibilityQuestion) -> str:
    return content_hash(question.bundle)


def _scope(caller: Caller) -> str | None:
    return id_scope(caller.client_id)


def _replay(stored: EligibilityCheck, digest: str) -> Answer:
    if stored.content_hash != digest:
        raise ConflictError(
            f"Bundle.identifier {stored.key_system}|{stored.key_value} was already asked "
            "with different content"
        )
    return Answer(
        resource=jsonio.loads(stored.response_json),
        json=stored.response_json,
        replayed=True,
        outcome=stored.outcome,
    )
