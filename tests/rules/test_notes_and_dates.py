"""Rendering of rates, reasons and dispositions, and the calendar arithmetic the rules rely on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapter.domain import LineDecision, Note, Outcome
from adapter.rules.dates import add_months, age_on, month_index
from adapter.rules.notes import disposition, percent_en, percent_fr, reason
from tests.support.requests import euros


@pytest.mark.parametrize(
    ("rate", "fr", "en"),
    [(Decimal(60), "60 %", "60%"), (Decimal("62.50"), "62,5 %", "62.5%"), (Decimal(100), "100 %", "100%")],
)
def test_rates_read_naturally_in_each_language(rate: Decimal, fr: str, en: str) -> None:
    """Rates print without trailing zeros, with a French decimal comma and space before %."""
    assert (percent_fr(rate), percent_en(rate)) == (fr, en)


def test_reason_renders_each_value_per_language() -> None:
    """Amounts, dates and words are rendered the French or the English way."""
    note = reason("price-above-plv", price=euros("1234.50"), plv=euros("950.00"))
    worded = reason("telemonitoring-cumulative", kind=Note(fr="technique", en="technical"))
    dated = reason("rights-closed", day=date(2026, 3, 2))

    assert note.fr == "prix unitaire 1\u202f234,50 € supérieur au PLV 950,00 €"
    assert note.en == "unit price €1,234.50 above the PLV €950.00"
    assert worded.fr.startswith("forfait de télésurveillance technique")
    assert (dated.fr, dated.en) == ("droits AMO fermés le 02/03/2026", "AMO rights not open on 2026-03-02")


def test_disposition_counts_lines_and_sums_benefits() -> None:
    """The disposition states how many lines were adjudicated and what the payer pays."""
    lines = (
        LineDecision(sequence=1, submitted=euros("10"), eligible=euros("10"), benefit=euros("6.00")),
        LineDecision(sequence=2, submitted=euros("20"), eligible=euros("20"), benefit=euros("12.00")),
    )

    assert disposition("AMO", Outcome.COMPLETE, lines, estimate=False) == (
        "AMO: 2 lines adjudicated; AMO pays €18.00."
    )


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 15), -6, date(2025, 9, 15)),
        (date(2026, 12, 1), 12, date(2027, 12, 1)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    """Adding months keeps the day of the month, clamped to the month's last day."""
    assert add_months(day, months) == expected


def test_add_months_stops_at_the_ends_of_the_calendar() -> None:
    """A window reaching past year 9999 (or before year 1) ends on the calendar's last (first) day
    instead of failing: a submission may carry such a date, and it must be judged, not crash."""
    assert add_months(date(9999, 12, 31), 12) == date.max
    assert add_months(date(9999, 6, 30), 7) == date.max
    assert add_months(date(1, 1, 31), -1) == date.min
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)


def test_age_counts_completed_years() -> None:
    """Age changes on the birthday itself, not the day before."""
    birth = date(2006, 3, 2)

    assert (age_on(birth, date(2026, 3, 1)), age_on(birth, date(2026, 3, 2))) == (19, 20)


def test_month_index_is_consecutive_across_years() -> None:
    """December and the following January are consecutive months."""
    assert month_index(date(2026, 1, 10)) - month_index(date(2025, 12, 31)) == 1
