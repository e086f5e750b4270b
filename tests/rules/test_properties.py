"""Properties of the two engines over generated requests (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.domain import Ear, Exoneration, Gtin, Line, LppCode, Money, NatureAssurance, ReimbursementRequest
from adapter.rules import Contract, ContractCatalogue, Guarantee, GuaranteeKind, RulesConfig, adjudicate_amc
from tests.support.requests import NOW, line, request
from tests.support.rules import CATALOGUE, TABLE, run

CODES = [
    "9900001",
    "9900002",
    "1322065",
    "9900402",
    "9900101",
    "9900103",
    "9900301",
    "1612544",
    "6285133",
    "7206130",
    "7206147",
    "1241763",
    "9900401",
    "9900601",
    "9900711",
    "9900712",
    "9900713",
    "9900714",
    "9900303",
    "9900611",
    "9900612",
    "9900801",
]
GTINS = ["03760000010016", "03760000010023", "03760000010030"]
"""Devices off the LPP: refused by the AMO, paid or not by a mutuelle's own guarantee."""
SITUATIONS = [
    (NatureAssurance.MALADIE, Exoneration.NONE, False, False),
    (NatureAssurance.MALADIE, Exoneration.ALD, True, False),
    (NatureAssurance.ALSACE_MOSELLE, Exoneration.NONE, False, False),
    (NatureAssurance.MALADIE, Exoneration.ASPA, False, False),
    (NatureAssurance.MATERNITE, Exoneration.NONE, False, False),
    (NatureAssurance.AT_MP, Exoneration.NONE, False, False),
    (NatureAssurance.MALADIE, Exoneration.NONE, False, True),
]
"""(nature, exonération, ALD prescription, AME)."""
CSS = "CSS"
"""A contract pool entry standing for the complémentaire santé solidaire (no contract)."""
prices = st.one_of(
    st.integers(min_value=0, max_value=300_000).map(Money.from_cents),
    st.sampled_from(
        ["0.05", "12.35", "28.00", "43.59", "50.00", "100.00", "150.00", "950.00", "1500.00"]
    ).map(Money.of),
)
quantities = st.sampled_from([1, 1, 1, 2, 3])


@st.composite
def lines(draw: st.DrawFn) -> tuple[Line, ...]:
    sequences = draw(st.lists(st.integers(1, 30), min_size=1, max_size=5, unique=True))
    return tuple(draw(one_line(seq)) for seq in sequences)


@st.composite
def one_line(draw: st.DrawFn, seq: int) -> Line:
    """A purchase (hearing aids with or without their ear), a rental across a tariff change,
    or (one line in ten) a device off the LPP."""
    day = date(2026, 2, 20) + timedelta(days=draw(st.integers(0, 18)))
    if draw(st.integers(0, 9)) == 0:
        return Line(
            sequence=seq,
            lpp_code=None,
            product=Gtin(draw(st.sampled_from(GTINS))),
            category=draw(st.sampled_from([None, "connected-device", "other"])),
            quantity=draw(quantities),
            unit_price=draw(prices),
            delivery_date=day,
        )
    code = draw(st.sampled_from(CODES))
    qty = draw(quantities)
    if code == "9900601":
        start = date(2026, 6, 1) + timedelta(days=draw(st.integers(0, 40)))
        return line(
            seq, code, str(draw(prices).amount), qty=qty, rental=(start, start + timedelta(weeks=qty))
        )
    return line(
        seq, code, str(draw(prices).amount), qty=qty, day=day, ear=draw(st.none() | st.sampled_from(Ear))
    )


@st.composite
def requests(draw: st.DrawFn, contracts: list[str | None] | None = None) -> ReimbursementRequest:
    nature, exoneration, ald, ame = draw(st.sampled_from(SITUATIONS))
    pool: list[str | None] = (
        contracts if contracts is not None else [*(c.id for c in CATALOGUE), None, "UNKNOWN", CSS]
    )
    contract = draw(st.sampled_from(pool))
    return request(
        *draw(lines()),
        nature=nature,
        exoneration=exoneration,
        ald=ald,
        contract=None if ame and contracts is None else contract,
        ame=ame and contracts is None,
        css=contract == CSS,
    )


@given(requests())
def test_amo_plus_amc_plus_reste_a_charge_is_the_price(req: ReimbursementRequest) -> None:
    """On every line, AMO + AMC + reste à charge = price, to the cent, and nothing is negative."""
    amo, amc = run(req)

    for amo_line in amo.decision.lines:
        price = req.line(amo_line.sequence).net
        assert Money.zero() <= amo_line.benefit <= price
        if amc is not None:
            amc_line = amc.decision.line(amo_line.sequence)
            assert amc_line.reste_a_charge is not None
            assert not amc_line.benefit.is_negative
            assert not amc_line.reste_a_charge.is_negative
            assert amo_line.benefit + amc_line.benefit + amc_line.reste_a_charge == price


@given(requests())
def test_amc_never_exceeds_what_the_amo_left(req: ReimbursementRequest) -> None:
    """The AMC pays at most price − AMO on each line."""
    amo, amc = run(req)

    if amc is not None:
        for amc_line in amc.decision.lines:
            amo_line = amo.decision.line(amc_line.sequence)
            assert amc_line.benefit <= amc_line.submitted - amo_line.benefit


@given(requests(contracts=[c.id for c in CATALOGUE if c.responsable]))
def test_contrat_responsable_pays_at_least_the_ticket_moderateur(req: ReimbursementRequest) -> None:
    """Under a contrat responsable, every line the AMO paid gets at least its ticket modérateur."""
    amo, amc = run(req)

    assert amc is not None
    for amo_line in amo.decision.lines:
        if not amo_line.rejected:
            assert amo_line.ticket_moderateur is not None
            assert amc.decision.line(amo_line.sequence).benefit >= amo_line.ticket_moderateur


@given(requests(), st.data())
def test_results_do_not_depend_on_line_order(req: ReimbursementRequest, data: st.DataObject) -> None:
    """Shuffling the Claim's items changes no decision, delivery record or ledger entry."""
    shuffled = request(
        *data.draw(st.permutations(req.lines)),
        nature=req.amo.nature,
        exoneration=req.amo.exoneration,
        ald=req.prescription.ald,
        contract=req.amc.contract_id if req.amc else None,
        ame=req.amo.ame,
        css=req.amc is not None and req.amc.css,
    )

    amo, amc = run(req)
    amo_shuffled, amc_shuffled = run(shuffled)

    assert amo.decision == amo_shuffled.decision
    assert amo.deliveries == amo_shuffled.deliveries
    assert [(f.code, f.sequence) for f in amo.findings] == [
        (f.code, f.sequence) for f in amo_shuffled.findings
    ]
    assert amc == amc_shuffled


def guarantee(kind: GuaranteeKind, amount: int, *, supplement: int = 0) -> Guarantee:
    """A default guarantee whose richness grows with ``amount`` (percent or yearly euros)."""
    percent_kinds = (
        GuaranteeKind.PERCENT_BR_INCL_AMO,
        GuaranteeKind.PERCENT_BR_EXCL_AMO,
        GuaranteeKind.PERCENT_PRICE,
    )
    return Guarantee(
        id="g",
        kind=kind,
        default=True,
        percent=Decimal(amount) if kind in percent_kinds else None,
        forfait_per_year=Money.of(amount) if kind is GuaranteeKind.FORFAIT else None,
        supplement_per_unit=Money.of(supplement)
        if supplement and kind is not GuaranteeKind.FORFAIT
        else None,
    )


def amc_benefits(req: ReimbursementRequest, chosen: Guarantee, responsable: bool) -> list[Money]:
    """The AMC amount of each line under a one-guarantee contract."""
    amo, _ = run(req)
    assert req.amc is not None
    catalogue = ContractCatalogue(
        [Contract(id=req.amc.contract_id, label="test", responsable=responsable, guarantees=(chosen,))]
    )
    result = adjudicate_amc(req, amo.decision, catalogue=catalogue, table=TABLE, ledger=(), now=NOW)
    assert result is not None
    return [decided.benefit for decided in result.decision.lines]


@given(
    requests(contracts=["RICHNESS"]),
    st.sampled_from(
        [
            GuaranteeKind.PERCENT_BR_INCL_AMO,
            GuaranteeKind.PERCENT_BR_EXCL_AMO,
            GuaranteeKind.FORFAIT,
            GuaranteeKind.PERCENT_PRICE,
        ]
    ),
    st.integers(0, 400),
    st.integers(0, 400),
    st.integers(0, 600),
    st.integers(0, 600),
    st.booleans(),
)
@settings(max_examples=150)
def test_a_richer_guarantee_never_pays_less(
    req: ReimbursementRequest,
    kind: GuaranteeKind,
    first: int,
    second: int,
    supplement_a: int,
    supplement_b: int,
    responsable: bool,
) -> None:
    """A higher percent, a larger forfait or a larger supplement never lowers the AMC amount."""
    low, high = sorted((first, second))
    small, large = sorted((supplement_a, supplement_b))

    poorer = amc_benefits(req, guarantee(kind, low, supplement=small), responsable)
    richer = amc_benefits(req, guarantee(kind, high, supplement=large), responsable)
    frais_reels = amc_benefits(req, guarantee(GuaranteeKind.FRAIS_REELS, 0), responsable)

    assert all(p <= r for p, r in zip(poorer, richer, strict=True))
    assert all(r <= f for r, f in zip(richer, frais_reels, strict=True))


@given(st.sampled_from(CODES), prices, st.integers(1, 3))
def test_ticket_moderateur_and_depassement_split_the_price(code: str, price: Money, qty: int) -> None:
    """On a paid line, AMO + TM = BR and BR + dépassement = price."""
    amo, _ = run(request(line(code=code, price=str(price.amount), qty=qty)))

    decided = amo.decision.lines[0]
    if not decided.rejected:
        assert decided.ticket_moderateur is not None
        assert decided.depassement is not None
        assert decided.benefit + decided.ticket_moderateur == decided.eligible
        assert decided.eligible + decided.depassement == decided.submitted
        highest = max(row.tarif.amount for row in TABLE.rows(LppCode(code)))
        assert decided.eligible <= Money(highest).times(qty)


@given(requests(contracts=["DEMO-OPTIQUE", "DEMO-RESP-100", "DEMO-RESP-150", "DEMO-FRAIS-REELS"]))
def test_contrat_responsable_optics_stay_between_floor_and_ceiling(req: ReimbursementRequest) -> None:
    """On a paid class B optics line, a contrat responsable brings AMO + AMC to at most the
    ceiling (or the ticket modérateur, if higher) and pays at least the floor (or what is left)."""
    amo, amc = run(req)
    assert amc is not None
    responsable = CATALOGUE.get(req.amc.contract_id if req.amc else "")
    assert responsable is not None
    config = RulesConfig()
    for amo_line in amo.decision.lines:
        source = req.line(amo_line.sequence)
        entry = TABLE.lookup(source.lpp_code, source.reference_date) if source.lpp_code else None
        if amo_line.rejected or entry is None or entry.optics_class is None or entry.sante100 != "B":
            continue
        amc_line = amc.decision.line(amo_line.sequence)
        if amc_line.rejected or not responsable.responsable:
            continue
        qty, tm = source.quantity, amo_line.ticket_moderateur or Money.zero()
        ceiling = config.optics_ceilings[entry.optics_class].times(qty)
        assert amo_line.benefit + amc_line.benefit <= max(ceiling, amo_line.benefit + tm)
        floor = config.optics_floors.get(entry.optics_class)
        if floor is not None:
            left = amo_line.submitted - amo_line.benefit
            assert amc_line.benefit >= min(floor.times(qty), left)
