"""Fuzzing: mutated fixture Bundles through intake and through the HTTP service.

Whatever the bytes, intake either reads a submission or raises an ``InputError`` with at most
``MAX_ISSUES`` catalogued issues, and the service answers below 500 with an OperationOutcome
for every refusal, in bounded CPU time and answer size. A submission it accepts can be read
back in both formats. The short form runs with the suite (a few seconds, derandomised); the
long form draws ``ADAPTER_TEST_FUZZ_EXAMPLES`` examples per test at random (``make fuzz``:
10,000). See docs/security.md, "Fuzzing".
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from adapter.bootstrap import build_app
from adapter.errors import CATALOGUE, MAX_ISSUES, InputError
from adapter.intake import Format, read_submission
from adapter.settings import Settings
from mappings.fhir import jsonio
from tests.strategies_input import HostileInput, describe, hostile_inputs

LONG = int(os.environ.get("ADAPTER_TEST_FUZZ_EXAMPLES", "0"))
#: CPU seconds one input may cost: generous (a fixture takes milliseconds), so that only a cost
#: growing faster than the input trips it. Intake is timed on its own thread (``thread_time``),
#: the service, which runs on others, for the whole process (``process_time``).
CPU_BOUND = 2.0
HTTP_CPU_BOUND = 5.0
#: Bytes an answer may take beyond the size of the input it answers.
ANSWER_BOUND = 256_000
FHIR_NS = "{http://hl7.org/fhir}"


def _settings(short: int) -> settings:
    return settings(
        max_examples=LONG or short,
        derandomize=not LONG,
        database=None,
        deadline=None,
        print_blob=bool(LONG),
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


@_settings(short=150)
@given(case=hostile_inputs())
def test_intake_reads_or_refuses_with_catalogued_issues(case: HostileInput) -> None:
    """Intake never raises anything but an InputError, whose issues are catalogued and capped."""
    start = time.thread_time()
    try:
        read_submission(case.data, case.format)
    except InputError as exc:
        issues = exc.issues
        assert 1 <= len(issues) <= MAX_ISSUES, describe(case)
        assert {issue.code for issue in issues} <= set(CATALOGUE), describe(case)
        truncated = [index for index, issue in enumerate(issues) if issue.code == "issues-truncated"]
        assert truncated in ([], [MAX_ISSUES - 1]), describe(case)
    assert time.thread_time() - start < CPU_BOUND, describe(case)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    app = build_app(Settings(data_dir=data_dir, auth="disabled", log_level="ERROR"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _outcome_issues(body: bytes, fmt: Format) -> int:
    """The number of issues of an OperationOutcome answer (asserting that it is one)."""
    if fmt is Format.JSON:
        outcome = jsonio.loads(body)
        assert outcome["resourceType"] == "OperationOutcome"
        return len(outcome["issue"])
    root = etree.fromstring(body)
    assert root.tag == FHIR_NS + "OperationOutcome"
    return len(root.findall(FHIR_NS + "issue"))


@_settings(short=40)
@given(case=hostile_inputs())
def test_service_answers_every_input_below_500(client: TestClient, case: HostileInput) -> None:
    """POST /Claim/$submit: never a 5xx; a refusal is an OperationOutcome in the format sent,
    of at most MAX_ISSUES issues and bounded size; an accepted submission reads back in both
    formats."""
    media_type = case.format.media_type
    start = time.process_time()
    response = client.post("/Claim/$submit", content=case.data, headers={"Content-Type": media_type})
    assert response.status_code < 500, (describe(case), response.content[:2000])
    assert len(response.content) <= ANSWER_BOUND + 2 * len(case.data), describe(case)
    answered_in = Format.XML if "xml" in response.headers["content-type"] else Format.JSON
    assert answered_in is case.format, describe(case)
    if response.status_code >= 400:
        assert 1 <= _outcome_issues(response.content, answered_in) <= MAX_ISSUES, describe(case)
    else:
        bundle = jsonio.loads(response.content) if answered_in is Format.JSON else None
        claim_ids = [
            entry["resource"]["request"]["reference"].removeprefix("Claim/")
            for entry in (bundle or {}).get("entry", [])
            if entry.get("resource", {}).get("resourceType") == "ClaimResponse"
            and entry["resource"].get("request", {}).get("reference", "").startswith("Claim/")
        ]
        for claim_id in claim_ids[:1]:
            for fmt in Format:
                read = client.get(f"/Claim/{claim_id}", params={"_format": fmt.value})
                assert read.status_code == 200, (describe(case), read.content[:2000])
    assert time.process_time() - start < HTTP_CPU_BOUND, describe(case)
