"""The simulator's HTTP app: ``POST /amo/decisions`` or ``/amc/decisions`` (by role), the
cancellations of those decisions (``POST /amo/cancellations``, ``/amc/cancellations``), the
eligibility exchange at ``POST /amo/eligibility`` or ``/amc/eligibility`` (answered on the
simulator's records, nothing kept or consumed), the counts at ``GET /_stats``, and the faults,
read and changed at ``GET``/``PUT /_faults``.

A decision is computed once per idempotency key and kept: the same key with the same request
answers the kept decision again (a retry whose answer was lost), the same key with another
request is refused (409). Faults are drawn from a seeded generator, so a run can be repeated:
with probability ``fail_rate`` an exchange fails, half the time before deciding (503) and half
after deciding and keeping the decision (504, the answer "lost"); ``latency_ms`` delays every
answer, and ``spike_rate`` makes one in so many ten times slower.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapter.payers import ReferencePayers, protocol
from adapter.payers import protocol_eligibility as eligibility_messages
from adapter.payers.ports import EligibilityPayers, PayerRecords, Payers
from adapter.payers.reference_eligibility import ReferenceEligibility
from adapter.payersim.state import SimState

__all__ = ["Faults", "create_sim_app"]

Role = Literal["amo", "amc"]
#: The largest message the simulator reads.
MAX_MESSAGE_BYTES = 2_000_000


@dataclass(slots=True)
class Faults:
    """What goes wrong, and how slow it is: changed at run time through ``PUT /_faults``."""

    fail_rate: float = 0.0
    latency_ms: float = 0.0
    spike_rate: float = 0.0

    def update(self, changes: Any) -> None:
        if not isinstance(changes, dict) or set(changes) - {"fail_rate", "latency_ms", "spike_rate"}:
            raise ValueError("faults take fail_rate, latency_ms and spike_rate")
        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            if name.endswith("_rate") and value > 1:
                raise ValueError(f"{name} is a probability, at most 1")
        for name, value in changes.items():
            setattr(self, name, float(value))


def _error(status: int, code: str, message: str, key: str | None = None) -> JSONResponse:
    return JSONResponse(protocol.error_message(code, message, key), status_code=status)


def create_sim_app(
    role: Role,
    payers: Payers,
    state: SimState,
    *,
    faults: Faults,
    seed: int | None = None,
    eligibility: EligibilityPayers | None = None,
) -> FastAPI:
    """The simulator for ``role`` on ``payers`` (the reference payers) and ``state``; its
    eligibility answers come from ``eligibility`` (by default the reference payers' own)."""
    app = FastAPI(title=f"payer simulator ({role})", docs_url=None, redoc_url=None, openapi_url=None)
    draw = random.Random(seed)  # noqa: S311 - fault injection, not security
    if eligibility is None and isinstance(payers, ReferencePayers):
        eligibility = ReferenceEligibility(
            table=payers.table, catalogue=payers.catalogue, config=payers.config
        )

    async def delay() -> None:
        pause = faults.latency_ms / 1000
        if faults.spike_rate and draw.random() < faults.spike_rate:
            pause *= 10
        if pause:
            await asyncio.sleep(pause)

    def compute(body: Any) -> tuple[str, Callable[[PayerRecords], dict[str, Any]]]:
        """The key of a request message and how to answer it; ProtocolError when it is not one."""
        if role == "amo":
            amo_asked = protocol.read_amo_request(body)

            def amo_answer(records: PayerRecords) -> dict[str, Any]:
                amo = payers.bind(records).amo.adjudicate(amo_asked.request, now=amo_asked.now)
                return protocol.amo_decision_message(amo_asked.key, amo.decision, amo.findings)

            return amo_asked.key, amo_answer
        amc_asked = protocol.read_amc_request(body)

        def amc_answer(records: PayerRecords) -> dict[str, Any]:
            amc = payers.bind(records).amc.adjudicate(amc_asked.request, amc_asked.amo, now=amc_asked.now)
            return protocol.amc_decision_message(amc_asked.key, amc)

        return amc_asked.key, amc_answer

    def decide(body: Any) -> tuple[str, dict[str, Any]]:
        """The key and the answer: the kept one for a known key, else computed once and kept."""
        key, answer = compute(body)
        content = {name: value for name, value in body.items() if name != "idempotency_key"}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        with state.transaction(key) as records:
            kept = state.decided(key)
            if kept is not None:
                if kept.request_hash != digest:
                    raise KeyError(key)
                return key, kept.answer
            decided = answer(records)
            state.keep(key, f"{role}-decision", digest, decided)
        return key, decided

    @app.post(f"/{role}/decisions")
    async def decisions(request: Request) -> JSONResponse:
        await delay()
        raw = await request.body()
        if len(raw) > MAX_MESSAGE_BYTES:
            return _error(413, "too-large", f"a message holds at most {MAX_MESSAGE_BYTES} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "invalid-json", "the body is not JSON")
        fault = faults.fail_rate and draw.random() < faults.fail_rate
        before = fault and draw.random() < 0.5
        if before:
            return _error(503, "unavailable", "injected fault: failed before deciding")
        try:
            key, answer = decide(body)
        except protocol.ProtocolError as exc:
            return _error(400, "protocol", str(exc))
        except KeyError as exc:
            return _error(
                409, "key-reused", "this idempotency key was used for another request", str(exc.args[0])
            )
        if fault:
            return _error(504, "lost", "injected fault: decided, but the answer was lost", key)
        return JSONResponse(answer, headers={"Idempotency-Key": key})

    @app.post(f"/{role}/cancellations")
    async def cancellations(request: Request) -> JSONResponse:
        await delay()
        raw = await request.body()
        if len(raw) > MAX_MESSAGE_BYTES:
            return _error(413, "too-large", f"a message holds at most {MAX_MESSAGE_BYTES} bytes")
        try:
            asked = protocol.read_cancel_request(role, json.loads(raw))
        except ValueError as exc:  # not JSON, or not a cancellation (ProtocolError is a ValueError)
            return _error(400, "protocol", str(exc)[:4000])
        fault = faults.fail_rate and draw.random() < faults.fail_rate
        if fault and draw.random() < 0.5:
            return _error(503, "unavailable", "injected fault: failed before cancelling")
        with state.transaction() as _:
            cancelled = state.cancel(asked.key, asked.decision_key)
        if fault:
            return _error(504, "lost", "injected fault: cancelled, but the answer was lost", asked.key)
        answer = protocol.cancel_response_message(role, asked.decision_key, cancelled=cancelled)
        return JSONResponse(answer, headers={"Idempotency-Key": asked.key})

    def eligible(body: Any) -> tuple[str, dict[str, Any]]:
        """The key and the eligibility answer, on the simulator's records as they are now."""
        if eligibility is None:
            raise protocol.ProtocolError("this simulator answers no eligibility question")
        if role == "amo":
            amo_asked = eligibility_messages.read_amo_eligibility_request(body)
            with state.transaction() as records:
                answer = eligibility.bind_eligibility(records).amo(amo_asked.request, amo_asked.now)
            return amo_asked.key, eligibility_messages.amo_eligibility_response(amo_asked.key, answer)
        amc_asked = eligibility_messages.read_amc_eligibility_request(body)
        with state.transaction() as records:
            amc = eligibility.bind_eligibility(records).amc(amc_asked.request, amc_asked.amo, amc_asked.now)
        return amc_asked.key, eligibility_messages.amc_eligibility_response(amc_asked.key, amc)

    @app.post(f"/{role}/eligibility")
    async def eligibility_answers(request: Request) -> JSONResponse:
        await delay()
        raw = await request.body()
        if len(raw) > MAX_MESSAGE_BYTES:
            return _error(413, "too-large", f"a message holds at most {MAX_MESSAGE_BYTES} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "invalid-json", "the body is not JSON")
        if faults.fail_rate and draw.random() < faults.fail_rate:
            return _error(503, "unavailable", "injected fault: no answer")
        try:
            key, answer = eligible(body)
        except protocol.ProtocolError as exc:
            return _error(400, "protocol", str(exc))
        return JSONResponse(answer, headers={"Idempotency-Key": key})

    @app.get("/_stats")
    async def stats() -> dict[str, Any]:
        return {"role": role, **state.stats()}

    @app.get("/_faults")
    async def read_faults() -> dict[str, float]:
        return asdict(faults)

    @app.put("/_faults")
    async def change_faults(request: Request) -> JSONResponse:
        try:
            faults.update(json.loads(await request.body()))
        except ValueError as exc:
            return _error(400, "faults-invalid", str(exc))
        return JSONResponse(asdict(faults))

    @app.get("/_health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "time": datetime.now().astimezone().isoformat()}

    return app
