"""The eligibility answers of the reference payers, in memory: the figures of the claim that
would follow, the rights, the taux and why, the allowances, and nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle

from adapter.domain import PayerKind
from adapter.domain.eligibility import EligibilityAnswer
from adapter.eligibility_flow import Assessed, EligibilityFlow
from adapter.flow import SubmitFlow
from adapter.intake import Format
from adapter.payers import InMemoryRecords, ReferencePayers
from adapter.payers.reference_eligibility import ReferenceEligibility
from tests.support.bundles import as_bytes, bundle
from tests.support.eligibility import ELIGIBILITY, EligibilityCase, eligibility_bundle

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PAYERS = ReferencePayers.load()
FLOW = EligibilityFlow(ReferenceEligibility(table=PAYERS.table, catalogue=PAYERS.catalogue))


def _ask(case: EligibilityCase | str, records: InMemoryRecords | None = None) -> Assessed:
    chosen = ELIGIBILITY[case] if isinstance(case, str) else case
    question = FLOW.read(as_bytes(eligibility_bundle(chosen)), Format.JSON)
    return FLOW.assess(question, records=records or InMemoryRecords(), now=NOW)


def _only(answer: EligibilityAnswer | None) -> tuple[Decimal, Decimal, Decimal]:
    assert answer is not None
    [item] = answer.items
    return item.eligible.amount, item.benefit.amount, item.reste_a_charge.amount


def test_worked_example_1_before_the_sale() -> None:
    """domain-fr §3.4 example 1, asked before the sale: BR 100.00, AMO 60 % = 60.00, the mutuelle
    90.00, nothing left to pay; the taux says why."""
    assessed = _ask("01-standard-benefits")
    assert assessed.amo.rights_open
    assert assessed.amo.rate == Decimal(60)
    assert assessed.amo.basis is not None
    assert assessed.amo.basis.en == "general case"
    assert _only(assessed.amo) == (Decimal("100.00"), Decimal("60.00"), Decimal("90.00"))
    assert _only(assessed.amc) == (Decimal("100.00"), Decimal("90.00"), Decimal("0.00"))
    assert assessed.outcome == "open"


def test_no_price_means_at_the_tariff_and_no_prescription_is_said() -> None:
    assessed = _ask("02-unpriced-at-tariff")
    [item] = assessed.amo.items
    assert item.submitted == item.eligible
    assert assessed.amc is None
    assert [note.en for note in assessed.amo.notes] == [
        "No prescription given: taken as prescribed on the planned day, outside the ALD part."
    ]


def test_an_ald_part_prescription_under_exoneration_4_is_paid_at_100() -> None:
    assessed = _ask("03-ald")
    assert assessed.amo.rate == Decimal(100)
    assert all(item.rate == Decimal(100) for item in assessed.amo.items)


def test_an_entente_prealable_is_said_not_refused() -> None:
    assessed = _ask("04-accord-prealable")
    [item] = assessed.amo.items
    assert item.accord_prealable
    assert item.covered
    assert item.renewal is not None
    assert (item.renewal.allowed, item.renewal.used, item.renewal.months) == (1, 0, 60)
    [written] = assessed.response["entry"][0]["resource"]["insurance"][0]["item"]
    assert written["authorizationRequired"] is True


def test_rights_closed_on_the_planned_day() -> None:
    assessed = _ask("06-rights-closed")
    assert not assessed.amo.rights_open
    assert assessed.outcome == "closed"
    amo = assessed.response["entry"][0]["resource"]
    assert amo["insurance"][0]["inforce"] is False
    assert "item" not in amo["insurance"][0]  # validation only: no figures asked


def test_the_renewal_already_used_comes_from_the_history_and_nothing_is_written() -> None:
    """One hearing aid delivered (10-hearing-aid-classe-1): asked again later the same year, the
    renewal allowance (2 per 48 months) shows 1 used and 1 left, the second ear is covered,
    and the records are untouched."""
    records = InMemoryRecords()
    flow = SubmitFlow(PAYERS)
    flow.adjudicate(
        flow.read(as_bytes(bundle("10-hearing-aid-classe-1")), Format.JSON), records=records, now=NOW
    )
    nir = flow.read(as_bytes(bundle("10-hearing-aid-classe-1")), Format.JSON).request.beneficiary.nir
    before = (list(records.history.deliveries(nir)), list(records.ledger.entries(nir)))
    case = EligibilityCase(
        name="renewal", description="", base="10-hearing-aid-classe-1", serviced=date(2026, 9, 1)
    )
    assessed = _ask(case, records)
    [item] = assessed.amo.items
    assert item.renewal is not None
    assert (item.renewal.allowed, item.renewal.used, item.renewal.remaining) == (2, 1, 1)
    assert item.covered
    assert (list(records.history.deliveries(nir)), list(records.ledger.entries(nir))) == before


@pytest.mark.parametrize("name", sorted(ELIGIBILITY))
def test_every_answer_is_valid_fhir(name: str) -> None:
    assessed = _ask(name)
    Bundle.model_validate(assessed.response)
    payers = [e["resource"]["insurer"]["identifier"]["value"] for e in assessed.response["entry"]]
    assert len(payers) == (1 if assessed.amc is None else 2)
    assert assessed.amo.payer is PayerKind.AMO
