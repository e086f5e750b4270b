"""Telemonitoring: the majorations (demo codes) and the technical forfait at the exploitant's tier."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import MappingProxyType

from adapter.rules import RulesConfig
from tests.support.requests import SUPPLIER, euros, line, request
from tests.support.rules import run

FEBRUARY = (date(2026, 2, 1), date(2026, 2, 28))
TIERED = replace(
    RulesConfig(), technical_forfait_tariffs=MappingProxyType({SUPPLIER.identifier: euros("45.83")})
)


def test_operator_majoration_is_paid_at_60_percent() -> None:
    amo, _ = run(request(line(code="9900303", price="56.00", rental=FEBRUARY), authored=date(2026, 1, 20)))
    assert amo.decision.lines[0].benefit == euros("33.60")


def test_an_exploitant_at_a_lower_tier_is_paid_on_its_tariff() -> None:
    amo, amc = run(
        request(
            line(code="1612544", price="45.83", rental=FEBRUARY),
            authored=date(2026, 1, 20),
            contract="DEMO-RESP-100",
        ),
        config=TIERED,
    )
    decided = amo.decision.lines[0]
    assert (decided.eligible, decided.benefit) == (euros("45.83"), euros("27.50"))
    assert amc is not None
    assert amc.decision.lines[0].reste_a_charge == euros("0.00")


def test_billing_the_organisational_tariff_above_the_tier_is_refused() -> None:
    amo, _ = run(
        request(line(code="1612544", price="50.00", rental=FEBRUARY), authored=date(2026, 1, 20)),
        config=TIERED,
    )
    assert [r.code for r in amo.decision.lines[0].rejections] == ["price-above-plv"]
    untiered, _ = run(
        request(line(code="1612544", price="50.00", rental=FEBRUARY), authored=date(2026, 1, 20))
    )
    assert untiered.decision.lines[0].benefit == euros("30.00")
