"""The AMC engine: coordination with the AMO, guarantees, floors, ceilings and rejections."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapter.domain import (
    ClaimUse,
    DateRange,
    LineDecision,
    LppCode,
    Outcome,
    PayerDecision,
    PayerKind,
    ReimbursementRequest,
)
from adapter.rules import (
    AmcResult,
    Contract,
    ContractCatalogue,
    Guarantee,
    GuaranteeKind,
    LedgerEntry,
    adjudicate_amc,
)
from tests.support.requests import NOW, PATIENT, euros, line, request
from tests.support.rules import CATALOGUE, TABLE, run


def with_contract(req: ReimbursementRequest, contract: Contract) -> AmcResult:
    """The AMC decision for ``req`` under a one-contract catalogue."""
    amo, _ = run(req)
    result = adjudicate_amc(
        req, amo.decision, catalogue=ContractCatalogue([contract]), table=TABLE, ledger=(), now=NOW
    )
    assert result is not None
    return result


def contract(kind: GuaranteeKind, *, responsable: bool, percent: int | None = None) -> Contract:
    """A one-guarantee contract under the request builder's default contract id."""
    guarantee = Guarantee(
        id="g", kind=kind, default=True, percent=Decimal(percent) if percent is not None else None
    )
    return Contract(id="DEMO-RESP-150", label="test", responsable=responsable, guarantees=(guarantee,))


def test_no_amc_coverage_computes_nothing() -> None:
    """Without an AMC coverage there is no AMC decision: the patient pays what the AMO does not."""
    _, amc = run(request(contract=None))

    assert amc is None


def test_unknown_contract_rejects_every_line() -> None:
    """A contract id missing from the catalogue rejects each line with amc-contract-unknown."""
    _, amc = run(request(line(1), line(2, code="9900402", price="43.59"), contract="NO-SUCH-PLAN"))

    assert amc is not None
    assert amc.decision.outcome is Outcome.ERROR
    assert [tuple(r.code for r in d.rejections) for d in amc.decision.lines] == [
        ("amc-contract-unknown",),
        ("amc-contract-unknown",),
    ]
    assert amc.decision.lines[0].reste_a_charge == euros("90.00")
    assert amc.decision.notes[0].en == "Contract NO-SUCH-PLAN unknown"


def test_lines_the_amo_rejected_get_nothing() -> None:
    """An AMO-rejected line is rejected by the AMC too and the patient pays its whole price."""
    _, amc = run(request(line(1), line(2, code="1234567", price="80.00")))

    assert amc is not None
    assert amc.decision.outcome is Outcome.PARTIAL
    second = amc.decision.line(2)
    assert [r.code for r in second.rejections] == ["amc-amo-rejected"]
    assert (second.benefit, second.reste_a_charge) == (euros("0"), euros("80.00"))


def test_closed_amc_rights_reject_the_line() -> None:
    """AMC rights closed on the delivery date reject the line with amc-rights-closed."""
    _, amc = run(request(amc_rights=DateRange(start=date(2025, 1, 1), end=date(2025, 12, 31))))

    assert amc is not None
    assert [r.code for r in amc.decision.lines[0].rejections] == ["amc-rights-closed"]
    assert amc.decision.lines[0].reste_a_charge == euros("90.00")


def test_line_without_guarantee_on_a_non_responsable_contract() -> None:
    """A hearing aid under a contract that guarantees none is rejected with amc-no-guarantee."""
    _, amc = run(request(line(code="9900103", price="1500.00"), contract="DEMO-TM-SEUL"))

    assert amc is not None
    assert [r.code for r in amc.decision.lines[0].rejections] == ["amc-no-guarantee"]
    assert amc.decision.lines[0].reste_a_charge == euros("1260.00")


def test_responsable_contract_without_guarantee_still_pays_the_ticket_moderateur() -> None:
    """A contrat responsable must cover the TM even where it lists no guarantee."""
    narrow = Contract(
        id="DEMO-RESP-150",
        label="test",
        responsable=True,
        guarantees=(
            Guarantee(id="g", kind=GuaranteeKind.FRAIS_REELS, codes=frozenset({LppCode("9900402")})),
        ),
    )

    result = with_contract(request(), narrow)

    assert result.decision.lines[0].benefit == euros("40.00")
    assert result.decision.lines[0].reste_a_charge == euros("50.00")


def test_responsable_floor_is_the_ticket_moderateur() -> None:
    """80 % BR incl. AMO caps at 20 €; a contrat responsable still pays the 40 € TM, another does not."""
    responsable = with_contract(
        request(), contract(GuaranteeKind.PERCENT_BR_INCL_AMO, responsable=True, percent=80)
    )
    other = with_contract(
        request(), contract(GuaranteeKind.PERCENT_BR_INCL_AMO, responsable=False, percent=80)
    )

    assert responsable.decision.lines[0].benefit == euros("40.00")
    assert other.decision.lines[0].benefit == euros("20.00")


def test_hundred_percent_sante_is_owed_by_responsable_contracts_only() -> None:
    """A classe I hearing aid at its PLV is fully covered by a contrat responsable, not by another."""
    aid = request(line(code="9900101", price="950.00"))

    responsable = with_contract(
        aid, contract(GuaranteeKind.PERCENT_BR_INCL_AMO, responsable=True, percent=100)
    )
    other = with_contract(aid, contract(GuaranteeKind.PERCENT_BR_INCL_AMO, responsable=False, percent=100))

    assert responsable.decision.lines[0].benefit == euros("710.00")
    assert other.decision.lines[0].benefit == euros("160.00")


def test_classe_ii_ceiling_of_1700_per_ear_including_amo() -> None:
    """Frais réels on a 2,500 € classe II aid: a contrat responsable stops at 1,700 − 240 per ear."""
    one_ear = request(line(code="9900103", price="2500.00"))
    two_ears = request(line(code="9900103", price="2500.00", qty=2))
    frais_reels = contract(GuaranteeKind.FRAIS_REELS, responsable=True)

    assert with_contract(one_ear, frais_reels).decision.lines[0].benefit == euros("1460.00")
    assert with_contract(two_ears, frais_reels).decision.lines[0].benefit == euros("2920.00")


def test_non_responsable_frais_reels_is_not_capped() -> None:
    """A non-responsable frais-réels contract pays the whole remaining cost of a classe II aid."""
    _, amc = run(request(line(code="9900103", price="2500.00"), contract="DEMO-FRAIS-REELS"))

    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("2260.00")
    assert amc.decision.lines[0].reste_a_charge == euros("0.00")


def test_guarantee_by_code_with_a_cap_per_unit() -> None:
    """The wheelchair guarantee (by code) pays frais réels capped at 1,000 € per unit."""
    chair = request(line(code="9900501", price="4500.00"), pre_auth=("AP-1",), contract="DEMO-FRAIS-REELS")

    amo, amc = run(chair)

    assert amc is not None
    assert amo.decision.lines[0].benefit == euros("2362.80")
    assert amc.decision.lines[0].benefit == euros("1000.00")
    assert amc.decision.lines[0].reste_a_charge == euros("1137.20")


def test_c2s_read_as_a_contract_pays_the_ticket_moderateur_of_a_classe_2_aid() -> None:
    """The demo C2S (a CSS Coverage without the class scheme) pays the TM: the former 800 €
    price limit for hearing aids is gone, so a classe II aid gets 160.00 at 800 € or 1,000 €."""
    _, within = run(request(line(code="9900103", price="800.00"), contract="DEMO-C2S"))
    _, above = run(request(line(code="9900103", price="1000.00"), contract="DEMO-C2S"))

    assert within is not None
    assert above is not None
    assert within.decision.lines[0].benefit == euros("160.00")
    assert within.decision.lines[0].reste_a_charge == euros("400.00")
    assert above.decision.lines[0].benefit == euros("160.00")
    assert above.decision.lines[0].reste_a_charge == euros("600.00")


def test_guarantee_within_its_renewal_period_pays_only_the_floor() -> None:
    """Hearing aids paid twice by the guarantee in 2024: in 2026 it pays only the 160 € TM."""
    used = LedgerEntry(
        nir=PATIENT,
        contract_id="DEMO-RESP-150",
        guarantee_id="hearing-aids",
        day=date(2024, 5, 1),
        consumed=euros("0"),
        units=2,
        submission="EARLIER",
    )

    _, amc = run(request(line(code="9900103", price="1500.00")), ledger=[used])

    assert amc is not None
    assert amc.decision.lines[0].benefit == euros("160.00")
    assert amc.ledger == ()
    assert "renouvellement non échu" in amc.decision.notes[1].fr


def test_renewal_guarantee_use_is_written_to_the_ledger() -> None:
    """A hearing aid paid by a guarantee with a renewal period leaves a ledger entry of its units."""
    _, amc = run(request(line(code="9900103", price="1500.00", qty=2)))

    assert amc is not None
    assert [(e.guarantee_id, e.units, e.consumed) for e in amc.ledger] == [("hearing-aids", 2, euros("0"))]


def test_amc_note_in_french_and_english() -> None:
    """Each AMC line explains the guarantee, the amount and the reste à charge in both languages."""
    _, amc = run(request())

    assert amc is not None
    assert amc.decision.notes[0].fr == "Contrat DEMO-RESP-150 (responsable)"
    assert amc.decision.notes[1].fr == (
        "Ligne 1 : mutuelle 150 % BR AMO comprise : 90,00 € ; reste à charge 0,00 €"
    )
    assert amc.decision.notes[1].en == (
        "Line 1: complementary 150% of BR incl. AMO: €90.00; out of pocket €0.00"
    )
    assert amc.decision.disposition == "AMC: 1 line adjudicated; AMC pays €90.00."
    assert (amc.decision.payer, amc.decision.insurer) == (PayerKind.AMC, "DEMOAMC01")


def test_predetermination_is_an_estimate_that_consumes_nothing() -> None:
    """A predetermination marks the AMC answer as an estimate and returns no ledger entry."""
    _, amc = run(request(contract="DEMO-RESP-FORFAIT", use=ClaimUse.PREDETERMINATION))

    assert amc is not None
    assert amc.decision.estimate is True
    assert amc.decision.lines[0].benefit == euros("90.00")
    assert amc.ledger == ()


def test_amo_decision_without_ticket_moderateur_is_completed_from_the_taux() -> None:
    """An AMO decision from another system that omits the TM is read through its taux."""
    req = request()
    amo = PayerDecision(
        payer=PayerKind.AMO,
        insurer="011751234",
        created=NOW,
        outcome=Outcome.COMPLETE,
        disposition="remote",
        lines=(
            LineDecision(
                sequence=1,
                submitted=euros("150.00"),
                eligible=euros("100.00"),
                benefit=euros("60.00"),
                rate=Decimal(60),
            ),
        ),
    )

    result = adjudicate_amc(req, amo, catalogue=CATALOGUE, table=TABLE, ledger=(), now=NOW)

    assert result is not None
    assert result.decision.lines[0].benefit == euros("90.00")
