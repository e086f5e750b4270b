"""The worked examples of domain-fr.md §3.4, to the cent, on the demo LPP table and contracts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from adapter.domain import ClaimType, Exoneration, NatureAssurance, ReimbursementRequest
from adapter.rules import LedgerEntry
from tests.support.requests import PATIENT, euros, line, request
from tests.support.rules import run


def amounts(req: ReimbursementRequest, *, ledger: Sequence[LedgerEntry] = ()) -> tuple[str, ...]:
    """(BR, AMO, TM, dépassement, AMC, RAC) summed over the request's lines."""
    amo, amc = run(req, ledger=ledger)
    assert amc is not None
    totals = [Decimal(0)] * 6
    for amo_line in amo.decision.lines:
        amc_line = amc.decision.line(amo_line.sequence)
        assert not amo_line.rejected
        assert not amc_line.rejected
        assert amo_line.ticket_moderateur is not None
        assert amo_line.depassement is not None
        assert amc_line.reste_a_charge is not None
        parts = (
            amo_line.eligible,
            amo_line.benefit,
            amo_line.ticket_moderateur,
            amo_line.depassement,
            amc_line.benefit,
            amc_line.reste_a_charge,
        )
        totals = [total + part.amount for total, part in zip(totals, parts, strict=True)]
    return tuple(str(total) for total in totals)


EXAMPLES = {
    "1 standard, 150 % BR incl. AMO": (
        request(contract="DEMO-RESP-150"),
        ("100.00", "60.00", "40.00", "50.00", "90.00", "0.00"),
    ),
    "2 minimal contract, 100 % BR incl. AMO": (
        request(contract="DEMO-RESP-100"),
        ("100.00", "60.00", "40.00", "50.00", "40.00", "50.00"),
    ),
    "3 125 % BR excl. AMO, limited by the remaining cost": (
        request(contract="DEMO-RESP-125-HORS-SS"),
        ("100.00", "60.00", "40.00", "50.00", "90.00", "0.00"),
    ),
    "4 ALD patient": (
        request(contract="DEMO-RESP-150", exoneration=Exoneration.ALD, ald=True),
        ("100.00", "100.00", "0.00", "50.00", "50.00", "0.00"),
    ),
    "5 Alsace-Moselle": (
        request(contract="DEMO-RESP-100", nature=NatureAssurance.ALSACE_MOSELLE),
        ("100.00", "90.00", "10.00", "50.00", "10.00", "50.00"),
    ),
    "7 bed rental, 4 weeks": (
        request(
            line(code="1241763", price="12.35", qty=4, rental=(date(2026, 3, 2), date(2026, 3, 29))),
            contract="DEMO-RESP-100",
        ),
        ("49.40", "29.64", "19.76", "0.00", "19.76", "0.00"),
    ),
    "8 hearing aid classe I, adult, one ear": (
        request(line(code="9900101", price="950.00"), contract="DEMO-RESP-100"),
        ("400.00", "240.00", "160.00", "550.00", "710.00", "0.00"),
    ),
    "9 hearing aid classe II, one ear": (
        request(line(code="9900103", price="1500.00"), contract="DEMO-RESP-150"),
        ("400.00", "240.00", "160.00", "1100.00", "660.00", "600.00"),
    ),
    "9 same, under the hearing-aid contract": (
        request(line(code="9900103", price="1500.00"), contract="DEMO-AUDIO-500"),
        ("400.00", "240.00", "160.00", "1100.00", "660.00", "600.00"),
    ),
    "10 heart-failure telemonitoring, one month": (
        request(line(1, "9900301", "28.00"), line(2, "1612544", "50.00"), contract="DEMO-RESP-100"),
        ("78.00", "46.80", "31.20", "0.00", "31.20", "0.00"),
    ),
    "10b same, patient in ALD": (
        request(
            line(1, "9900301", "28.00"),
            line(2, "1612544", "50.00"),
            contract="DEMO-RESP-100",
            exoneration=Exoneration.ALD,
            ald=True,
        ),
        ("78.00", "78.00", "0.00", "0.00", "0.00", "0.00"),
    ),
}


@pytest.mark.parametrize(("req", "expected"), EXAMPLES.values(), ids=EXAMPLES.keys())
def test_worked_example(req: ReimbursementRequest, expected: tuple[str, ...]) -> None:
    """Each worked example of §3.4 gives its BR, AMO, TM, dépassement, AMC and RAC to the cent."""
    assert amounts(req) == expected


def test_example_6_annual_forfait_partly_used() -> None:
    """Example 6: TM + 100 €/year with 70 € already used pays 40 + min(30, 50) = 70 and consumes 30."""
    used = LedgerEntry(
        nir=PATIENT,
        contract_id="DEMO-RESP-FORFAIT",
        guarantee_id="devices-forfait",
        day=date(2026, 1, 20),
        consumed=euros("70.00"),
        units=1,
        submission="EARLIER",
    )
    req = request(contract="DEMO-RESP-FORFAIT")

    assert amounts(req, ledger=[used]) == ("100.00", "60.00", "40.00", "50.00", "70.00", "20.00")
    _, amc = run(req, ledger=[used])
    assert amc is not None
    assert [entry.consumed for entry in amc.ledger] == [euros("30.00")]


def test_example_10_splits_amo_between_the_two_forfaits() -> None:
    """Example 10: the AMO pays 16.80 on the operator forfait and 30.00 on the technical one."""
    amo, _ = run(request(line(1, "9900301", "28.00"), line(2, "1612544", "50.00")))

    assert [str(line.benefit.amount) for line in amo.decision.lines] == ["16.80", "30.00"]


def test_hospital_rounding_check() -> None:
    """Hospital LPP: PU 1,234.56 × 2 → BR 2,469.12, MRO 1,481.47, theoretical MRC 987.65."""
    req = request(
        line(code="9900002", price="1234.56", qty=2),
        contract="DEMO-C2S",
        claim_type=ClaimType.INSTITUTIONAL,
    )

    assert amounts(req) == ("2469.12", "1481.47", "987.65", "0.00", "987.65", "0.00")
