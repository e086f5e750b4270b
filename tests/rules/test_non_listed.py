"""Devices off the LPP: refused by the AMO with the reason, paid by a mutuelle's own guarantee."""

from __future__ import annotations

from datetime import date

import pytest

from adapter.domain import Gtin, Line, LppCode, Money
from adapter.errors import InvalidValueError
from adapter.rules import LedgerEntry, ReferenceDataFormatError, parse_contracts
from tests.support.requests import PATIENT, euros, line, request
from tests.support.rules import run

SCALE = "03760000010023"
BP_MONITOR = "03760000010016"


def device(seq: int = 1, gtin: str = SCALE, price: str = "120.00", category: str | None = None) -> Line:
    return Line(
        sequence=seq,
        lpp_code=None,
        product=Gtin(gtin),
        category=category,
        quantity=1,
        unit_price=Money.of(price),
        delivery_date=date(2026, 3, 2),
    )


def test_gtin_check_digit() -> None:
    assert Gtin(SCALE).value == SCALE
    with pytest.raises(InvalidValueError):
        Gtin("03760000010024")
    with pytest.raises(ValueError, match="exactly one"):
        Line(sequence=1, lpp_code=None, quantity=1, unit_price=Money.of(1), delivery_date=date(2026, 1, 1))


def test_the_amo_refuses_the_device_and_says_why() -> None:
    amo, _ = run(request(device(), contract="DEMO-CONNECTE"))
    rejection = amo.decision.lines[0].rejections[0]
    assert rejection.code == "amo-not-listed"
    assert "not on the LPP" in rejection.text
    assert "non inscrit sur la LPP" in amo.decision.notes[1].fr
    assert amo.findings == ()
    assert amo.deliveries == ()


def test_a_category_forfait_pays_and_is_consumed() -> None:
    spent = LedgerEntry(
        nir=PATIENT,
        contract_id="DEMO-CONNECTE",
        guarantee_id="connected-devices",
        day=date(2026, 1, 10),
        consumed=euros("100.00"),
        units=1,
        submission="EARLIER",
    )
    _, amc = run(request(device(category="connected-device"), contract="DEMO-CONNECTE"), ledger=[spent])
    assert amc is not None
    decision = amc.decision.lines[0]
    assert (decision.benefit, decision.reste_a_charge) == (euros("50.00"), euros("70.00"))
    assert [entry.consumed for entry in amc.ledger] == [euros("50.00")]
    assert "not reimbursed by the AMO" in amc.decision.notes[1].en


def test_no_category_means_non_listed_and_a_product_list_comes_first() -> None:
    _, amc = run(request(device(1), device(2, BP_MONITOR, "90.00"), contract="DEMO-CONNECTE"))
    assert amc is not None
    assert [line.benefit for line in amc.decision.lines] == [euros("120.00"), euros("45.00")]


def test_without_a_guarantee_the_mutuelle_refuses_too() -> None:
    _, amc = run(request(device(), line(2), contract="DEMO-RESP-150"))
    assert amc is not None
    assert [r.code for r in amc.decision.lines[0].rejections] == ["amc-no-guarantee"]
    assert amc.decision.lines[0].reste_a_charge == euros("120.00")
    assert not amc.decision.lines[1].rejected  # the listed line is paid as before


def test_a_non_listed_guarantee_never_covers_a_listed_code() -> None:
    catalogue = parse_contracts(
        """
version: 1
contracts:
  - id: ONLY-CONNECTED
    label: connected only
    responsable: false
    guarantees:
      - id: connected
        non_listed: true
        categories: [demo-device]
        kind: frais-reels
""",
        source="inline.yaml",
    )
    contract = catalogue.get("ONLY-CONNECTED")
    assert contract is not None
    assert catalogue.guarantee_for(contract, LppCode("9900001"), "demo-device") is None
    assert catalogue.non_listed_guarantee(contract, Gtin(SCALE), "demo-device") is not None


@pytest.mark.parametrize(
    ("guarantee", "problem"),
    [
        ("{id: g, products: ['03760000010023'], kind: frais-reels}", "needs 'non_listed: true'"),
        ("{id: g, non_listed: true, default: true, kind: frais-reels}", "never LPP codes or a default"),
        ("{id: g, non_listed: true, products: ['123'], kind: frais-reels}", "is not a GTIN"),
        (
            "{id: g, non_listed: true, products: ['03760000010023'], kind: percent-price}",
            "'percent' is required",
        ),
    ],
)
def test_the_loader_refuses_malformed_non_listed_guarantees(guarantee: str, problem: str) -> None:
    text = f"version: 1\ncontracts:\n  - {{id: C, label: c, responsable: false, guarantees: [{guarantee}]}}\n"
    with pytest.raises(ReferenceDataFormatError, match=problem):
        parse_contracts(text, source="inline.yaml")
