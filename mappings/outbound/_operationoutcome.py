"""Issues ⇄ OperationOutcome (conventions.md §3: severity, code, details with the project
error code, expression with the FHIRPath)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapter.errors import CATALOGUE, Issue, IssueType, Severity
from mappings.fhir import as_list, codings
from mappings.systems import Canon

__all__ = ["all_ok", "from_operation_outcome", "to_operation_outcome"]


def _issue(issue: Issue, canon: Canon) -> dict[str, Any]:
    entry = CATALOGUE.get(issue.code)
    out: dict[str, Any] = {
        "severity": issue.severity.value,
        "code": (entry.issue_type if entry else IssueType.PROCESSING).value,
        "details": {
            "coding": [{"system": canon.error, "code": issue.code}],
            "text": issue.message,
        },
    }
    if entry is not None:
        out["details"]["coding"][0]["display"] = entry.title
    if issue.expression:
        out["expression"] = [issue.expression]
    return out


def to_operation_outcome(
    issues: Iterable[Issue], *, canon: Canon | None = None, resource_id: str | None = None
) -> dict[str, Any]:
    """An OperationOutcome with one issue per finding, errors first, in the order found."""
    canon = canon or Canon()
    ordered = sorted(issues, key=lambda issue: 0 if issue.is_error else 1)
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome"}
    if resource_id is not None:
        outcome["id"] = resource_id
    outcome["issue"] = [_issue(issue, canon) for issue in ordered]
    return outcome


def all_ok(message: str = "All OK") -> dict[str, Any]:
    """The spec's 'all OK' outcome: one informational issue."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "details": {"text": message}}],
    }


def from_operation_outcome(resource: Mapping[str, Any], *, canon: Canon | None = None) -> tuple[Issue, ...]:
    """Read issues back; the project code comes from details.coding in the error system."""
    canon = canon or Canon()
    issues = []
    for raw in as_list(resource.get("issue")):
        if not isinstance(raw, dict):
            continue
        details = raw.get("details")
        if not isinstance(details, dict):
            details = {}
        code = next((c.get("code") for _, c in codings(details) if c.get("system") == canon.error), None)
        expressions = as_list(raw.get("expression"))
        issues.append(
            Issue(
                code=str(code or raw.get("code")),
                message=str(details.get("text", "")),
                expression=str(expressions[0]) if expressions else None,
                severity=Severity(raw.get("severity", "error")),
            )
        )
    return tuple(issues)
