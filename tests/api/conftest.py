"""Fakes and fixtures for the HTTP API tests: an in-memory ClaimService and a token table."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette asks for the httpx2 fork in its test client; httpx still works. Only this import warns.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from adapter.access import Caller
from adapter.api import create_app
from adapter.domain.device import parse_device_status_id
from adapter.domain.values import LppCode
from adapter.errors import AdapterError
from adapter.intake import Format
from adapter.rules.lpp import LppTable, table_version
from adapter.rules.lpp_loader import load_lpp_table
from adapter.service import (
    Answer,
    DeviceStatus,
    ReferenceVersion,
    Requeue,
    Runner,
    SearchPage,
    StoredClaim,
)
from adapter.settings import Settings
from mappings import systems
from mappings.fhir.jsonio import dumps
from mappings.fhir.xml import dump_xml
from tests.support import bundles
from tests.support.identifiers import nir

PARIS = timezone(timedelta(hours=1), "CET")
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=PARIS)
#: A synthetic NIR with a valid key; it must never show in a log line.
NIR = nir("1840699123045")
SCENARIO = "01-purchase-standard"

WRITER = "Bearer writer"
READER = "Bearer reader"


def claim_response(resource_id: str = "cr-amo-1", outcome: str = "complete") -> dict[str, Any]:
    """A small AMO ClaimResponse with one adjudicated line (60.00 EUR must stay 60.00)."""
    return {
        "resourceType": "ClaimResponse",
        "id": resource_id,
        "status": "active",
        "type": {"coding": [{"system": systems.CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": {"identifier": {"system": systems.NIR, "value": NIR}},
        "created": "2026-03-02T10:30:00+01:00",
        "insurer": {"display": "CPAM (synthetic)"},
        "outcome": outcome,
        "item": [
            {
                "itemSequence": 1,
                "adjudication": [
                    {
                        "category": {"coding": [{"system": systems.ADJUDICATION, "code": "benefit"}]},
                        "amount": {"value": Decimal("60.00"), "currency": "EUR"},
                    }
                ],
            }
        ],
    }


def response_bundle(outcome: str = "complete") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:6d7c3a2e-0000-4000-8000-000000000001",
                "resource": claim_response(outcome=outcome),
            }
        ],
    }


def answer(resource: dict[str, Any], *, replayed: bool = False, outcome: str = "complete") -> Answer:
    """What the service answers; ``outcome`` is the claim's stored outcome (worst of AMO and AMC)."""
    return Answer(resource=resource, json=dumps(resource), replayed=replayed, outcome=outcome)


def versioned(resource: dict[str, Any], *, version: int = 1, at: datetime = NOW) -> Answer:
    """What the service answers to a read: the resource with its meta, version and time."""
    meta = {"versionId": str(version), "lastUpdated": at.isoformat()}
    with_meta = {"resourceType": resource["resourceType"], "id": resource.get("id"), "meta": meta} | {
        key: value for key, value in resource.items() if key not in ("resourceType", "id", "meta")
    }
    return Answer(resource=with_meta, json=dumps(with_meta), version=version, last_updated=at)


def submission() -> dict[str, Any]:
    """A valid synthetic submission Bundle (the fake service does not read it)."""
    return bundles.bundle(SCENARIO)


def submission_json() -> bytes:
    return dumps(submission())


def submission_xml() -> bytes:
    return dump_xml(submission())


@dataclass
class FakeService:
    """An in-memory ClaimService: canned answers, recorded calls, switchable failures."""

    answer: Answer = field(default_factory=lambda: answer(response_bundle()))
    error: Exception | None = None
    responses: dict[str, Answer] = field(default_factory=dict)
    claims: dict[str, StoredClaim] = field(default_factory=dict)
    claim_resources: dict[str, Answer] = field(default_factory=dict)
    bundles: dict[str, Answer] = field(default_factory=dict)
    claim_matches: list[dict[str, Any]] = field(default_factory=list)
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    requeues: dict[str, Requeue] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)
    page: SearchPage | None = None
    is_ready: bool = True
    connected: bool = False
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lpp: LppTable = field(default_factory=load_lpp_table)

    @property
    def reference_version(self) -> ReferenceVersion:
        version = table_version(self.lpp)
        return ReferenceVersion(digest=version.digest, newest=version.newest)

    def device_status(self, code: str, day: date) -> DeviceStatus | None:
        self.calls.append(("device_status", {"code": code, "day": day}))
        row = self.lpp.lookup(LppCode(code), day)
        return None if row is None else row.status(day)

    def device_status_by_id(self, resource_id: str, day: date) -> DeviceStatus | None:
        self.calls.append(("device_status_by_id", {"id": resource_id, "day": day}))
        key = parse_device_status_id(resource_id)
        row = None if key is None else self.lpp.row(*key)
        return None if row is None else row.status(day)

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
        """As :meth:`submit`, its work through the API's runner (a connected service)."""
        return await run(lambda: self.submit(data, fmt, caller=caller, now=now, request_id=request_id))

    def submit(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        self.calls.append(
            ("submit", {"data": data, "fmt": fmt, "caller": caller, "now": now, "request_id": request_id})
        )
        if self.error is not None:
            raise self.error
        return self.answer

    def claim_response(self, resource_id: str, *, caller: Caller) -> Answer | None:
        self.calls.append(("claim_response", {"id": resource_id, "caller": caller}))
        return self.responses.get(resource_id)

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
        criteria: dict[str, Any] = {
            "request": request,
            "patient_identifier": patient_identifier,
            "insurer": insurer,
        }
        extra = {
            "outcome": outcome,
            "state": state,
            "created_from": created_from,
            "created_before": created_before,
            "sort": None if sort == "-created" else sort,
        }
        criteria.update({name: value for name, value in extra.items() if value is not None})
        self.calls.append(("search", {**criteria, "offset": offset, "count": count}))
        if self.page is not None:
            return self.page
        return _page(self.matches, offset, count)

    def search_claims(
        self,
        *,
        caller: Caller,
        identifier: tuple[str | None, str] | None = None,
        sort: str = "-created",
        offset: int = 0,
        count: int = 20,
    ) -> SearchPage:
        self.calls.append(
            ("search_claims", {"identifier": identifier, "sort": sort, "offset": offset, "count": count})
        )
        return _page(self.claim_matches, offset, count)

    def claim(self, resource_id: str, *, caller: Caller) -> StoredClaim | None:
        self.calls.append(("claim", {"id": resource_id}))
        return self.claims.get(resource_id)

    def claim_resource(self, resource_id: str, *, caller: Caller) -> Answer | None:
        self.calls.append(("claim_resource", {"id": resource_id}))
        return self.claim_resources.get(resource_id)

    def submitted_bundle(self, resource_id: str, *, caller: Caller) -> Answer | None:
        self.calls.append(("bundle", {"id": resource_id}))
        return self.bundles.get(resource_id)

    def claim_response_history(self, resource_id: str, *, caller: Caller) -> list[dict[str, Any]] | None:
        self.calls.append(("history", {"id": resource_id}))
        return self.histories.get(resource_id)

    def claim_answer(self, claim_id: str, *, caller: Caller) -> Answer | None:
        self.calls.append(("answer", {"id": claim_id}))
        return self.answers.get(claim_id)

    def requeue_claim(self, claim_id: str, *, caller: Caller, now: datetime) -> Requeue:
        self.calls.append(("requeue", {"id": claim_id, "caller": caller, "now": now}))
        return self.requeues.get(claim_id, Requeue.NOT_FOUND)

    eligibility_connected: bool = False

    def check_eligibility(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        self.calls.append(("eligibility", {"data": data, "fmt": fmt, "caller": caller, "now": now}))
        if self.error is not None:
            raise self.error
        return Answer(resource=self.answer.resource, json=self.answer.json, outcome="open")

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
        return await run(
            lambda: self.check_eligibility(data, fmt, caller=caller, now=now, request_id=request_id)
        )

    def validate_prescription(self, data: bytes, fmt: Format, *, today: date) -> dict[str, Any]:
        self.calls.append(("validate_prescription", {"data": data, "fmt": fmt, "today": today}))
        if self.error is not None:
            raise self.error
        return {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational"}],
        }

    def ready(self) -> bool:
        return self.is_ready


def _page(matches: list[dict[str, Any]], offset: int, count: int) -> SearchPage:
    total = len(matches)
    return SearchPage(
        resources=matches[offset : offset + count],
        total=total,
        next_offset=offset + count if count and offset + count < total else None,
        previous_offset=max(0, offset - count) if count and offset > 0 else None,
    )


class FakeAuthError(AdapterError):
    """What a real authenticator raises: a code, an HTTP status and maybe a challenge."""

    def __init__(
        self,
        code: str,
        status: int,
        *,
        challenge: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"authentication refused ({code})", code=code)
        self.http_status = status
        self.www_authenticate = challenge
        if retry_after is not None:
            self.retry_after = retry_after


@dataclass
class FakeAuthenticator:
    """Two tokens: ``writer`` may submit and read, ``reader`` may only read."""

    seen: list[tuple[str | None, str, datetime]] = field(default_factory=list)

    def authenticate(self, authorization: str | None, *, scope: str, now: datetime) -> Caller:
        self.seen.append((authorization, scope, now))
        if authorization is None:
            raise FakeAuthError("auth-missing", 401, challenge='Bearer realm="adapter"')
        if authorization == "Bearer keys-down":
            raise FakeAuthError("auth-unavailable", 503, retry_after=30)
        scopes = {
            WRITER: {"system/Claim.write", "system/ClaimResponse.read"},
            READER: {"system/ClaimResponse.read"},
        }.get(authorization)
        if scopes is None:
            raise FakeAuthError(
                "auth-invalid", 401, challenge='Bearer realm="adapter", error="invalid_token"'
            )
        if scope not in scopes:
            raise FakeAuthError("scope-insufficient", 403, challenge='Bearer error="insufficient_scope"')
        return Caller(client_id=authorization.removeprefix("Bearer "), everything=True)


class Ticker:
    """A monotonic timer that advances 5 ms per reading."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.005
        return self.now


@dataclass
class Api:
    """One app under test with its fakes and its captured log stream."""

    app: FastAPI
    client: TestClient
    service: FakeService
    auth: FakeAuthenticator
    log: io.StringIO

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines()]

    def access_lines(self) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if line["event"] == "request"]


def build_api(**settings: Any) -> Api:
    service = FakeService()
    auth = FakeAuthenticator()
    log = io.StringIO()
    ids = iter(f"req-{n}" for n in range(1, 10_000))
    app = create_app(
        Settings(**{"max_body_bytes": 50_000, **settings}),
        service,
        auth,
        clock=lambda: NOW,
        timer=Ticker(),
        new_request_id=lambda: next(ids),
        log_stream=log,
    )
    return Api(app, TestClient(app, raise_server_exceptions=False), service, auth, log)


@pytest.fixture
def api() -> Iterator[Api]:
    built = build_api()
    with built.client:
        yield built


@pytest.fixture
def make_api() -> Callable[..., Api]:
    return build_api


def outcome_codes(body: dict[str, Any]) -> list[str]:
    """The adapter error codes of an OperationOutcome (details.coding in the error system)."""
    return [
        coding["code"]
        for issue in body["issue"]
        for coding in issue.get("details", {}).get("coding", [])
        if coding.get("system") == systems.Canon().error
    ]
