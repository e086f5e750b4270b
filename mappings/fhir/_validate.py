"""Structural validation with ``fhir.resources`` (R4B models: R4 on the wire).

A FHIR-JSON dict is validated against its model, and each pydantic error becomes an issue with
the FHIRPath of the element at fault, so that a sender sees every structural problem at once.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from adapter.errors import Issue
from mappings.fhir._elements import is_resource_type, model_class

__all__ = ["fhirpath", "structure_issues", "validates_in_parts"]


def fhirpath(root: str, loc: tuple[str | int, ...]) -> str:
    """``("entry", 0, "resource", "status")`` → ``Bundle.entry[0].resource.status``."""
    parts = [root]
    for step in loc:
        if isinstance(step, int):
            parts[-1] = f"{parts[-1]}[{step}]"
        else:
            parts.append(step.lstrip("_") if step.startswith("_") else step)
    return ".".join(parts)


def _issue_code(error_type: str) -> str:
    if error_type.endswith("missing"):
        return "element-required"
    if error_type == "extra_forbidden":
        return "element-unknown"
    if error_type.startswith("fhir-validation-wrong-resource-type"):
        return "resource-type-wrong"
    return "element-invalid"


def structure_issues(resource: Mapping[str, Any]) -> list[Issue]:
    """Validate a FHIR-JSON dict against its R4B model; one issue per pydantic error.

    The caller has already checked that every ``resourceType`` in it names a known resource
    (fhir.resources raises ``KeyError`` rather than a validation error otherwise).
    """
    root = str(resource.get("resourceType"))
    cls = model_class(root)
    if cls is None:
        return [Issue("resource-type-unknown", f"{root!r} is not a FHIR R4 resource", root)]
    if root == "Bundle" and validates_in_parts(resource):
        return []
    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            code = _issue_code(error["type"])
            if code == "resource-type-wrong":
                loc = loc[:-1]
            message = str(error["msg"]).removeprefix("Value error, ")
            issues.append(Issue(code, message, fhirpath(root, loc)))
        return issues
    except KeyError as exc:  # an unknown nested resourceType the pre-walk did not see
        return [Issue("resource-type-unknown", f"unknown resource type {exc}", root)]
    return []


def validates_in_parts(bundle: Mapping[str, Any]) -> bool:
    """True when the Bundle validates with each entry's resource validated by its own class.

    That is what the Bundle's model does for ``entry.resource`` (resolve the class named by
    ``resourceType``, require a resource, validate the dict with it), without resolving the
    class anew for every entry: a quarter of the validation's time. A resource that is not a
    dict naming a known resource stays in the Bundle for its model to judge. False on any
    error: the caller validates the whole Bundle again for the issues, so that they and their
    order are the model's own.
    """
    entries = bundle.get("entry")
    if type(entries) is not list:
        entries = ()  # nothing to take apart: the shell is the whole Bundle
    shell_entries: list[Any] = []
    parts: list[tuple[type[Any], Mapping[str, Any]]] = []
    for entry in entries:
        part = entry.get("resource") if type(entry) is dict else None
        kind = part.get("resourceType") if type(part) is dict else None
        if type(kind) is str and is_resource_type(kind):
            parts.append((typing.cast(type[Any], model_class(kind)), typing.cast(Mapping[str, Any], part)))
            entry = {key: value for key, value in entry.items() if key != "resource"}
        shell_entries.append(entry)
    try:
        typing.cast(type[Any], model_class("Bundle")).model_validate(
            {**bundle, "entry": shell_entries} if parts else bundle
        )
        for part_class, part in parts:
            part_class.model_validate(part)
    except (ValidationError, KeyError):
        return False
    return True
