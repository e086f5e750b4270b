"""The two halves of the second pass together: per-ear hearing aids and rentals under the fraud
findings, the CSS and devices off the LPP, and part A's values reachable from the settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from adapter.bootstrap import rules_config
from adapter.domain import Ear, Gtin, Line, LppCode, Money
from adapter.rules import DeliveryRecord, RulesConfig
from adapter.settings import Settings
from tests.support.requests import OTHER_SUPPLIER, PATIENT, SUPPLIER, line, request
from tests.support.rules import run

AID = "9900101"


def past(day: date, ear: Ear | None, *, provider: str = SUPPLIER.identifier) -> DeliveryRecord:
    return DeliveryRecord(
        nir=PATIENT,
        code=LppCode(AID),
        day=day,
        quantity=1,
        provider=provider,
        submission="EARLIER",
        ear=None if ear is None else ear.value,
    )


def aid(seq: int, ear: Ear | None, day: date = date(2026, 3, 2)) -> Line:
    return line(seq, AID, "950.00", day=day, ear=ear)


def test_two_ears_on_neighbouring_days_are_not_near_duplicates() -> None:
    """Left ear on 2/3, right ear on 3/3, one claim: two devices, both paid, no finding."""
    amo, _ = run(request(aid(1, Ear.LEFT), aid(2, Ear.RIGHT, date(2026, 3, 3))))
    assert amo.findings == ()
    assert [decided.rejected for decided in amo.decision.lines] == [False, False]


def test_the_other_ear_in_the_history_is_not_a_near_duplicate() -> None:
    history = [past(date(2026, 2, 28), Ear.LEFT)]
    assert run(request(aid(1, Ear.RIGHT)), history=history)[0].findings == ()


def test_the_same_ear_a_day_later_is_a_near_duplicate() -> None:
    amo, _ = run(request(aid(1, Ear.LEFT)), history=[past(date(2026, 3, 1), Ear.LEFT)])
    assert "near-duplicate-delivery" in [finding.code for finding in amo.findings]


def test_renewal_by_another_provider_is_counted_per_ear() -> None:
    """Another provider fitted the left ear a year ago: a new left-ear aid is renewed too early
    by two providers; a right-ear aid is the other ear's first and raises nothing."""
    history = [past(date(2025, 3, 2), Ear.LEFT, provider=OTHER_SUPPLIER.identifier)]
    left, _ = run(request(aid(1, Ear.LEFT)), history=history)
    assert [finding.code for finding in left.findings] == ["renewal-too-early", "renewal-other-provider"]
    right, _ = run(request(aid(1, Ear.RIGHT)), history=history)
    assert right.findings == ()


def test_a_rental_counts_weeks_not_devices_for_the_unusual_quantity() -> None:
    """The default usual quantity is for devices: 8 weeks of oxygen rental are not unusual."""
    config = replace(RulesConfig(), unusual_quantity_default=1)
    rental = line(code="9900601", price="20.00", qty=8, rental=(date(2026, 3, 2), date(2026, 4, 26)))
    assert run(request(rental), config=config)[0].findings == ()
    assert [f.code for f in run(request(line(qty=4)), config=config)[0].findings] == ["quantity-unusual"]


def test_the_css_pays_nothing_for_a_device_off_the_lpp() -> None:
    device = Line(
        sequence=1,
        lpp_code=None,
        product=Gtin("03760000010023"),
        quantity=1,
        unit_price=Money.of("120.00"),
        delivery_date=date(2026, 3, 2),
    )
    _, amc = run(request(device, contract="CSS", css=True))
    assert amc is not None
    (decided,) = amc.decision.lines
    assert decided.benefit == Money.zero()
    assert [rejection.code for rejection in decided.rejections] == ["amc-amo-rejected"]


def test_part_a_values_come_from_the_settings() -> None:
    config = rules_config(
        Settings(
            rules_billing_deadline_months=6,
            rules_supplier_billing_deadline_months=36,
            rules_at_mp_above_tariff=Decimal(120),
            rules_rental_units_at_own_tariff=False,
            rules_ame_rate=Decimal(90),
        )
    )
    assert (
        config.billing_deadline_months,
        config.supplier_billing_deadline_months,
        config.at_mp_above_tariff,
        config.rental_units_at_own_tariff,
        config.rates.ame,
    ) == (6, 36, Decimal(120), False, Decimal(90))
    assert rules_config(Settings()) == RulesConfig()
