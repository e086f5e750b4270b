"""Device status lookup (verify before buying): the LPP row in force for a code on a day.

``GET /ChargeItemDefinition?code=…[&date=…]`` answers a searchset Bundle (empty for a code
the table does not know: a search finds nothing, it does not fail), ``GET
/ChargeItemDefinition/{id}`` one row by its id (``lpp-<code>-<valid_from>``), and ``GET
/CodeSystem/$lookup?system=…&code=…[&date=…]`` the FHIR terminology operation (an unknown
code is a 404 there, as the operation defines it). The day defaults to today in Paris, from
the app's clock.

The answers depend on the LPP table only, so they carry validators: a weak ``ETag`` hashing
the table's version with the answer, and ``Last-Modified``, the newest ``valid_from`` of the
table (never later than today); ``If-None-Match`` with the same ETag answers 304.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from adapter.api.deps import ContextDep, ReadCaller
from adapter.api.negotiation import content_type, fhir_content, render, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.api.routes_claimresponse import DAY_PATTERN, DAYS_ZONE, SearchError, searchset
from adapter.errors import AdapterError, Issue
from adapter.intake import Format
from adapter.service import DeviceStatus, ReferenceVersion
from mappings.outbound import to_charge_item_definition, to_lookup_parameters

__all__ = ["UnknownCode", "router"]

_CODE = re.compile(r"[0-9A-Z]{7}")
_DATE = re.compile(DAY_PATTERN)
_SEARCH = ("code", "date", "_format")
_LOOKUP = ("system", "code", "date", "_format")
_READ_SCOPE = [{"bearer": ["system/ClaimResponse.read"]}]

router = APIRouter()


class UnknownCode(AdapterError):
    """``$lookup`` of a code the LPP table does not hold on the day (HTTP 404)."""

    code = "lpp-code-unknown"
    http_status = 404


def _params(query: QueryParams, known: tuple[str, ...], required: tuple[str, ...]) -> dict[str, str]:
    """The query's values by name; unknown, repeated or missing parameters are one 400."""
    issues: list[Issue] = []
    values: dict[str, str] = {}
    for name in dict.fromkeys(query.keys()):
        given = [value for value in query.getlist(name) if value != ""]
        if name not in known:
            issues.append(
                Issue(
                    code="search-parameter",
                    message=f"unknown parameter {name!r}; supported: {', '.join(known)}",
                )
            )
        elif len(given) > 1:
            issues.append(Issue(code="search-parameter", message=f"{name} may be given once only"))
        elif given:
            values[name] = given[0]
    for name in required:
        if not [value for value in query.getlist(name) if value != ""]:
            issues.append(Issue(code="search-parameter", message=f"{name} is required"))
    if "code" in values and not _CODE.fullmatch(values["code"]):
        issues.append(
            Issue(
                code="lpp-code-format",
                message="code must be an LPP code: 7 characters, digits (or upper-case letters)",
            )
        )
    if "date" in values and _day(values["date"]) is None:
        issues.append(Issue(code="date-invalid", message="date must be a real day, YYYY-MM-DD"))
    if issues:
        raise SearchError(issues)
    return values


def _day(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _today(ctx: ContextDep) -> date:
    return ctx.clock().astimezone(DAYS_ZONE).date()


def _on(values: dict[str, str], ctx: ContextDep) -> date:
    given = values.get("date")
    day = None if given is None else _day(given)
    return day if day is not None else _today(ctx)


def _format(request: Request) -> Format:
    return response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )


def _validated(request: Request, ctx: ContextDep, resource: dict[str, Any], fmt: Format) -> Response:
    """The answer with its ETag and Last-Modified, or a 304 when the client holds it already."""
    version: ReferenceVersion = ctx.service.reference_version
    body = render(resource, fmt)
    tag = hashlib.sha256(version.digest.encode() + b"\0" + body).hexdigest()[:32]
    etag = f'W/"{tag}"'
    newest = min(version.newest, _today(ctx))
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(datetime.combine(newest, time(), tzinfo=UTC), usegmt=True),
    }
    matches = request.headers.get("if-none-match")
    if matches is not None and (matches.strip() == "*" or etag in [m.strip() for m in matches.split(",")]):
        return Response(status_code=304, headers=headers)
    return Response(body, headers={**headers, "content-type": content_type(fmt)})


_DAY_DOC = {
    "name": "date",
    "in": "query",
    "required": False,
    "description": "The day the row must be in force, YYYY-MM-DD, 1900-2999 (default: today, Europe/Paris)",
    "schema": {"type": "string", "pattern": f"^(?:{DAY_PATTERN})?$"},
}
_CODE_DOC = {
    "name": "code",
    "in": "query",
    "required": True,
    "description": "The LPP code: 7 characters",
    "schema": {"type": "string", "pattern": "^[0-9A-Z]{7}$"},
}
_VALIDATORS = {
    "ETag": {"schema": {"type": "string"}, "description": "weak; the LPP table's version and the answer"},
    "Last-Modified": {"schema": {"type": "string"}, "description": "the LPP table's newest valid_from"},
}


@router.get(
    "/ChargeItemDefinition",
    summary="An LPP code's status on a day",
    description=(
        "A searchset Bundle holding the LPP row in force for the code on the date (default today) as "
        "a ChargeItemDefinition, or none (total 0) when the table does not know the code then."
    ),
    response_class=Response,
    responses={
        200: {"description": "A searchset Bundle", "content": fhir_content("Bundle"), "headers": _VALIDATORS},
        304: {"description": "Not modified (If-None-Match)"},
        **error_responses(400, 401, 403, 406, 500),
    },
    openapi_extra={
        "parameters": [_CODE_DOC, _DAY_DOC, {"$ref": "#/components/parameters/_format"}],
        "security": _READ_SCOPE,
    },
)
async def search_charge_item_definitions(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    values = _params(request.query_params, _SEARCH, ("code",))
    fmt = _format(request)
    status = ctx.service.device_status(values["code"], _on(values, ctx))
    base = str(request.base_url).rstrip("/") + "/ChargeItemDefinition"
    self_url = f"{base}?{urlencode([(name, values[name]) for name in _SEARCH if name in values])}"
    resources = [] if status is None else [to_charge_item_definition(status, canon=ctx.canon)]
    bundle = searchset(base, resources, total=len(resources), links=[{"relation": "self", "url": self_url}])
    return _validated(request, ctx, bundle, fmt)


@router.get(
    "/ChargeItemDefinition/{resource_id}",
    summary="Read an LPP row",
    description="The LPP row whose id is lpp-<code>-<valid_from>, as a ChargeItemDefinition seen today.",
    response_class=Response,
    responses={
        200: {
            "description": "The ChargeItemDefinition",
            "content": fhir_content("ChargeItemDefinition"),
            "headers": _VALIDATORS,
        },
        304: {"description": "Not modified (If-None-Match)"},
        **error_responses(401, 403, 404, 406, 500),
    },
    openapi_extra={"parameters": [{"$ref": "#/components/parameters/_format"}], "security": _READ_SCOPE},
)
async def read_charge_item_definition(
    resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller
) -> Response:
    fmt = _format(request)
    status = ctx.service.device_status_by_id(resource_id, _today(ctx))
    if status is None:
        raise NotFound(f"ChargeItemDefinition/{resource_id} is not in the LPP table")
    resource = to_charge_item_definition(status, canon=ctx.canon)
    return _validated(request, ctx, resource, fmt)


@router.get(
    "/CodeSystem/$lookup",
    summary="Look an LPP code up",
    description=(
        "The FHIR terminology operation on the LPP code system: a Parameters resource with the name, "
        "the display and the row's properties (tarif, plv, validFrom, validTo, deactivated…) on the "
        "date (default today). An unknown code is a 404; another system a 400."
    ),
    response_class=Response,
    responses={
        200: {"description": "The Parameters", "content": fhir_content("Parameters"), "headers": _VALIDATORS},
        304: {"description": "Not modified (If-None-Match)"},
        **error_responses(400, 401, 403, 404, 406, 500),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "system",
                "in": "query",
                "required": True,
                "description": "The adapter's LPP code system URI (or one of its configured aliases)",
                "schema": {"type": "string"},
            },
            _CODE_DOC,
            _DAY_DOC,
            {"$ref": "#/components/parameters/_format"},
        ],
        "security": _READ_SCOPE,
    },
)
async def lookup_code(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    values = _params(request.query_params, _LOOKUP, ("system", "code"))
    if not ctx.canon.is_lpp(values["system"]):
        raise SearchError(
            [Issue(code="search-parameter", message=f"system must be the LPP code system, {ctx.canon.lpp}")]
        )
    fmt = _format(request)
    day = _on(values, ctx)
    status: DeviceStatus | None = ctx.service.device_status(values["code"], day)
    if status is None:
        raise UnknownCode(f"LPP code {values['code']} is not in the LPP table on {day.isoformat()}")
    return _validated(request, ctx, to_lookup_parameters(status, canon=ctx.canon), fmt)
