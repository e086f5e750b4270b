"""The edge of ``CoverageEligibilityRequest/$submit``: bytes → a validated eligibility Bundle and
its question, or every issue, through the same stages and limits as a claim's submission."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapter.domain.eligibility import EligibilityRequest
from adapter.errors import ConventionError, Issue, ParseError
from adapter.intake.formats import Format, Limits
from adapter.intake.pipeline import parse_payload, root_is
from mappings.fhir import structure_issues, walk
from mappings.inbound import read_eligibility_bundle
from mappings.systems import Canon

__all__ = ["EligibilityQuestion", "read_eligibility"]


@dataclass(frozen=True, slots=True)
class EligibilityQuestion:
    """An eligibility Bundle that passed intake, its question, and any warnings."""

    bundle: Mapping[str, Any]
    request: EligibilityRequest
    warnings: tuple[Issue, ...]
    format: Format


def read_eligibility(
    data: bytes,
    fmt: Format | None = None,
    *,
    canon: Canon | None = None,
    limits: Limits | None = None,
) -> EligibilityQuestion:
    """Every stage; raise ParseError (400) or ConventionError (422) with all issues found."""
    fmt = fmt or Format.sniff(data)
    limits = limits or Limits()
    bundle = parse_payload(data, fmt, limits)
    root_is(bundle, "Bundle")
    try:
        walked = walk(bundle, max_depth=limits.max_depth)
        issues = walked.parse or structure_issues(bundle)
    except RecursionError:
        raise ParseError([Issue("input-too-large", "the resource nesting is too deep")]) from None
    if issues:
        raise ParseError(issues)
    reading = read_eligibility_bundle(bundle, canon=canon, references=walked.references)
    errors = [*walked.codes, *reading.errors]
    if errors:
        raise ConventionError(errors)
    if reading.request is None:  # pragma: no cover - the reader returns a request whenever it finds no error
        raise RuntimeError("read_eligibility_bundle found no error but produced no question")
    return EligibilityQuestion(bundle=bundle, request=reading.request, warnings=reading.warnings, format=fmt)
