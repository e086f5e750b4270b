"""Fraud findings beyond exact duplicates: near-duplicates, another provider within the renewal
interval, unusual quantities; warnings by default, blocking when configured."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from adapter.domain import LppCode
from adapter.rules import DeliveryRecord, RulesConfig
from tests.support.requests import OTHER_SUPPLIER, PATIENT, SUPPLIER, line, request
from tests.support.rules import run


def past(code: str, day: date, *, quantity: int = 1, provider: str = SUPPLIER.identifier) -> DeliveryRecord:
    return DeliveryRecord(
        nir=PATIENT, code=LppCode(code), day=day, quantity=quantity, provider=provider, submission="EARLIER"
    )


def test_near_duplicate_is_a_warning_with_its_fhirpath() -> None:
    amo, _ = run(request(), history=[past("9900001", date(2026, 2, 27))])
    (finding,) = amo.findings
    assert (finding.code, finding.blocking, finding.expression) == (
        "near-duplicate-delivery",
        False,
        "Claim.item[0].serviced.ofType(date)",
    )
    assert "3 day(s)" in finding.text
    assert not amo.decision.lines[0].rejected


def test_near_duplicate_window_and_severity_are_configurable() -> None:
    history = [past("9900001", date(2026, 2, 27))]
    assert (
        run(request(), history=history, config=replace(RulesConfig(), near_duplicate_days=2))[0].findings
        == ()
    )
    blocking = replace(RulesConfig(), warning_findings=frozenset())
    amo, _ = run(request(), history=history, config=blocking)
    assert [r.code for r in amo.decision.lines[0].rejections] == ["near-duplicate-delivery"]


def test_another_provider_is_not_a_near_duplicate() -> None:
    assert (
        run(request(), history=[past("9900001", date(2026, 3, 1), provider=OTHER_SUPPLIER.identifier)])[
            0
        ].findings
        == ()
    )


def test_renewal_billed_by_another_provider() -> None:
    """A glucose meter (1 per 4 years) delivered a year ago elsewhere: too early, by two providers."""
    history = [past("9900402", date(2025, 3, 2), provider=OTHER_SUPPLIER.identifier)]
    amo, _ = run(request(line(code="9900402", price="43.59")), history=history)
    assert [(f.code, f.blocking) for f in amo.findings] == [
        ("renewal-too-early", True),
        ("renewal-other-provider", False),
    ]
    assert amo.findings[1].text.startswith("code 9900402 already delivered on 2025-03-02 by another provider")


def test_renewal_by_the_same_provider_is_only_too_early() -> None:
    amo, _ = run(request(line(code="9900402", price="43.59")), history=[past("9900402", date(2025, 3, 2))])
    assert [f.code for f in amo.findings] == ["renewal-too-early"]


def test_unusual_quantity_against_the_table_and_the_default() -> None:
    usual = request(line(code="9900801", price="10.00", qty=6))
    unusual = request(line(code="9900801", price="10.00", qty=7))
    assert run(usual)[0].findings == ()
    (finding,) = run(unusual)[0].findings
    assert (finding.code, finding.expression) == ("quantity-unusual", "Claim.item[0].quantity")
    default = replace(RulesConfig(), unusual_quantity_default=1)
    assert [f.code for f in run(request(line(qty=4)), config=default)[0].findings] == ["quantity-unusual"]
    assert run(request(line(qty=3)), config=default)[0].findings == ()
