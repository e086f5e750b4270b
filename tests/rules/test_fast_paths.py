"""The engines' fast paths give exactly what the plain computations give, and caches stay bounded.

Each fast path (Money rendering and arithmetic, the at-tariff cache of the AMO, the indexes of
the delivery log, the ledger and the contract catalogue) is checked against the straightforward
computation it replaces.
"""

from __future__ import annotations

import dataclasses
import gc
import inspect
import tracemalloc
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.domain import LineDecision, LppCode, Money, Note, PayerDecision, ReimbursementRequest
from adapter.domain.values import luhn_valid
from adapter.rules import (
    AmoRates,
    Contract,
    ContractCatalogue,
    Deduction,
    DeliveryRecord,
    Guarantee,
    GuaranteeKind,
    LedgerEntry,
    RulesConfig,
    Telemonitoring,
    adjudicate_amo,
)
from adapter.rules.dates import add_months
from adapter.rules.history import DeliveryLog
from adapter.rules.ledger import Ledger
from tests.support.requests import NOW, PATIENT, line, request
from tests.support.rules import CATALOGUE, TABLE, run

from .test_properties import requests

_FRENCH = str.maketrans({",": "\u202f", ".": ","})
cents = st.integers(min_value=-(10**15), max_value=10**15)


@given(cents)
def test_money_renders_as_the_format_spec_does(amount: int) -> None:
    """fr() and en() give what format(amount, ",.2f") gives, for any sign and size."""
    money = Money.from_cents(amount)
    sign = "-" if money.amount < 0 else ""

    assert f"{money.amount:,.2f} €".translate(_FRENCH) == money.fr()
    assert f"{sign}€{abs(money.amount):,.2f}" == money.en()


def test_money_built_around_another_exponent_renders_to_the_cent() -> None:
    """An amount with three decimals or none (only a hand-built Money holds one) still renders 2."""
    for amount in (Decimal("1234.560"), Decimal("5"), Decimal("-0.00"), Decimal("1E+3")):
        money = Money._cents_exact(amount)

        assert f"{money.amount:,.2f} €".translate(_FRENCH) == money.fr()
        assert f"{'-' if money.amount < 0 else ''}€{abs(money.amount):,.2f}" == money.en()


@given(cents, cents)
def test_money_sums_and_order_match_the_validated_constructor(a: int, b: int) -> None:
    """+ and − give the Money the validating constructor gives (never -0.00), ordering by amount."""
    x, y = Money.from_cents(a), Money.from_cents(b)

    assert str(Money(x.amount + y.amount).amount) == str((x + y).amount)
    assert str(Money(x.amount - y.amount).amount) == str((x - y).amount)
    assert str((x - x).amount) == "0.00"
    assert (x.amount < y.amount, x.amount <= y.amount) == (x < y, x <= y)
    assert (x.amount > y.amount, x.amount >= y.amount) == (x > y, x >= y)


@given(st.text("0123456789", min_size=1, max_size=20))
def test_luhn_matches_the_textbook_loop(digits: str) -> None:
    """The table-driven Luhn check agrees with doubling every second digit from the right."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value

    assert (total % 10 == 0) == luhn_valid(digits)


_INERT = Deduction(
    code="none-yet",
    label_fr="aucune",
    label_en="none",
    per_unit=Money.of("1.00"),
    valid_from=date(2999, 1, 1),
)


@given(requests())
def test_at_tariff_path_gives_what_the_general_path_gives(req: ReimbursementRequest) -> None:
    """A deduction that never applies forces the general path: decisions and notes are the same."""
    fast, _ = run(req)
    general, _ = run(req, config=RulesConfig(deductions=(_INERT,)))

    assert general.decision == fast.decision
    assert general.findings == fast.findings
    assert general.deliveries == fast.deliveries


def test_at_tariff_lines_keep_the_callers_rate_and_the_same_wording() -> None:
    """A taux of 60.0 after one of 60 keeps its own Decimal on the line; the notes read 60 % alike.

    Whatever the engine remembers between calls, the run answers what the general path (a
    deduction that never applies) computes afresh; the same holds the other way round.
    """
    req = request(line(1, "9900001", "150.00"), line(2, "1322065", "42.00", qty=2))
    run(req)
    warm, _ = run(req, config=RulesConfig(rates=AmoRates(standard=Decimal("60.0"))))
    cold, _ = run(req, config=RulesConfig(rates=AmoRates(standard=Decimal("60.0")), deductions=(_INERT,)))

    assert cold.decision == warm.decision
    assert [str(decision.rate) for decision in warm.decision.lines] == ["60.0", "60.0"]
    assert warm.decision.notes[2].fr == "Ligne 2 : BR 2 × 42,00 € = 84,00 € ; 84,00 € × 60 % = 50,40 €"

    plain, _ = run(req)
    fresh, _ = run(req, config=RulesConfig(deductions=(_INERT,)))

    assert fresh.decision == plain.decision
    assert [str(decision.rate) for decision in plain.decision.lines] == ["60", "60"]
    assert plain.decision.notes == warm.decision.notes


def _retained_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_at_tariff_memory_stays_bounded() -> None:
    """However many tariffs go through the AMO engine, what it keeps between calls stops growing.

    Each run pays two lines at a taux never seen before, so every line is a new (tariff,
    quantity, taux) combination. Within 20,000 of them (the engine keeps 4,096 today), a
    thousand runs in a row must leave the memory still allocated within 50 kB of where it was;
    an engine that kept every combination would hold about 2 MB more per thousand runs.
    """
    req = request(line(1, "9900001", "150.00"), line(2, "1322065", "42.00", qty=2))
    runs, settled, growth = 1000, 50_000, []
    tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        for first in range(1, 10 * runs, runs):
            before = _retained_bytes()
            for n in range(first, first + runs):
                rates = AmoRates(standard=Decimal(n).scaleb(-4))  # 0.0001 %, 0.0002 %...: all new
                amo = adjudicate_amo(req, table=TABLE, history=(), now=NOW, config=RulesConfig(rates=rates))
                assert not any(decision.rejected for decision in amo.decision.lines)
            growth.append(_retained_bytes() - before)
            if growth[-1] < settled:
                break
    finally:
        if not tracing:
            tracemalloc.stop()

    assert growth[-1] < settled, growth


codes = st.sampled_from(["9900001", "9900401", "9900101", "9900103", "1612544", "9900301", "0000000"])
days = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31))
records = st.builds(
    DeliveryRecord,
    nir=st.just(PATIENT),
    code=codes.map(LppCode),
    day=days,
    quantity=st.integers(1, 4),
    provider=st.sampled_from(["P1", "P2"]),
    submission=st.just("S"),
    prescription=st.sampled_from([None, "RX1", "RX2"]),
)


@given(st.lists(records, max_size=12), st.lists(records, max_size=4), days, codes)
def test_delivery_log_indexes_answer_as_a_scan_would(
    history: list[DeliveryRecord], added: list[DeliveryRecord], day: date, code: str
) -> None:
    """Duplicates, yearly and renewal units, forfait months and first deliveries match a plain scan."""
    log = DeliveryLog(history, TABLE)
    for record in added:
        log.add(record)
    everything = history + added
    group = TABLE.cap_group(LppCode(code))
    start, end = add_months(day, -12), add_months(day, 12)

    duplicate = any(r.code.value == code and r.day == day and r.provider == "P1" for r in everything)

    assert added == log.added
    assert duplicate == log.is_duplicate(LppCode(code), day, "P1")
    assert sum(
        r.quantity for r in everything if r.day.year == day.year and TABLE.cap_group(r.code) == group
    ) == log.units_in_year(group, day.year)
    assert sum(
        r.quantity for r in everything if start < r.day < end and TABLE.cap_group(r.code) == group
    ) == log.units_within(group, day, 12)
    for kind in Telemonitoring:
        months = {m for r in everything if TABLE.telemonitoring(r.code) is kind for m in r.months}
        asked = range(day.year * 12 + day.month - 1, day.year * 12 + day.month + 1)
        assert months == log.forfait_months(kind)
        assert bool(months.intersection(asked)) == log.forfait_billed(kind, asked)
    for prescription in ("RX1", "RX2"):
        assert any(r.prescription == prescription and r.day < day for r in everything) == (
            log.delivered_before(prescription, day)
        )


entries = st.builds(
    LedgerEntry,
    nir=st.just(PATIENT),
    contract_id=st.sampled_from(["C1", "C2"]),
    guarantee_id=st.sampled_from(["G1", "G2"]),
    day=days,
    consumed=st.integers(0, 10_000).map(Money.from_cents),
    units=st.integers(1, 3),
    submission=st.just("S"),
)


@given(st.lists(entries, max_size=12), st.lists(entries, max_size=4), days)
def test_ledger_index_answers_as_a_scan_would(
    stored: list[LedgerEntry], added: list[LedgerEntry], day: date
) -> None:
    """Consumed euros, remaining budget and units within a period match a plain scan."""
    ledger = Ledger(stored)
    for entry in added:
        ledger.add(entry)
    everything = stored + added
    start, end = add_months(day, -48), add_months(day, 48)
    budget = Money.of(50)

    assert added == ledger.added
    for contract in ("C1", "C2", "C3"):
        for guarantee in ("G1", "G2"):
            mine = [e for e in everything if e.contract_id == contract and e.guarantee_id == guarantee]
            consumed = sum((e.consumed.amount for e in mine if e.year == day.year), Decimal("0.00"))
            assert str(consumed) == str(ledger.consumed(contract, guarantee, day.year).amount)
            assert (budget - Money(consumed)).clamp_min_zero() == ledger.remaining(
                contract, guarantee, day.year, budget
            )
            assert sum(e.units for e in mine if start < e.day < end) == ledger.units_within(
                contract, guarantee, day, 48
            )


def test_catalogue_guarantee_index_agrees_with_the_contract() -> None:
    """For every demo contract, code and category, the catalogue's index picks the contract's choice."""
    categories = {entry.category for entry in TABLE} | {"", "unknown"}
    codes_ = {entry.code for entry in TABLE} | {LppCode("0000000")}
    checked = 0

    for contract in CATALOGUE:
        for code in codes_:
            for category in categories:
                assert contract.guarantee_for(code, category) is CATALOGUE.guarantee_for(
                    contract, code, category
                )
                checked += 1

    assert checked > 100


def test_catalogue_falls_back_for_a_contract_it_does_not_hold() -> None:
    """A contract from elsewhere, even under a known id, is asked directly rather than indexed."""
    contract = CATALOGUE.get("DEMO-FRAIS-REELS")
    assert contract is not None
    foreign = replace(contract, guarantees=contract.guarantees[1:])

    chosen = CATALOGUE.guarantee_for(foreign, LppCode("9900501"), "wheelchair")

    assert chosen is not None
    assert chosen.id == "devices"


def test_catalogue_index_keeps_the_first_match_of_each_kind() -> None:
    """With overlapping codes, categories and defaults, the first guarantee of each kind still wins."""
    a, b = LppCode("0000001"), LppCode("0000002")
    guarantees = (
        Guarantee(id="g1", kind=GuaranteeKind.FRAIS_REELS, codes=frozenset({a}), categories=frozenset({"x"})),
        Guarantee(
            id="g2",
            kind=GuaranteeKind.FRAIS_REELS,
            codes=frozenset({a, b}),
            categories=frozenset({"x", "y"}),
            default=True,
        ),
        Guarantee(id="g3", kind=GuaranteeKind.FRAIS_REELS, categories=frozenset({"y"}), default=True),
    )
    contract = Contract(
        id="OVERLAP", label="overlapping guarantees", responsable=False, guarantees=guarantees
    )
    catalogue = ContractCatalogue([contract])

    chosen = {
        (code.value, category): catalogue.guarantee_for(contract, code, category)
        for code in (a, b, LppCode("0000003"))
        for category in ("x", "y", "z")
    }

    assert chosen == {key: contract.guarantee_for(LppCode(key[0]), key[1]) for key in chosen}
    assert [g.id if g else None for g in chosen.values()] == ["g1"] * 3 + ["g2"] * 3 + ["g1", "g2", "g2"]


@pytest.mark.parametrize("cls", [Note, LineDecision, PayerDecision, DeliveryRecord])
def test_written_out_constructors_take_exactly_the_fields(cls: type) -> None:
    """The hand-written __init__ of a hot dataclass has its fields, defaults and keyword-only form."""
    parameters = list(inspect.signature(cls).parameters.values())

    assert [(p.name, p.default, p.kind) for p in parameters] == [
        (
            f.name,
            inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
            inspect.Parameter.KEYWORD_ONLY,
        )
        for f in dataclasses.fields(cls)
    ]
