"""The reference payers: the engines wired on reference data and in-memory stores."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapter.domain import ClaimUse, Outcome, PayerDecision, ReimbursementRequest
from adapter.payers import (
    AmcGateway,
    AmoAnswer,
    AmoGateway,
    InMemoryDeliveryHistory,
    InMemoryForfaitLedger,
    reference_payers,
)
from tests.support.requests import NOW, PATIENT, euros, line, request


def submit(
    amo: AmoGateway, amc: AmcGateway, req: ReimbursementRequest
) -> tuple[AmoAnswer, PayerDecision | None]:
    """Adjudicate through both gateways, the AMC on the AMO's decision."""
    answer = amo.adjudicate(req, now=NOW)
    return answer, amc.adjudicate(req, answer.decision, now=NOW)


def forfait_claim(day: date, *, use: ClaimUse = ClaimUse.CLAIM) -> ReimbursementRequest:
    """One 150 € line on the demo forfait contract (TM + 100 € a year)."""
    return request(line(day=day), contract="DEMO-RESP-FORFAIT", use=use, submission=f"SUB-{day}-{use}")


def test_reference_payers_default_to_the_demo_data() -> None:
    """Without paths, both payers run on the demo LPP table and contracts."""
    amo, amc = reference_payers()

    answer, decision = submit(amo, amc, request())

    assert answer.decision.lines[0].benefit == euros("60.00")
    assert decision is not None
    assert decision.lines[0].benefit == euros("90.00")
    assert amo.table.source == "lpp-demo.csv"
    assert amc.catalogue.source == "contracts-demo.yaml"


def test_reference_payers_read_the_given_paths(tmp_path: Path) -> None:
    """Paths (ADAPTER_LPP_TABLE, ADAPTER_AMC_CONTRACTS) replace the demo data."""
    table = tmp_path / "lpp.csv"
    table.write_text(
        "code,label,valid_from,tarif,category,kind,source\n"
        "9900001,Demo device (demo),2020-01-01,120.00,demo-device,individual,invented\n",
        encoding="utf-8",
    )
    contracts = tmp_path / "plans.yaml"
    contracts.write_text(
        "version: 1\ncontracts:\n  - id: DEMO-RESP-150\n    label: Plan\n    responsable: false\n"
        "    guarantees:\n      - id: g\n        default: true\n        kind: ticket-moderateur\n",
        encoding="utf-8",
    )

    amo, amc = reference_payers(lpp_table=table, contracts=contracts)
    answer, decision = submit(amo, amc, request())

    assert answer.decision.lines[0].benefit == euros("72.00")
    assert decision is not None
    assert decision.lines[0].benefit == euros("48.00")


def test_a_paid_claim_is_recorded_so_resubmitting_it_is_a_duplicate() -> None:
    """The AMO records what it paid: the same delivery submitted again is a blocking duplicate."""
    amo, amc = reference_payers()

    first, _ = submit(amo, amc, request(submission="SUB-1"))
    again, _ = submit(amo, amc, request(submission="SUB-2"))

    assert first.decision.outcome is Outcome.COMPLETE
    assert again.decision.outcome is Outcome.ERROR
    assert [f.code for f in again.findings] == ["duplicate-delivery"]
    assert [r.submission for r in amo.history.deliveries(PATIENT)] == ["SUB-1"]


def test_ledger_carries_the_forfait_across_claims() -> None:
    """Through the gateways, the yearly forfait is used up over three claims."""
    amo, amc = reference_payers()

    paid = [submit(amo, amc, forfait_claim(date(2026, 3, day)))[1] for day in (2, 3, 4)]

    assert [decision.lines[0].benefit if decision else None for decision in paid] == [
        euros("90.00"),
        euros("90.00"),
        euros("40.00"),
    ]
    assert [e.consumed for e in amc.ledger.entries(PATIENT)] == [euros("50.00"), euros("50.00")]


def test_predetermination_records_and_consumes_nothing() -> None:
    """Estimates leave the history and the ledger untouched, so the real claim is paid in full."""
    amo, amc = reference_payers()
    day = date(2026, 3, 2)

    estimate, estimated = submit(amo, amc, forfait_claim(day, use=ClaimUse.PREDETERMINATION))
    claim, paid = submit(amo, amc, forfait_claim(day))

    assert estimate.decision.estimate
    assert estimated is not None
    assert estimated.estimate
    assert claim.decision.outcome is Outcome.COMPLETE
    assert paid is not None
    assert paid.lines[0].benefit == euros("90.00")
    assert len(amo.history.deliveries(PATIENT)) == 1
    assert [e.consumed for e in amc.ledger.entries(PATIENT)] == [euros("50.00")]


def test_no_amc_coverage_returns_none() -> None:
    """The AMC gateway answers None for a request without an AMC coverage."""
    amo, amc = reference_payers()

    _, decision = submit(amo, amc, request(contract=None))

    assert decision is None


def test_gateways_write_to_the_stores_they_are_given() -> None:
    """Stores passed in are the ones written to (a database-backed store plugs in the same way)."""
    history, ledger = InMemoryDeliveryHistory(), InMemoryForfaitLedger()
    amo, amc = reference_payers(history=history, ledger=ledger)

    submit(amo, amc, forfait_claim(date(2026, 3, 2)))

    assert len(history.deliveries(PATIENT)) == 1
    assert len(ledger.entries(PATIENT)) == 1
