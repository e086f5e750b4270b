"""Choice elements named the FHIRPath way: ``item[0].serviced.ofType(Period).end``, not the JSON
name ``item[0].servicedPeriod.end``.

The checks build their expressions from JSON keys, which is what they read; FHIRPath names a
choice element (``serviced[x]``) by its base name and the type it holds. One pass over an
issue's expression, following the resource it points into (a Bundle entry's type is only
known from its data) and the model's elements, rewrites every choice step on the way. What it
cannot follow (an unknown element, a step past a primitive) is kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from adapter.errors import Issue
from mappings.fhir._elements import Kind, TypeInfo, resource_info

__all__ = ["fhirpath_choices", "with_fhirpath_choices"]

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)((?:\[[0-9]+\])?)")


def fhirpath_choices(expression: str, resource: Mapping[str, Any]) -> str:
    """``expression`` (from ``resource``'s root) with its choice elements as ``name.ofType(T)``."""
    root, dot, _ = expression.partition(".")
    meta = resource_info(root) if root == resource.get("resourceType") else None
    if not dot or meta is None:
        return expression
    out = [root]
    node: Any = resource
    position = len(root)
    for match in _STEP.finditer(expression, position):
        if match.start() != position or meta is None:
            break
        name, index = match.group(1), match.group(2)
        element = meta.by_name.get(name)
        if element is None:
            break
        step = f"{element.choice}.ofType({element.type_name})" if element.choice else name
        out.append(f".{step}{index}")
        position = match.end()
        node = node.get(name) if isinstance(node, Mapping) else None
        if index and isinstance(node, list):
            at = int(index[1:-1])
            node = node[at] if at < len(node) else None
        meta = _child(element.kind, element.meta if element.kind is Kind.COMPLEX else None, node)
    return "".join(out) + expression[position:]


def _child(kind: Kind, complex_meta: TypeInfo | None, node: Any) -> TypeInfo | None:
    """The type of the element reached: its datatype, or a nested resource's own type."""
    if kind is Kind.COMPLEX:
        return complex_meta
    if kind is Kind.RESOURCE and isinstance(node, Mapping):
        kind_name = node.get("resourceType")
        return resource_info(kind_name) if isinstance(kind_name, str) else None
    return None


def with_fhirpath_choices(issues: Iterable[Issue], resource: Mapping[str, Any]) -> list[Issue]:
    """The issues with every expression's choice elements named the FHIRPath way."""
    return [
        issue
        if issue.expression is None
        else replace(issue, expression=fhirpath_choices(issue.expression, resource))
        for issue in issues
    ]
