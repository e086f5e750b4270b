"""Optics: prescription validity by age, renewal by age and change of sight (decree 2016-1381),
contrat-responsable floors and ceilings by optics class (R.871-2 CSS), class A at no cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adapter.domain import LppCode, ReimbursementRequest
from adapter.rules import DeliveryRecord, RulesConfig
from adapter.rules.optics import optics_renewal_months, optics_validity
from tests.support.requests import PATIENT, SUPPLIER, euros, line, request
from tests.support.rules import run

CONFIG = RulesConfig()


@pytest.mark.parametrize(
    ("birth", "months"),
    [(date(2012, 1, 1), 12), (date(2010, 2, 20), 60), (date(1984, 2, 21), 60), (date(1983, 2, 20), 36)],
)
def test_validity_follows_the_age_on_the_prescription_day(birth: date, months: int) -> None:
    """Under 16: 1 year; 16 to 42: 5 years; over 42: 3 years (age on the day it is written)."""
    assert optics_validity(birth, date(2026, 2, 20), CONFIG) == months


def test_renewal_interval_by_age_and_change_of_sight() -> None:
    day = date(2026, 3, 2)
    assert optics_renewal_months(date(2015, 1, 1), day, False, CONFIG) == 12
    assert optics_renewal_months(date(2015, 1, 1), day, True, CONFIG) is None
    assert optics_renewal_months(date(1980, 1, 1), day, False, CONFIG) == 24
    assert optics_renewal_months(date(1980, 1, 1), day, True, CONFIG) == 12
    assert optics_renewal_months(None, day, False, CONFIG) == 24


def _lenses(day: date = date(2026, 3, 2), price: str = "90.00") -> ReimbursementRequest:
    return request(line(code="9900712", price=price, qty=2, day=day), contract="DEMO-RESP-100")


def test_an_old_optics_prescription_is_valid_for_a_young_adult_and_not_after_42() -> None:
    """A prescription of 40 months: valid at 30 (5 years), expired at 60 (3 years)."""
    young = replace(_lenses(), prescription=replace(_lenses().prescription, authored_on=date(2022, 11, 2)))
    old = replace(young, beneficiary=replace(young.beneficiary, birth_date=date(1962, 5, 5)))

    young_amo, _ = run(young)
    old_amo, _ = run(old)

    assert not young_amo.decision.lines[0].rejected
    assert [r.code for r in old_amo.decision.lines[0].rejections] == ["prescription-expired"]


def _past_lenses(day: date, provider: str = SUPPLIER.identifier) -> DeliveryRecord:
    return DeliveryRecord(
        nir=PATIENT, code=LppCode("9900712"), day=day, quantity=2, provider=provider, submission="EARLIER"
    )


def test_adult_renewal_within_two_years_is_refused_unless_the_sight_changed() -> None:
    history = [_past_lenses(date(2025, 1, 20))]  # 13 months before
    plain = _lenses()
    changed = replace(plain, prescription=replace(plain.prescription, vision_change=True))

    refused, _ = run(plain, history=history)
    accepted, _ = run(changed, history=history)

    assert [r.code for r in refused.decision.lines[0].rejections] == ["renewal-too-early"]
    assert refused.findings[0].text == "renewal within 24 months (4 units where 2 are allowed)"
    assert not accepted.decision.lines[0].rejected


def test_child_renews_after_a_year() -> None:
    child = replace(_lenses(), beneficiary=replace(_lenses().beneficiary, birth_date=date(2016, 5, 10)))
    assert not run(child, history=[_past_lenses(date(2025, 3, 1))])[0].decision.lines[0].rejected
    early, _ = run(child, history=[_past_lenses(date(2025, 4, 1))])
    assert [r.code for r in early.decision.lines[0].rejections] == ["renewal-too-early"]


def test_class_b_lenses_are_raised_to_the_floor() -> None:
    """100 % BR pays 0.04; the contrat-responsable floor makes it 25.00 per lens."""
    _, amc = run(_lenses())
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("50.00")
    assert amc.decision.lines[0].reste_a_charge == euros("129.94")
    assert "plancher optique 50,00" in amc.decision.notes[1].fr


def test_class_b_equipment_is_held_by_the_ceilings() -> None:
    """Frais réels: frame 100.00 and very complex lenses 350.00 each, AMO included."""
    req = request(
        line(1, "9900714", "180.00"),
        line(2, "9900713", "400.00", qty=2),
        contract="DEMO-OPTIQUE",
    )
    amo, amc = run(req)
    assert amc is not None
    total = [a.benefit + m.benefit for a, m in zip(amo.decision.lines, amc.decision.lines, strict=True)]
    assert total == [euros("100.00"), euros("700.00")]
    assert [m.reste_a_charge for m in amc.decision.lines] == [euros("80.00"), euros("100.00")]


def test_optics_ceilings_are_configurable() -> None:
    req = request(line(1, "9900714", "180.00"), contract="DEMO-OPTIQUE")
    config = replace(CONFIG, optics_ceilings={"frame": euros("150.00")})
    _, amc = run(req, config=config)
    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("149.97")


def test_class_a_is_paid_in_full_up_to_its_plv() -> None:
    req = request(line(1, "7206130", "30.00"), line(2, "9900711", "32.50", qty=2), contract="DEMO-RESP-100")
    amo, amc = run(req)
    assert amc is not None
    assert [m.reste_a_charge for m in amc.decision.lines] == [euros("0.00"), euros("0.00")]
    assert (
        sum(a.benefit.amount for a in amo.decision.lines) + sum(m.benefit.amount for m in amc.decision.lines)
        == euros("95.00").amount
    )
