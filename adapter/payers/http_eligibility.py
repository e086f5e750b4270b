"""The eligibility exchange with remote payers over HTTP (``RemoteEligibility``): the AMO and
mutuelle routed for the question, asked at ``amo/eligibility`` and ``amc/eligibility`` through
the same connections, retries, breakers and checks as the decisions (``adapter.payers.http``)."""

from __future__ import annotations

from datetime import datetime

from adapter.domain.eligibility import EligibilityAnswer, EligibilityRequest
from adapter.errors import PayerFault, PayerRefusal
from adapter.payers import protocol_eligibility as messages
from adapter.payers.http import PayerHttp
from adapter.payers.protocol import ProtocolError

__all__ = ["HttpEligibility"]


class HttpEligibility:
    """``RemoteEligibility`` on a :class:`PayerHttp` (its routes choose the payers)."""

    def __init__(self, http: PayerHttp) -> None:
        self.http = http

    async def amo(self, request: EligibilityRequest, *, now: datetime, key: str) -> EligibilityAnswer:
        organisme = request.amo.organisme.value
        endpoint = self.http.routes.amo_for(organisme)
        if endpoint is None:
            raise PayerRefusal(f"no AMO is routed for organisme {organisme}")
        message = messages.amo_eligibility_request(key, request, now)
        answer = await self.http.exchange(endpoint, "amo/eligibility", message, key)
        try:
            return messages.read_amo_eligibility_response(answer, key)
        except ProtocolError as exc:
            raise PayerFault(f"{endpoint.name}: {exc}", code="payer-protocol") from None

    async def amc(
        self, request: EligibilityRequest, amo: EligibilityAnswer, *, now: datetime, key: str
    ) -> EligibilityAnswer | None:
        if request.amc is None:
            return None
        number = request.amc.amc_number.value
        endpoint = self.http.routes.amc_for(number)
        if endpoint is None:
            raise PayerRefusal(f"no AMC is routed for AMC number {number}")
        message = messages.amc_eligibility_request(key, request, amo, now)
        answer = await self.http.exchange(endpoint, "amc/eligibility", message, key)
        try:
            return messages.read_amc_eligibility_response(answer, key)
        except ProtocolError as exc:
            raise PayerFault(f"{endpoint.name}: {exc}", code="payer-protocol") from None
