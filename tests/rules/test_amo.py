"""The AMO engine: amounts, tariffs by date, outcomes, notes, estimates and the deduction hook."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from adapter.domain import ClaimUse, NatureAssurance, Outcome, PayerKind
from adapter.rules import Deduction, RulesConfig
from tests.support.requests import NOW, PARIS, euros, line, request
from tests.support.rules import run


def test_amo_pays_br_times_taux_and_reports_tm_and_depassement() -> None:
    """BR 100 × 60 % = 60.00; TM = BR − AMO = 40.00; dépassement = price − BR = 50.00."""
    amo, _ = run(request(line(price="150.00")))

    decided = amo.decision.lines[0]
    assert (decided.submitted, decided.eligible, decided.benefit) == (
        euros("150.00"),
        euros("100.00"),
        euros("60.00"),
    )
    assert (decided.rate, decided.ticket_moderateur, decided.depassement) == (
        Decimal(60),
        euros("40.00"),
        euros("50.00"),
    )


def test_amo_rounds_to_the_cent() -> None:
    """43.59 € × 60 % = 26.154 € is paid as 26.15 €."""
    amo, _ = run(request(line(code="9900402", price="43.59")))

    assert amo.decision.lines[0].benefit == euros("26.15")


def test_half_cent_rounds_up() -> None:
    """A BR of 0.05 € at 90 % gives 0.045 €, paid as 0.05 € (half-up, not half-even)."""
    req = request(line(code="7206147", price="0.05"), nature=NatureAssurance.ALSACE_MOSELLE)

    amo, _ = run(req)

    assert amo.decision.lines[0].benefit == euros("0.05")


def test_br_is_limited_to_the_billed_price() -> None:
    """Billed below the tariff, the BR is the price: the AMO never pays more than was spent."""
    amo, _ = run(request(line(price="80.00")))

    decided = amo.decision.lines[0]
    assert (decided.eligible, decided.benefit, decided.depassement) == (
        euros("80.00"),
        euros("48.00"),
        euros("0.00"),
    )
    assert "BR limitée au prix facturé 80,00 €" in amo.decision.notes[1].fr


def test_tariff_in_force_on_the_delivery_date_applies() -> None:
    """The demo code's tariff was 90.00 until 2022 and 100.00 since: the delivery date chooses."""
    old = request(
        line(day=date(2022, 6, 1)),
        authored=date(2022, 5, 20),
        created=datetime(2022, 6, 10, 9, 0, tzinfo=PARIS),
    )

    amo_old, _ = run(old)
    amo_new, _ = run(request(line(day=date(2026, 3, 2))))

    assert amo_old.decision.lines[0].eligible == euros("90.00")
    assert amo_new.decision.lines[0].eligible == euros("100.00")


def test_rental_tariff_is_taken_on_the_first_day() -> None:
    """A rental's BR is the weekly tariff × weeks, taken on the rental start."""
    amo, _ = run(
        request(line(code="1241763", price="12.35", qty=2, rental=(date(2026, 3, 2), date(2026, 3, 15))))
    )

    assert amo.decision.lines[0].eligible == euros("24.70")
    assert amo.decision.notes[1].fr == "Ligne 1 : BR 2 × 12,35 € = 24,70 € ; 24,70 € × 60 % = 14,82 €"


def test_decision_header_fields() -> None:
    """The decision names the AMO organisme, the clock value given and a complete outcome."""
    amo, _ = run(request())

    decision = amo.decision
    assert (decision.payer, decision.insurer, decision.created) == (PayerKind.AMO, "011751234", NOW)
    assert decision.outcome is Outcome.COMPLETE
    assert decision.disposition == "AMO: 1 line adjudicated; AMO pays €60.00."
    assert decision.estimate is False
    assert decision.pre_auth_ref is None


def test_line_note_in_french_and_english() -> None:
    """Each paid line is explained as "BR 100,00 € × 60 % = 60,00 €" and its English twin."""
    amo, _ = run(request())

    note = amo.decision.notes[1]
    assert note.fr == "Ligne 1 : BR 100,00 € × 60 % = 60,00 €"
    assert note.en == "Line 1: BR €100.00 × 60% = €60.00"


def test_partial_and_error_outcomes() -> None:
    """One line rejected of two is partial; every line rejected is error, with nothing payable."""
    partial, _ = run(request(line(1), line(2, code="1234567")))
    error, _ = run(request(line(1, code="1234567")))

    assert partial.decision.outcome is Outcome.PARTIAL
    assert partial.decision.disposition == "AMO: 1 of 2 lines adjudicated, 1 rejected; AMO pays €60.00."
    assert error.decision.outcome is Outcome.ERROR
    assert error.decision.disposition == "AMO: no line could be adjudicated; nothing is payable."
    assert error.decision.lines[0].benefit == euros("0")


def test_claim_returns_the_deliveries_to_record() -> None:
    """A paid claim line becomes a delivery record; a rejected one does not."""
    amo, _ = run(request(line(1), line(2, code="1234567")))

    assert [(str(r.code), r.day, r.quantity) for r in amo.deliveries] == [("9900001", date(2026, 3, 2), 1)]


def test_predetermination_is_an_estimate_that_records_nothing() -> None:
    """A predetermination carries the same numbers, marked estimate, and returns no delivery."""
    amo, _ = run(request(use=ClaimUse.PREDETERMINATION))

    assert amo.decision.estimate is True
    assert amo.decision.lines[0].benefit == euros("60.00")
    assert amo.deliveries == ()
    assert amo.decision.disposition == "AMO estimate: 1 line adjudicated; AMO would pay €60.00."


def test_preauthorization_grants_a_stable_reference() -> None:
    """A preauthorization needs no accord, records nothing and returns the same reference each time."""
    req = request(line(code="9900501", price="3938.00"), use=ClaimUse.PREAUTHORIZATION)

    first, _ = run(req)
    again, _ = run(req)

    assert first.decision.lines[0].benefit == euros("2362.80")
    assert first.decision.pre_auth_ref is not None
    assert first.decision.pre_auth_ref.startswith("AP")
    assert first.decision.pre_auth_ref == again.decision.pre_auth_ref
    assert first.deliveries == ()


def test_no_deduction_applies_to_devices_by_default() -> None:
    """Without configuration, nothing is withheld: AMO = BR × taux exactly."""
    assert RulesConfig().deductions == ()
    amo, _ = run(request())

    assert amo.decision.lines[0].benefit == euros("60.00")


def test_a_dated_deduction_is_withheld_and_not_refunded_by_the_amc() -> None:
    """A franchise configured from a date is withheld per unit and stays with the patient."""
    franchise = Deduction(
        code="franchise-lpp",
        label_fr="franchise",
        label_en="deductible",
        per_unit=euros("1.00"),
        valid_from=date(2026, 1, 1),
    )
    config = RulesConfig(deductions=(franchise,))

    amo, amc = run(request(line(qty=2, price="150.00"), contract="DEMO-FRAIS-REELS"), config=config)

    assert amc is not None
    assert amo.decision.lines[0].benefit == euros("118.00")
    assert amc.decision.lines[0].benefit == euros("180.00")
    assert amc.decision.lines[0].reste_a_charge == euros("2.00")
    assert "− retenue 2,00 € = 118,00 €" in amo.decision.notes[1].fr


def test_deduction_respects_dates_titres_and_line_cap() -> None:
    """A deduction applies only from its date, to its titres, and up to its cap per line."""
    franchise = Deduction(
        code="franchise-lpp",
        label_fr="franchise",
        label_en="deductible",
        per_unit=euros("1.00"),
        valid_from=date(2027, 1, 1),
        titres=frozenset({"I"}),
        max_per_line=euros("1.50"),
    )

    assert franchise.amount(day=date(2026, 12, 31), titre="I", quantity=3) == euros("0")
    assert franchise.amount(day=date(2027, 1, 1), titre="II", quantity=3) == euros("0")
    assert franchise.amount(day=date(2027, 1, 1), titre="I", quantity=3) == euros("1.50")
    assert franchise.amount(day=date(2027, 1, 1), titre="I", quantity=1) == euros("1.00")
