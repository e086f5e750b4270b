"""PECAN forfaits: first period, then monthly; the yearly cap and the one-year limit."""

from __future__ import annotations

from datetime import date

from adapter.domain import Line, LppCode
from adapter.rules import DeliveryRecord
from tests.support.requests import PATIENT, SUPPLIER, euros, line, request
from tests.support.rules import run


def past(code: str, day: date, quantity: int = 1) -> DeliveryRecord:
    return DeliveryRecord(
        nir=PATIENT,
        code=LppCode(code),
        day=day,
        quantity=quantity,
        provider=SUPPLIER.identifier,
        submission="E",
    )


def first(day: date = date(2026, 3, 2)) -> Line:
    return line(code="9900611", price="435.00", day=day)


def monthly(day: date, qty: int = 1) -> Line:
    return line(code="9900612", price="38.30", day=day, qty=qty)


def codes(day: date, history: list[DeliveryRecord], qty: int = 1) -> list[str]:
    amo, _ = run(request(monthly(day, qty), authored=date(2026, 2, 20)), history=history)
    return [r.code for r in amo.decision.lines[0].rejections]


def test_first_period_is_paid_at_60_percent() -> None:
    amo, amc = run(request(first(), contract="DEMO-RESP-100"))
    assert amo.decision.lines[0].benefit == euros("261.00")
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("174.00")


def test_monthly_needs_a_first_period_and_comes_after_it() -> None:
    assert codes(date(2026, 3, 2), []) == ["pecan-sequence"]
    assert codes(date(2026, 3, 2), [past("9900611", date(2026, 1, 5))]) == ["pecan-sequence"]
    assert codes(date(2026, 3, 2), [past("9900611", date(2025, 12, 1))]) == []


def test_the_cap_counts_the_year_from_the_first_period() -> None:
    """435.00 + 9 × 38.30 = 779.70 fits the 780.00 cap; a tenth month does not."""
    opened = [past("9900611", date(2025, 12, 1))]
    assert codes(date(2026, 3, 2), opened, qty=9) == []
    amo, _ = run(request(monthly(date(2026, 3, 2), 10)), history=opened)
    assert [f.code for f in amo.findings] == ["quantity-delivery-cap", "pecan-cap"]
    finding = amo.findings[1]
    assert "818.00 of forfaits in the year, above the cap of" in finding.text


def test_a_second_first_period_within_the_year_is_refused() -> None:
    amo, _ = run(request(first()), history=[past("9900611", date(2025, 9, 1))])
    assert [r.code for r in amo.decision.lines[0].rejections] == ["pecan-sequence"]


def test_the_year_is_capped_and_limited() -> None:
    history = [past("9900611", date(2025, 6, 1)), past("9900612", date(2025, 9, 1), 9)]
    assert codes(date(2026, 3, 2), history[:1]) == []  # 435 + 38.30 within 780
    assert codes(date(2026, 3, 2), history) == ["pecan-cap"]  # 435 + 9 × 38.30 = 779.70 + 38.30
    over = [past("9900611", date(2025, 3, 1))]
    assert codes(date(2026, 3, 2), over) == ["pecan-cap"]  # opened more than a year ago
    amo, _ = run(request(first()), history=over)
    assert [r.code for r in amo.decision.lines[0].rejections] == ["pecan-cap"]  # not renewable
