"""The French rules' second pass: AT/MP above the tariff, AME, CSS, rentals across a tariff
change and the AMC's per-ear renewals, each computed by hand (domain-fr §1.3, §1.4, §3.5)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from adapter.domain import Ear, NatureAssurance
from adapter.rules import LedgerEntry, RulesConfig
from tests.support.requests import PARIS, PATIENT, euros, line, request
from tests.support.rules import run


def test_at_mp_pays_up_to_150_percent_of_the_tariff_within_the_price() -> None:
    """BR 100.00: billed 120.00 the AMO pays 120.00; billed 180.00 it pays 150.00 (taux 150)."""
    within, _ = run(request(line(price="120.00"), nature=NatureAssurance.AT_MP))
    above, amc = run(request(line(price="180.00"), nature=NatureAssurance.AT_MP, contract="DEMO-RESP-100"))

    assert within.decision.lines[0].benefit == euros("120.00")
    assert within.decision.lines[0].rate == 150
    assert within.decision.lines[0].ticket_moderateur == euros("0.00")
    assert above.decision.lines[0].benefit == euros("150.00")
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("0.00")
    assert amc.decision.lines[0].reste_a_charge == euros("30.00")


def test_at_mp_keeps_100_percent_where_the_plv_is_the_tariff() -> None:
    """Glucose strips (PLV = tariff 15.00): no cover above the tariff, taux 100."""
    amo, _ = run(request(line(code="9900401", price="15.00"), nature=NatureAssurance.AT_MP))

    assert amo.decision.lines[0].rate == 100
    assert amo.decision.lines[0].benefit == euros("15.00")


def test_at_mp_ceiling_is_configurable() -> None:
    """With the ceiling set back to 100 %, the AMO pays the tariff only."""
    amo, _ = run(
        request(line(price="180.00"), nature=NatureAssurance.AT_MP),
        config=RulesConfig(at_mp_above_tariff=Decimal(100)),
    )

    assert amo.decision.lines[0].benefit == euros("100.00")


def test_ame_pays_the_whole_tariff_and_no_amc_takes_part() -> None:
    """AME: 100 % of BR 100.00; billed 150.00, the 50.00 above is not paid; no AMC decision."""
    amo, amc = run(request(line(price="150.00"), ame=True, contract="DEMO-RESP-150"))

    assert amo.decision.lines[0].rate == 100
    assert amo.decision.lines[0].benefit == euros("100.00")
    assert amo.decision.lines[0].depassement == euros("50.00")
    assert amc is None


def test_css_pays_up_to_the_plv_of_a_100_sante_basket() -> None:
    """Hearing aid classe I at 950.00: AMO 240.00, CSS 710.00, nothing left to pay."""
    amo, amc = run(request(line(code="9900101", price="950.00", ear=Ear.LEFT), contract="CSS", css=True))

    assert amo.findings == ()
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("710.00")
    assert amc.decision.lines[0].reste_a_charge == euros("0.00")
    assert amc.ledger == ()


def test_css_pays_up_to_the_tariff_and_flags_a_price_above_it() -> None:
    """A code without a PLV (BR 100.00) billed 150.00: CSS 40.00, 50.00 unpaid, a warning."""
    amo, amc = run(request(line(price="150.00"), contract="CSS", css=True))

    assert [(f.code, f.expression, f.blocking) for f in amo.findings] == [
        ("css-price-above-tariff", "Claim.item[0].unitPrice", False)
    ]
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("40.00")
    assert amc.decision.lines[0].reste_a_charge == euros("50.00")
    assert "CSS up to the tariff" in amc.decision.notes[1].en


def test_css_at_the_tariff_leaves_nothing_to_pay() -> None:
    """Billed at the tariff: no warning, the CSS pays the ticket modérateur."""
    amo, amc = run(request(line(price="100.00"), contract="CSS", css=True))

    assert amo.findings == ()
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("40.00")
    assert amc.decision.lines[0].reste_a_charge == euros("0.00")


def test_rental_weeks_take_the_tariff_of_their_own_date() -> None:
    """4 weeks from 16/6/2026: three at 20.00 and one at 18.50 (from 1/7/2026), BR 78.50."""
    rental = line(code="9900601", price="20.00", qty=4, rental=(date(2026, 6, 16), date(2026, 7, 13)))

    amo, _ = run(request(rental, authored=date(2026, 6, 10), created=date_time(2026, 7, 15)))
    pooled, _ = run(
        request(rental, authored=date(2026, 6, 10), created=date_time(2026, 7, 15)),
        config=RulesConfig(rental_units_at_own_tariff=False),
    )

    decided = amo.decision.lines[0]
    assert decided.eligible == euros("78.50")
    assert decided.benefit == euros("47.10")
    assert "3 × €20.00 + 1 × €18.50" in amo.decision.notes[1].en
    assert pooled.decision.lines[0].eligible == euros("80.00")


def test_rental_within_one_tariff_is_priced_as_before() -> None:
    """4 weeks inside the new tariff's period: 4 × 18.50."""
    rental = line(code="9900601", price="18.50", qty=4, rental=(date(2026, 7, 6), date(2026, 8, 2)))

    amo, _ = run(request(rental, authored=date(2026, 7, 1), created=date_time(2026, 8, 3)))

    assert amo.decision.lines[0].eligible == euros("74.00")


def test_amc_renewal_counts_per_ear() -> None:
    """DEMO-AUDIO-500 pays one hearing aid per ear per 4 years above the floor: a second
    right-ear aid gets the ticket modérateur only, the left ear its full guarantee."""
    used = LedgerEntry(
        nir=PATIENT,
        contract_id="DEMO-AUDIO-500",
        guarantee_id="hearing-aids",
        day=date(2025, 5, 1),
        consumed=euros("0.00"),
        units=1,
        submission="EARLIER",
        ear="right",
    )
    right, left = (
        run(
            request(line(code="9900103", price="1500.00", ear=ear), contract="DEMO-AUDIO-500"),
            ledger=[used],
        )[1]
        for ear in (Ear.RIGHT, Ear.LEFT)
    )

    assert right is not None
    assert left is not None
    assert right.decision.lines[0].benefit == euros("160.00")
    assert left.decision.lines[0].benefit == euros("660.00")
    assert [entry.ear for entry in left.ledger] == ["left"]


def date_time(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=PARIS)
