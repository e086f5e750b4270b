"""The API when the database is unavailable (issue #15, items 10-12), against a fake service:
503 ``not-ready`` with ``Retry-After`` and one warning line without traceback per request, and a
``/readyz`` that answers promptly whatever the database does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from adapter.errors import StoreConnectionLost, StoreUnavailable
from tests.api.conftest import WRITER, Api, outcome_codes, submission_json


def test_a_database_outage_is_a_503_not_ready_with_retry_after(make_api: Callable[..., Api]) -> None:
    api = make_api()
    with api.client:
        for error in (StoreUnavailable("the database is down", retry_after=7), StoreConnectionLost("gone")):
            api.service.error = error
            response = api.client.post(
                "/Claim/$submit",
                content=submission_json(),
                headers={"Authorization": WRITER, "Content-Type": "application/fhir+json"},
            )
            assert response.status_code == 503
            assert response.headers["retry-after"] == ("7" if error.retry_after == 7 else "5")
            assert outcome_codes(response.json()) == ["not-ready"]
    lines = api.log_lines()
    warnings = [line for line in lines if line["event"] == "request.unavailable"]
    assert [w["level"] for w in warnings] == ["warning", "warning"]
    assert all(w["code"] == "not-ready" for w in warnings)
    assert not [line for line in lines if "exception" in line or line["level"] == "error"]
    assert 'status="500"' not in api.client.get("/metrics").text


def test_readyz_answers_promptly_when_the_database_hangs(make_api: Callable[..., Api]) -> None:
    api = make_api(ready_timeout=0.3, db_retry_after=4)
    released = threading.Event()
    api.service.ready = lambda: released.wait(10)  # type: ignore[method-assign]
    with api.client:
        start = time.monotonic()
        response = api.client.get("/readyz")
        elapsed = time.monotonic() - start
        released.set()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "4"
    assert outcome_codes(response.json()) == ["not-ready"]
    assert elapsed < 2
