"""The rest-hook client: one signed POST of a notification, and what came of it.

One attempt per call: the retries, their backoff and the giving up are the dispatcher's
(``adapter.service.dispatch``), so that a retry survives a restart. Redirects are not
followed (a notification goes to the registered endpoint or nowhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from adapter import __version__
from adapter.notify.signing import SIGNATURE_HEADER, sign

__all__ = ["Delivery", "RestHook"]

_REASON_MAX = 200


#: Statuses worth another attempt later; any other 4xx is the receiver's lasting refusal.
_RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one POST gave: ``ok`` for a 2xx, else the reason (status or transport failure) and
    whether it is ``permanent`` (a 4xx other than 408, 425 and 429: trying again will not help)."""

    ok: bool
    reason: str | None = None
    permanent: bool = False


class RestHook:
    """Posts signed FHIR JSON notifications; ``timeout`` bounds each attempt (seconds)."""

    def __init__(
        self,
        *,
        timeout: float,
        clock: Callable[[], float],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._clock = clock
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": f"fhir-lpp-adapter/{__version__}"},
        )

    async def post(
        self, endpoint: str, body: bytes, *, secret: str, event_id: str, event_number: int | None
    ) -> Delivery:
        headers = {
            "Content-Type": "application/fhir+json; charset=utf-8; fhirVersion=4.0",
            SIGNATURE_HEADER: sign(secret, int(self._clock()), body),
            "X-Event-Id": event_id,
        }
        if event_number is not None:
            headers["X-Event-Number"] = str(event_number)
        try:
            response = await self._client.post(endpoint, content=body, headers=headers)
        except httpx.TimeoutException:
            return Delivery(False, "the endpoint did not answer in time")
        except httpx.HTTPError as exc:
            return Delivery(False, f"the endpoint could not be reached ({type(exc).__name__})")
        if 200 <= response.status_code < 300:
            return Delivery(True)
        permanent = 400 <= response.status_code < 500 and response.status_code not in _RETRY_STATUSES
        return Delivery(False, f"the endpoint answered HTTP {response.status_code}"[:_REASON_MAX], permanent)

    async def aclose(self) -> None:
        await self._client.aclose()
