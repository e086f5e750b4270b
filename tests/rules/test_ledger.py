"""The AMC ledger: yearly forfaits consumed across claims, reset each year, untouched by estimates."""

from __future__ import annotations

from datetime import date, datetime

from adapter.domain import ClaimUse, Money
from adapter.rules import LedgerEntry
from adapter.rules.ledger import Ledger
from tests.support.requests import PARIS, PATIENT, euros, line, request
from tests.support.rules import run


def claim(
    ledger: list[LedgerEntry], day: date, price: str, *, use: ClaimUse = ClaimUse.CLAIM, n: int = 1
) -> Money:
    """Submit one line on the forfait contract, apply its ledger entries, return the AMC amount."""
    req = request(
        line(price=price, day=day),
        contract="DEMO-RESP-FORFAIT",
        use=use,
        authored=day,
        created=datetime.combine(day, datetime.min.time(), tzinfo=PARIS),
        submission=f"SUB-{n}",
    )
    _, amc = run(req, ledger=ledger)
    assert amc is not None
    ledger.extend(amc.ledger)
    return amc.decision.lines[0].benefit


def test_forfait_is_consumed_across_claims_of_one_year() -> None:
    """100 €/year: 50 € of dépassement, then 50 €, then nothing left but the TM."""
    ledger: list[LedgerEntry] = []

    first = claim(ledger, date(2026, 2, 1), "150.00", n=1)
    second = claim(ledger, date(2026, 5, 1), "160.00", n=2)
    third = claim(ledger, date(2026, 9, 1), "150.00", n=3)

    assert (first, second, third) == (euros("90.00"), euros("90.00"), euros("40.00"))
    assert [entry.consumed for entry in ledger] == [euros("50.00"), euros("50.00")]


def test_forfait_starts_afresh_each_calendar_year() -> None:
    """A budget spent in December is whole again for care in January."""
    ledger: list[LedgerEntry] = []

    december = claim(ledger, date(2025, 12, 20), "300.00", n=1)
    january = claim(ledger, date(2026, 1, 5), "300.00", n=2)

    assert december == euros("140.00")
    assert january == euros("140.00")
    assert [(entry.year, entry.consumed) for entry in ledger] == [
        (2025, euros("100.00")),
        (2026, euros("100.00")),
    ]


def test_predetermination_consumes_nothing() -> None:
    """An estimate shows the forfait but leaves it whole for the claim that follows."""
    ledger: list[LedgerEntry] = []

    estimate = claim(ledger, date(2026, 2, 1), "250.00", use=ClaimUse.PREDETERMINATION, n=1)
    real = claim(ledger, date(2026, 2, 1), "250.00", n=2)

    assert estimate == euros("140.00")
    assert real == euros("140.00")
    assert [entry.consumed for entry in ledger] == [euros("100.00")]


def test_lines_of_one_request_share_the_forfait_in_sequence_order() -> None:
    """Two lines of 150 € consume 50 € then 50 €; a third finds only the TM."""
    req = request(
        line(1), line(2, day=date(2026, 3, 3)), line(3, day=date(2026, 3, 4)), contract="DEMO-RESP-FORFAIT"
    )

    _, amc = run(req)

    assert amc is not None
    assert [d.benefit for d in amc.decision.lines] == [euros("90.00"), euros("90.00"), euros("40.00")]
    assert [e.consumed for e in amc.ledger] == [euros("50.00"), euros("50.00")]


def test_ledger_keys_are_beneficiary_contract_guarantee_and_year() -> None:
    """Consumption is counted per contract, guarantee and year; the balance never goes negative."""
    entries = [
        LedgerEntry(
            nir=PATIENT,
            contract_id=contract,
            guarantee_id=guarantee,
            day=day,
            consumed=euros(amount),
            units=1,
            submission="S",
        )
        for contract, guarantee, day, amount in [
            ("A", "g", date(2026, 1, 1), "60.00"),
            ("A", "g", date(2026, 6, 1), "70.00"),
            ("A", "h", date(2026, 1, 1), "5.00"),
            ("B", "g", date(2026, 1, 1), "7.00"),
            ("A", "g", date(2025, 1, 1), "9.00"),
        ]
    ]
    ledger = Ledger(entries)

    assert ledger.consumed("A", "g", 2026) == euros("130.00")
    assert ledger.remaining("A", "g", 2026, euros("100.00")) == euros("0.00")
    assert ledger.remaining("A", "g", 2025, euros("100.00")) == euros("91.00")
