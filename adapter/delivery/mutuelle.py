"""The decision to the mutuelle (NOEMIE-like): the claim's ClaimResponses, pushed as FHIR.

On ``claim.adjudicated`` (an in-process submit, or a pended claim completed) and on
``claim.cancelled`` (the claim withdrawn: its ClaimResponses then read ``cancelled``), when the
claim's AMC number has a ``delivery_url`` in the routing file, the mutuelle gets one ``POST`` of a
``collection`` Bundle: the AMO and AMC ClaimResponses, then the Patient, the AMC Coverage and
the AMC's Organization as submitted (what it needs to find its member). The Bundle's ``id`` and
``identifier`` (``urn:uuid:<event id>``) and the ``X-Event-Id`` header carry the event id, the
same on every retry, so that the mutuelle applies a decision once however often it arrives.

One send is one attempt (the dispatcher retries with backoff): a 2xx delivered it; a
connection error, a timeout, 408, 429 (with its ``Retry-After``) or a 5xx may succeed later;
any other 4xx is the mutuelle's refusal, kept with its answer in the dead letters.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Sequence
from typing import Any

import httpx

from adapter.delivery.ports import Event, Sent
from adapter.payers.http import retry_after_seconds
from adapter.payers.routing import Endpoint, PayerRoutes
from mappings.fhir import jsonio

__all__ = ["EVENT_ID_HEADER", "MutuelleDestination", "decision_bundle"]

EVENT_ID_HEADER = "X-Event-Id"
#: The answer's characters kept as the reason of a failed delivery.
_REASON_CHARS = 300
_RETRY_STATUSES = frozenset({408, 425, 429})
#: The events a mutuelle receives: a decision, and its withdrawal.
_DELIVERED = frozenset({"claim.adjudicated", "claim.cancelled"})


def decision_bundle(event: Event) -> dict[str, Any]:
    """The Bundle a mutuelle receives for a decision event."""
    entries = [
        entry
        for entry in event.resource.get("entry", [])
        if entry.get("resource", {}).get("resourceType") == "ClaimResponse"
    ]
    stamp = event.time.isoformat()
    return {
        "resourceType": "Bundle",
        "id": event.id,
        "meta": {"lastUpdated": stamp},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{event.id}"},
        "type": "collection",
        "timestamp": stamp,
        "entry": [*entries, *event.member],
    }


def _reason(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return f"HTTP {response.status_code}: {text[:_REASON_CHARS]}" if text else f"HTTP {response.status_code}"


class MutuelleDestination:
    """Delivers decisions to the mutuelles' ``delivery_url`` routes; a target is the route's name."""

    kind = "mutuelle"

    def __init__(self, routes: PayerRoutes, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._routes = routes
        self._transport = transport
        self._by_name = {endpoint.name: endpoint for endpoint in routes.deliveries.values()}
        self._clients: dict[str, httpx.AsyncClient] = {}

    def targets(self, event: Event) -> Sequence[str]:
        if event.type not in _DELIVERED or event.amc_number is None:
            return ()
        endpoint = self._routes.delivery_for(event.amc_number)
        return () if endpoint is None else (endpoint.name,)

    def _client(self, endpoint: Endpoint) -> httpx.AsyncClient:
        client = self._clients.get(endpoint.name)
        if client is None:
            timeouts = self._routes.timeouts
            options: dict[str, Any] = {"timeout": httpx.Timeout(timeouts.read, connect=timeouts.connect)}
            if self._transport is not None:
                options["transport"] = self._transport
            if endpoint.tls is not None:
                context = ssl.create_default_context(cafile=endpoint.tls.ca)
                context.load_cert_chain(endpoint.tls.cert, endpoint.tls.key)
                options["verify"] = context
            client = self._clients[endpoint.name] = httpx.AsyncClient(**options)
        return client

    async def send(self, event: Event, target: str) -> Sent:
        endpoint = self._by_name.get(target)
        if endpoint is None:
            return Sent.failed(f"no delivery route named {target!r} in the routing file")
        headers = {
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
            EVENT_ID_HEADER: event.id,
        }
        if endpoint.bearer_token is not None:
            headers["Authorization"] = f"Bearer {endpoint.bearer_token}"
        try:
            response = await self._client(endpoint).post(
                endpoint.url, content=jsonio.dumps(decision_bundle(event)), headers=headers
            )
        except httpx.TimeoutException:
            return Sent.retry("timed out")
        except httpx.HTTPError as exc:
            return Sent.retry(f"connection failed: {type(exc).__name__}")
        if 200 <= response.status_code < 300:
            return Sent.delivered()
        if response.status_code in _RETRY_STATUSES or response.status_code >= 500:
            hint = retry_after_seconds(response.headers.get("Retry-After"), time.time())
            return Sent.retry(_reason(response), hint)
        return Sent.failed(_reason(response))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
