"""FHIRPath expressions for findings, relative to the resource that holds the element.

The request does not know Bundle entry indexes, so the engines write paths rooted at the
resource type (``Claim.item[1].serviced.ofType(date)``, ``DeviceRequest.requester``); the submit flow
(``adapter.flow``), which knows where each resource sits in the submitted Bundle, rewrites
them with :func:`rebase_expression`.
``item[n]`` is the position of the line in ``ReimbursementRequest.lines`` (Claim.item
order), not its sequence.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapter.domain.request import Line

__all__ = ["item_expression", "rebase_expression", "serviced_expression"]


def item_expression(index: int, element: str) -> str:
    return f"Claim.item[{index}].{element}"


def serviced_expression(index: int, line: Line) -> str:
    """The line's ``serviced[x]``, a choice element, named the FHIRPath way (as the intake does)."""
    element = "serviced.ofType(date)" if line.delivery_date is not None else "serviced.ofType(Period)"
    return item_expression(index, element)


def rebase_expression(expression: str, entries: Mapping[str, int]) -> str:
    """Root a resource-relative path in the Bundle.

    ``rebase_expression("Claim.item[1].quantity", {"Claim": 0})`` gives
    ``Bundle.entry[0].resource.item[1].quantity``; a resource type absent from ``entries``
    leaves the expression unchanged.
    """
    resource, dot, rest = expression.partition(".")
    if resource not in entries:
        return expression
    return f"Bundle.entry[{entries[resource]}].resource{dot}{rest}"
