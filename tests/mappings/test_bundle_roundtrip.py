"""The request survives FHIR: from_bundle(to_bundle(r)) == r, through JSON bytes and intake."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from adapter.domain import ReimbursementRequest
from adapter.intake import read_submission
from mappings.fhir import jsonio, structure_issues
from mappings.inbound import from_bundle, to_bundle
from tests.strategies_request import requests

_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(requests())
def test_from_bundle_inverts_to_bundle(request: ReimbursementRequest) -> None:
    """Any valid request written as a Bundle reads back identical."""
    assert from_bundle(to_bundle(request)) == request


@_SETTINGS
@given(requests())
def test_written_bundle_is_valid_fhir_and_passes_intake(request: ReimbursementRequest) -> None:
    """The written Bundle is valid R4 and the full intake pipeline maps its JSON bytes back."""
    bundle = to_bundle(request)
    assert structure_issues(bundle) == []
    submission = read_submission(jsonio.dumps(bundle))
    assert submission.request == request
    assert all(warning.code == "finess-key" for warning in submission.warnings)
