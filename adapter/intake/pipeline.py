"""The intake pipeline; see the package docstring for the stages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapter.domain import ReimbursementRequest
from adapter.errors import ConventionError, InputError, Issue, ParseError, capped
from adapter.intake.formats import Format, Limits
from mappings.fhir import fhirpath, is_resource_type, jsonio, structure_issues, walk, with_fhirpath_choices
from mappings.inbound import read_bundle
from mappings.systems import Canon

__all__ = ["Submission", "check", "parse_payload", "read_submission"]


@dataclass(frozen=True, slots=True)
class Submission:
    """A submission that passed intake: the Bundle as a dict, its request, and any warnings."""

    bundle: Mapping[str, Any]
    request: ReimbursementRequest
    warnings: tuple[Issue, ...]
    format: Format


def _json(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError([Issue("encoding-invalid", f"the body is not UTF-8 (byte {exc.start})")]) from None
    try:
        value = jsonio.loads_fhir(text)
    except jsonio.NotFhirJson as exc:  # a key given twice, a character FHIR strings cannot hold
        issues = [_content_issue(exc, location, message) for location, message in exc.problems]
        raise ParseError(capped(issues, found=exc.found)) from None
    except json.JSONDecodeError as exc:
        raise ParseError(
            [Issue("invalid-json", f"{exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from None
    except ValueError as exc:  # NaN or Infinity: Python's parser reads them, JSON has no such number
        raise ParseError([Issue("invalid-json", str(exc))]) from None
    except RecursionError:
        raise ParseError([Issue("input-too-large", "the JSON nesting is too deep")]) from None
    if not isinstance(value, dict):
        raise ParseError([Issue("resource-type-missing", "the body must be a JSON object (a FHIR resource)")])
    return value


def _content_issue(exc: jsonio.NotFhirJson, location: jsonio.Location, message: str) -> Issue:
    issue = Issue("element-invalid", message, fhirpath(_root_name(exc.value), location))
    return with_fhirpath_choices([issue], exc.value)[0] if isinstance(exc.value, dict) else issue


def _root_name(value: Any) -> str:
    kind = value.get("resourceType") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) and is_resource_type(kind) else "Resource"


def parse_payload(data: bytes, fmt: Format, limits: Limits | None = None) -> dict[str, Any]:
    """Stage 1: bytes → FHIR-JSON dict (JSON or hardened XML), within the limits."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise ParseError([Issue("input-too-large", f"the body exceeds {limits.max_bytes} bytes")])
    if fmt is Format.XML:
        from mappings.fhir.xml import parse_xml

        return parse_xml(data, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
    return _json(data)


def root_is(resource: dict[str, Any], expected: str) -> None:
    """Stage 2 for the root: it names a known resource type, the expected one."""
    kind = resource.get("resourceType")
    if kind is None:
        raise ParseError([Issue("resource-type-missing", "the body has no resourceType")])
    if not isinstance(kind, str) or not is_resource_type(kind):
        raise ParseError([Issue("resource-type-unknown", f"{kind!r} is not a FHIR R4 resource")])
    if kind != expected:
        raise ParseError([Issue("resource-type-wrong", f"expected a {expected}, got a {kind}", kind)])


def read_submission(
    data: bytes,
    fmt: Format | None = None,
    *,
    canon: Canon | None = None,
    limits: Limits | None = None,
) -> Submission:
    """Run every stage; raise ParseError (400) or ConventionError (422) with all issues found."""
    fmt = fmt or Format.sniff(data)
    limits = limits or Limits()
    bundle = parse_payload(data, fmt, limits)
    root_is(bundle, "Bundle")
    try:
        walked = walk(bundle, max_depth=limits.max_depth)
        issues = walked.parse or structure_issues(bundle)
    except RecursionError:
        raise ParseError([Issue("input-too-large", "the resource nesting is too deep")]) from None
    # Every expression names choice elements the FHIRPath way (``serviced.ofType(Period)``).
    if issues:
        raise ParseError(with_fhirpath_choices(issues, bundle))
    reading = read_bundle(bundle, canon=canon, references=walked.references)
    errors = [*walked.codes, *reading.errors]
    if errors:
        raise ConventionError(with_fhirpath_choices(errors, bundle))
    if reading.request is None:  # pragma: no cover - read_bundle returns a request whenever it finds no error
        raise RuntimeError("read_bundle found no error but produced no request")
    warnings = tuple(with_fhirpath_choices(reading.warnings, bundle))
    return Submission(bundle=bundle, request=reading.request, warnings=warnings, format=fmt)


def check(
    data: bytes,
    fmt: Format | None = None,
    *,
    canon: Canon | None = None,
    limits: Limits | None = None,
) -> tuple[int, tuple[Issue, ...]]:
    """Validate only: (HTTP-like status, issues). 200 with warnings only when valid."""
    try:
        submission = read_submission(data, fmt, canon=canon, limits=limits)
    except InputError as exc:
        return exc.http_status, exc.issues
    return 200, submission.warnings
