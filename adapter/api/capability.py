"""``GET /metadata``: the CapabilityStatement, i.e. what this server really implements.

It lists only what the routes serve, so a client (or a conformance tool) can trust it: Claim
read, search, ``$submit`` and ``$cancel``, Bundle read, ClaimResponse read, vread, history and
search with exactly the parameters the search routes accept, the eligibility and prescription
operations, Subscription when the app keeps subscriptions. No authentication: FHIR clients read
it before they have a token.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from adapter import __version__
from adapter.api.deps import ContextDep
from adapter.api.negotiation import content_type, fhir_content, render, response_format
from adapter.api.outcomes import error_responses
from adapter.intake import Format

__all__ = [
    "CLAIM_SEARCH_PARAMETERS",
    "CLAIM_SUBMIT",
    "CODESYSTEM_LOOKUP",
    "DEVICE_SEARCH_PARAMETERS",
    "RESULT_PARAMETERS",
    "SEARCH_PARAMETERS",
    "SOFTWARE_NAME",
    "capability_statement",
    "router",
]

SOFTWARE_NAME = "fhir-lpp-adapter"
CLAIM_SUBMIT = "http://hl7.org/fhir/OperationDefinition/Claim-submit"
#: The Da Vinci PAS inquiry, asking after a claim submitted before (here by its Bundle.identifier).
CLAIM_INQUIRE = "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry"
CODESYSTEM_LOOKUP = "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"
RESOURCE_VALIDATE = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
_SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
_SP = "http://hl7.org/fhir/SearchParameter"

#: The ClaimResponse search parameters the search route accepts: (name, type, definition, documentation).
#: The result parameters (``_count``, ``_offset``, ``_sort``) are not search parameters: see
#: ``RESULT_PARAMETERS``.
SEARCH_PARAMETERS: tuple[tuple[str, str, str | None, str], ...] = (
    (
        "request",
        "reference",
        f"{_SP}/ClaimResponse-request",
        "The Claim: Claim/[id], [id], or [system]|[value] of the Claim or submission identifier",
    ),
    (
        "patient",
        "reference",
        f"{_SP}/ClaimResponse-patient",
        "By the patient's identifier only, chained or with the identifier modifier: patient.identifier=[NIR] "
        "or patient:identifier=urn:oid:1.2.250.1.213.1.4.8|[NIR], or an INS-NIA: "
        "urn:oid:1.2.250.1.213.1.4.9|[NIA], or a CEAM/S1 holder's personal number: "
        "[base]/NamingSystem/eu-person|[CC:number]",
    ),
    (
        "insurer",
        "reference",
        f"{_SP}/ClaimResponse-insurer",
        "By the payer's identifier: insurer=[system|]value or insurer:identifier=[system|]value, the AMO "
        "organisme (9 digits) or the AMC number",
    ),
    (
        "created",
        "date",
        f"{_SP}/ClaimResponse-created",
        "When the claim was received: [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.fff]][zone]]]], prefix eq (default), "
        "ge, gt, le or lt; French days and zoneless times (Europe/Paris); given at most twice (a range)",
    ),
    (
        "outcome",
        "token",
        f"{_SP}/ClaimResponse-outcome",
        "The claim's outcome, the worst of its ClaimResponses': queued, complete, error or partial",
    ),
    (
        "state",
        "token",
        None,
        "The claim's processing state: complete, pending (queued) or dead (dead letter) in connected "
        "mode, or cancelled",
    ),
)

#: The Claim search parameters the Claim search route accepts.
CLAIM_SEARCH_PARAMETERS: tuple[tuple[str, str, str | None, str], ...] = (
    (
        "identifier",
        "token",
        f"{_SP}/Claim-identifier",
        "The Claim's identifier, or the Bundle.identifier it was submitted under: [system|]value",
    ),
)

#: The result parameters every search takes (they shape the answer, they do not filter it).
RESULT_PARAMETERS = (
    "Result parameters: _count (a hard maximum of entries per page; default 20, at most 100; 0 gives "
    "the total only), _offset (follow the Bundle's next/previous links), _sort (created, -created, the "
    "default, _lastUpdated or -_lastUpdated). Searches also run by POST [type]/_search with an "
    "application/x-www-form-urlencoded body. Unknown parameters and values of the wrong form are a "
    "400 (strict handling)."
)


#: The ChargeItemDefinition search parameters (the LPP row in force for a code on a day).
DEVICE_SEARCH_PARAMETERS: tuple[tuple[str, str, str | None, str], ...] = (
    ("code", "token", None, "The LPP code (7 characters), without a system; required"),
    ("date", "date", None, "The day the row must be in force: YYYY-MM-DD (default: today, Europe/Paris)"),
)


def _search_params(parameters: tuple[tuple[str, str, str | None, str], ...]) -> list[dict[str, Any]]:
    out = []
    for name, kind, definition, documentation in parameters:
        param: dict[str, Any] = {"name": name, "type": kind, "documentation": documentation}
        if definition is not None:
            param["definition"] = definition
        out.append(param)
    return out


#: The R4 backport of R5 Subscriptions: the Subscription profile this server's subscriptions follow.
BACKPORT_SUBSCRIPTION = (
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
)
BACKPORT_IG = (
    "http://hl7.org/fhir/uv/subscriptions-backport/ImplementationGuide/hl7.fhir.uv.subscriptions-backport"
)


def _subscription_resource(canonical_base: str) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "supportedProfile": [BACKPORT_SUBSCRIPTION],
        "documentation": (
            "rest-hook subscriptions on the caller's own ClaimResponses: criteria ClaimResponse, "
            "optionally ?outcome=complete,error,partial; every notification is a backport "
            "history Bundle (handshake, event-notification) signed with HMAC-SHA256 (X-Signature), the "
            f"secret in the extension {canonical_base}/StructureDefinition/subscription-signing-secret "
            "on channel, never returned; system/ClaimResponse.read; only the caller's own are seen. "
            "Search takes only the result parameters _count (default 20, at most 100) and _offset "
            "(follow the Bundle's next/previous links)"
        ),
        "interaction": [
            {"code": "create"},
            {"code": "read"},
            {"code": "delete"},
            {"code": "search-type"},
        ],
    }


def capability_statement(
    *, canonical_base: str, date: datetime, subscriptions: bool = False
) -> dict[str, Any]:
    """The server's CapabilityStatement (FHIR R4 4.0.1) as a FHIR JSON dict; ``subscriptions``
    declares ``/Subscription`` (when the app serves it)."""
    search_params = _search_params(SEARCH_PARAMETERS)
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "name": "LppReimbursementAdapter",
        "title": "FHIR reimbursement adapter for French medical devices (LPP)",
        "status": "active",
        "date": date.isoformat(timespec="seconds"),
        "description": (
            "Claims for LPP devices in, one ClaimResponse per payer (AMO, then AMC) out. "
            "The submission contract is published with the adapter's documentation."
        ),
        "kind": "instance",
        "software": {"name": SOFTWARE_NAME, "version": __version__},
        "implementation": {"description": "FHIR LPP reimbursement adapter", "url": canonical_base},
        "fhirVersion": "4.0.1",
        "format": ["json", "xml"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [{"system": _SECURITY_SERVICE, "code": "SMART-on-FHIR"}],
                            "text": "OAuth2 bearer tokens (SMART Backend Services)",
                        }
                    ],
                    "description": (
                        "Every interaction except /metadata needs 'Authorization: Bearer <access token>', "
                        "a signed JWT granting system/Claim.write (Claim/$submit, "
                        "CoverageEligibilityRequest/$submit, DeviceRequest/$validate) or "
                        "system/ClaimResponse.read (reads, searches and the LPP lookups)."
                    ),
                },
                "resource": [
                    {
                        "type": "Claim",
                        "documentation": (
                            "The submitted Claims; their Bundles are read at Bundle/[id]. "
                            + RESULT_PARAMETERS
                        ),
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": _search_params(CLAIM_SEARCH_PARAMETERS),
                        "operation": [
                            {"name": "submit", "definition": CLAIM_SUBMIT},
                            {"name": "inquire", "definition": CLAIM_INQUIRE},
                            {
                                "name": "answer",
                                "definition": f"{canonical_base}/OperationDefinition/Claim-answer",
                                "documentation": "GET Claim/[id]/$answer: the claim's current answer Bundle",
                            },
                            {
                                "name": "requeue",
                                "definition": f"{canonical_base}/OperationDefinition/Claim-requeue",
                                "documentation": (
                                    "POST Claim/[id]/$requeue: ask the remote payers again for a "
                                    "dead-lettered claim (system/Claim.write)"
                                ),
                            },
                            {
                                "name": "cancel",
                                "definition": f"{canonical_base}/OperationDefinition/Claim-cancel",
                                "documentation": (
                                    "POST Claim/$cancel with a Parameters body (identifier or claim, "
                                    "reason, note): withdraw a decided claim of this client, its "
                                    "ClaimResponses answered again as cancelled (system/Claim.write)"
                                ),
                            },
                        ],
                    },
                    {
                        "type": "ClaimResponse",
                        "documentation": RESULT_PARAMETERS,
                        "versioning": "versioned",
                        "interaction": [
                            {"code": "read"},
                            {"code": "vread"},
                            {"code": "history-instance"},
                            {"code": "search-type"},
                        ],
                        "searchParam": search_params,
                    },
                    {
                        "type": "Bundle",
                        "documentation": (
                            "The Bundle a claim was submitted in, under the Claim's id "
                            "(system/ClaimResponse.read)"
                        ),
                        "interaction": [{"code": "read"}],
                    },
                    {
                        "type": "ChargeItemDefinition",
                        "documentation": (
                            "An LPP code's reimbursement status on a day (tarif, PLV, validity, "
                            "conditions), from the LPP table; system/ClaimResponse.read"
                        ),
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": _search_params(DEVICE_SEARCH_PARAMETERS),
                    },
                    {
                        "type": "CoverageEligibilityRequest",
                        "documentation": (
                            "Rights and benefits before billing: nothing is consumed; the question is "
                            "kept as the client's audit record and replays (system/Claim.write)"
                        ),
                        "operation": [
                            {
                                "name": "submit",
                                "definition": (
                                    f"{canonical_base}/OperationDefinition/CoverageEligibilityRequest-submit"
                                ),
                                "documentation": (
                                    "POST CoverageEligibilityRequest/$submit: a collection Bundle led by the "
                                    "CoverageEligibilityRequest; a Bundle of CoverageEligibilityResponses, "
                                    "one per payer"
                                ),
                            }
                        ],
                    },
                    {
                        "type": "DeviceRequest",
                        "documentation": "A device prescription checked before it reaches a supplier",
                        "operation": [
                            {
                                "name": "validate",
                                "definition": RESOURCE_VALIDATE,
                                "documentation": (
                                    "POST DeviceRequest/$validate: one DeviceRequest, its patient and "
                                    "prescriber contained or by identifier; an OperationOutcome of errors, "
                                    "warnings and information (system/Claim.write)"
                                ),
                            }
                        ],
                    },
                    {
                        "type": "CodeSystem",
                        "operation": [
                            {
                                "name": "lookup",
                                "definition": CODESYSTEM_LOOKUP,
                                "documentation": (
                                    "GET CodeSystem/$lookup?system=[the LPP system]&code=[code]&date=[day]: "
                                    "the code's display and properties (system/ClaimResponse.read)"
                                ),
                            }
                        ],
                    },
                ],
                "operation": [
                    {
                        "name": "deliveries",
                        "definition": f"{canonical_base}/OperationDefinition/deliveries",
                        "documentation": (
                            "GET $deliveries?state=pending|delivered|dead&destination=&claim=: the "
                            "deliveries to the mutuelles and the event stream of the claims the client may "
                            "read, with destination, attempts and last error (system/ClaimResponse.read)"
                        ),
                    },
                    {
                        "name": "requeue-delivery",
                        "definition": f"{canonical_base}/OperationDefinition/deliveries-requeue",
                        "documentation": (
                            "POST $deliveries/[id]/$requeue: send a dead delivery again (system/Claim.write)"
                        ),
                    },
                ],
            }
        ],
    }
    if subscriptions:
        statement["implementationGuide"] = [BACKPORT_IG]
        statement["rest"][0]["resource"].append(_subscription_resource(canonical_base))
    return statement


router = APIRouter()


@router.get(
    "/metadata",
    summary="CapabilityStatement",
    description="What this server implements (FHIR R4). No authentication.",
    response_class=Response,
    responses={
        200: {"description": "The CapabilityStatement", "content": fhir_content("CapabilityStatement")},
        **error_responses(406),
    },
    openapi_extra={"parameters": [{"$ref": "#/components/parameters/_format"}]},
)
async def metadata(request: Request, ctx: ContextDep) -> Response:
    fmt = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )
    body = render(ctx.capability, fmt)
    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, headers={"content-type": content_type(fmt), "ETag": etag})
