"""The edge of ``Claim/$inquire``: which stored submission a client asks after.

An inquiry is a Bundle carrying the ``identifier`` of the submission it asks after: the
submitted Bundle itself, or any Bundle with that identifier (the Da Vinci PAS inquiry shape).
Only the envelope is read, within the same bounds as a submission.
"""

from __future__ import annotations

from adapter.errors import ConventionError, Issue
from adapter.intake.formats import Format, Limits
from adapter.intake.pipeline import parse_payload, root_is

__all__ = ["read_inquiry"]


def read_inquiry(data: bytes, fmt: Format, limits: Limits | None = None) -> tuple[str, str]:
    """The (system, value) of the Bundle's identifier; ``ParseError`` (400) for what cannot be
    read as a Bundle, ``ConventionError`` (422) naming ``Bundle.identifier`` when it is missing."""
    bundle = parse_payload(data, fmt, limits)
    root_is(bundle, "Bundle")
    identifier = bundle.get("identifier")
    system = identifier.get("system") if isinstance(identifier, dict) else None
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not (isinstance(system, str) and system and isinstance(value, str) and value):
        raise ConventionError(
            [
                Issue(
                    "bundle-identifier-missing",
                    "an inquiry names the submission by its Bundle.identifier (system and value)",
                    expression="Bundle.identifier",
                )
            ]
        )
    return system, value
