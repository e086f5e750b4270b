"""The routing file: longest-prefix AMO routes, exact AMC routes, credentials kept out of it,
and every mistake named with its entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.payers.routing import RoutesError, load_routes, parse_routes

GOOD = """
amo:
  - organismes: ["01"]
    url: https://cnam.example/lpp-payer/
    name: cnam
  - organismes: ["011751"]
    url: https://cpam-paris.example/lpp-payer
    bearer_token_env: PARIS_TOKEN
amc:
  - amc_numbers: ["MUTEX00001", "MUTEX00002"]
    url: https://mutuelle.example/lpp-payer
    tls: {cert: /etc/a.pem, key: /etc/a.key}
retries: {attempts: 3}
"""


def test_amo_routes_by_longest_prefix_and_amc_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARIS_TOKEN", "s3cret")
    routes = parse_routes(GOOD)
    paris, lyon = routes.amo_for("011751234"), routes.amo_for("016911234")
    assert paris is not None
    assert (paris.name, paris.bearer_token) == ("amo-1", "s3cret")
    assert lyon is not None
    assert (lyon.name, lyon.url) == ("cnam", "https://cnam.example/lpp-payer")
    assert routes.amo_for("021751234") is None
    mutuelle = routes.amc_for("MUTEX00002")
    assert mutuelle is not None
    assert mutuelle.tls is not None
    assert routes.amc_for("MUTEX0000") is None
    assert (routes.retries.attempts, routes.retries.budget, routes.timeouts.read) == (3, 8.0, 5.0)
    assert "s3cret" not in repr(paris)


def test_a_bearer_token_is_read_from_its_file(tmp_path: Path) -> None:
    token = tmp_path / "amo.token"
    token.write_text("from-a-file\n")
    routes = parse_routes(
        f"amo: [{{organismes: ['01'], url: 'https://a.example', bearer_token_file: '{token}'}}]"
    )
    endpoint = routes.amo_for("011751234")
    assert endpoint is not None
    assert endpoint.bearer_token == "from-a-file"  # noqa: S105 - a test token


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("amo: [", "not valid YAML"),
        ("[]", "must be a mapping"),
        ("amo: [{organismes: ['01']}]", r"amo\[0\]: url must be"),
        ("amo: [{organismes: ['01'], url: 'ftp://x'}]", "url must be"),
        ("amo: [{organismes: [], url: 'https://x'}]", "organismes must be a non-empty list"),
        ("amo: [{organismes: [1], url: 'https://x'}]", "quoted strings"),
        ("amo: [{organismes: ['0A'], url: 'https://x'}]", "1 to 9 digits"),
        ("amo: [{organismes: ['01'], url: 'https://x'}, {organismes: ['01'], url: 'https://y'}]", "twice"),
        ("amc: [{amc_numbers: ['M1'], url: 'https://x', token: 'x'}]", "unknown field 'token'"),
        ("amc: [{amc_numbers: ['M1'], url: 'https://x', bearer_token_env: 'NOT_SET_ANYWHERE'}]", "is empty"),
        (
            "amc: [{amc_numbers: ['M1'], url: 'https://x', bearer_token_file: '/nonexistent/t'}]",
            "cannot read",
        ),
        ("amc: [{amc_numbers: ['M1'], url: 'https://x', tls: {cert: a}}]", "tls takes cert, key"),
        ("retries: {attempts: 0}", "retries.attempts must be a positive number"),
        ("retries: {attempts: 2.5}", "whole number"),
        ("timeouts: {read: -1}", "timeouts.read"),
        ("breaker: {open: 1}", "breaker.open is not a setting"),
        ("elsewhere: []", "'elsewhere' is not a section"),
    ],
)
def test_every_mistake_is_named(text: str, reason: str) -> None:
    with pytest.raises(RoutesError, match=reason) as caught:
        parse_routes(text, source="routes.yaml")
    assert caught.value.code == "payer-routes-invalid"
    assert caught.value.message.startswith("routes.yaml")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RoutesError, match="cannot read the routing file"):
        load_routes(tmp_path / "missing.yaml")
