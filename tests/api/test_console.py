"""The operator console's page and assets, and what it asks of the API that other clients did not:
search by day, outcome and state, a claim's whole answer (``$answer``) and ``$requeue`` (against
the fake service: the real one is in tests/service/test_console_operations.py)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from adapter.service import Requeue
from tests.api.conftest import READER, WRITER, Api, answer, outcome_codes, response_bundle

PARIS = ZoneInfo("Europe/Paris")


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=PARIS)


REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_the_console_page_is_public_and_served_under_a_strict_policy(api: Api) -> None:
    page = api.client.get("/console")
    policy = page.headers["content-security-policy"]

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert api.auth.seen == []  # no data, no authentication


def test_the_console_loads_only_its_own_assets_and_no_inline_code(api: Api) -> None:
    html = api.client.get("/console").text
    references = REFERENCE.findall(html)

    assert sorted(references) == ["#main", "/console-assets/console.css", "/console-assets/console.js"]
    assert "http://" not in html
    assert "https://" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None  # no inline script
    assert "<style" not in html
    assert " style=" not in html
    assert " onclick=" not in html
    policy = api.client.get("/console").headers["content-security-policy"]
    for reference in (r for r in references if r.startswith("/")):
        asset = api.client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.headers["content-security-policy"] == policy


def test_the_console_script_keeps_the_token_in_session_storage_only(api: Api) -> None:
    script = api.client.get("/console-assets/console.js").text

    assert "sessionStorage.setItem(TOKEN_KEY" in script
    assert "localStorage.setItem(TOKEN_KEY" not in script
    assert "innerHTML" not in script  # the DOM is built with text nodes only
    assert '"Authorization": "Bearer "' in script


def test_search_by_day_outcome_and_state_reaches_the_service(api: Api) -> None:
    response = api.client.get(
        "/ClaimResponse?created=ge2026-03-01&created=lt2026-03-31&outcome=queued&state=pending",
        headers={"Authorization": READER},
    )

    assert response.status_code == 200
    (_, arguments) = api.service.calls[-1]
    assert arguments["outcome"] == "queued"
    assert arguments["state"] == "pending"
    assert arguments["created_from"] == datetime(2026, 3, 1, tzinfo=PARIS)
    assert arguments["created_before"] == datetime(2026, 3, 31, tzinfo=PARIS)
    self_link = response.json()["link"][0]["url"]
    assert "created=ge2026-03-01&created=lt2026-03-31" in self_link  # the links keep the range


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("created=2026-03-29", date(2026, 3, 29), date(2026, 3, 30)),  # the day DST starts
        ("created=eq2026-03-02", date(2026, 3, 2), date(2026, 3, 3)),
        ("created=gt2026-03-02", date(2026, 3, 3), None),
        ("created=le2026-03-02", None, date(2026, 3, 3)),
        ("created=ge2026-03-01&created=le2026-02-28", date(2026, 3, 1), date(2026, 3, 1)),
        ("created=2024-02-29", date(2024, 2, 29), date(2024, 3, 1)),
    ],
)
def test_created_is_a_french_day_with_the_fhir_prefixes(
    api: Api, query: str, start: date | None, end: date | None
) -> None:
    assert api.client.get(f"/ClaimResponse?{query}", headers={"Authorization": READER}).status_code == 200
    (_, arguments) = api.service.calls[-1]
    assert arguments.get("created_from") == _midnight(start)
    assert arguments.get("created_before") == _midnight(end)


@pytest.mark.parametrize(
    "query",
    [
        "created=2026-02-30",
        "created=2026-3-1",
        "created=ne2026-03-01",
        "created=2026-03-01T25:00:00",
        "created=2026-03-01&created=2026-03-02&created=2026-03-03",
        "outcome=done",
        "state=failed",
        "outcome=complete&outcome=error",
    ],
)
def test_bad_days_outcomes_and_states_are_refused(api: Api, query: str) -> None:
    response = api.client.get(f"/ClaimResponse?{query}", headers={"Authorization": READER})

    assert response.status_code == 400
    assert set(outcome_codes(response.json())) == {"search-parameter"}
    assert [name for name, _ in api.service.calls] == []


def test_a_claims_answer_is_its_whole_stored_bundle(api: Api) -> None:
    stored = answer(response_bundle())
    api.service.answers["claim-1"] = stored

    response = api.client.get("/Claim/claim-1/$answer", headers={"Authorization": READER})
    missing = api.client.get("/Claim/claim-2/$answer", headers={"Authorization": READER})
    in_xml = api.client.get("/Claim/claim-1/$answer?_format=xml", headers={"Authorization": READER})

    assert response.status_code == 200
    assert response.content == stored.json
    assert response.headers["cache-control"] == "no-store"
    assert missing.status_code == 404
    assert outcome_codes(missing.json()) == ["not-found"]
    assert in_xml.headers["content-type"].startswith("application/fhir+xml")


def test_requeue_answers_200_404_or_409(api: Api) -> None:
    api.service.requeues = {"dead": Requeue.REQUEUED, "done": Requeue.NOT_DEAD}

    requeued = api.client.post("/Claim/dead/$requeue", headers={"Authorization": WRITER})
    not_dead = api.client.post("/Claim/done/$requeue", headers={"Authorization": WRITER})
    unknown = api.client.post("/Claim/other/$requeue", headers={"Authorization": WRITER})

    assert requeued.status_code == 200
    assert requeued.json()["issue"][0]["severity"] == "information"
    assert not_dead.status_code == 409
    assert outcome_codes(not_dead.json()) == ["claim-not-dead"]
    assert unknown.status_code == 404
    assert outcome_codes(unknown.json()) == ["not-found"]
    assert api.access_lines()[0]["outcome"] == "requeued"


def test_requeue_needs_the_write_scope(api: Api) -> None:
    api.service.requeues = {"dead": Requeue.REQUEUED}

    refused = api.client.post("/Claim/dead/$requeue", headers={"Authorization": READER})
    anonymous = api.client.post("/Claim/dead/$requeue")

    assert refused.status_code == 403
    assert outcome_codes(refused.json()) == ["scope-insufficient"]
    assert anonymous.status_code == 401
    assert [name for name, _ in api.service.calls] == []
