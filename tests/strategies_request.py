"""Hypothesis strategies for valid internal reimbursement requests (synthetic people only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from adapter.domain import (
    Adeli,
    AmcCoverage,
    AmcNumber,
    AmoCoverage,
    AmoOrganisme,
    Beneficiary,
    BillerKind,
    BillingProvider,
    BusinessIdentifier,
    ClaimType,
    ClaimUse,
    DateRange,
    Ear,
    Exoneration,
    Finess,
    Gender,
    Gtin,
    Line,
    LppCode,
    Money,
    NatureAssurance,
    Nir,
    Prescriber,
    Prescription,
    ReimbursementRequest,
    Rpps,
    Siret,
)
from tests.support.identifiers import luhn_complete, nir

_DIGITS = "0123456789"


@st.composite
def nirs(draw: st.DrawFn) -> Nir:
    sex = draw(st.sampled_from("1278"))
    year = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    dept = draw(st.sampled_from(["75", "13", "2A", "2B", "69", "59", "01", "95"]))
    rest = draw(st.text(_DIGITS, min_size=6, max_size=6))
    body = f"{sex}{year:02d}{month:02d}{dept}{rest}"
    return Nir(nir(body))


finesses = st.text(_DIGITS, min_size=8, max_size=8).map(lambda p: Finess(luhn_complete(p)))
sirets = (
    st.text(_DIGITS, min_size=13, max_size=13)
    .filter(lambda p: not p.startswith("356000000"))
    .map(lambda p: Siret(luhn_complete(p)))
)
rpps = st.text(_DIGITS, min_size=11, max_size=11).map(Rpps)
adelis = st.text(_DIGITS, min_size=9, max_size=9).map(Adeli)
lpp_codes = st.text("0123456789ABCDEFGHJ", min_size=7, max_size=7).map(LppCode)


def _with_gtin_key(body: str) -> Gtin:
    total = sum(int(d) * (1 if i % 2 else 3) for i, d in enumerate(reversed(body)))
    return Gtin(body + str(-total % 10))


gtins = (
    st.sampled_from([7, 11, 12, 13])
    .flatmap(lambda n: st.text(_DIGITS, min_size=n, max_size=n))
    .map(_with_gtin_key)
)
device_categories = st.none() | st.sampled_from(["connected-device", "non-listed", "app-2"])
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
zones = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=2))])
moneys = st.decimals(min_value=Decimal(0), max_value=Decimal(5000), places=2).map(Money)
words = st.text("abcdefghijklmnopqrstuvwxyz ABCDEFGHÉÈ-", min_size=1, max_size=20).map(str.strip).filter(bool)
codes = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    day = draw(days)
    return datetime(
        day.year,
        day.month,
        day.day,
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
        tzinfo=draw(zones),
    )


@st.composite
def ranges(draw: st.DrawFn, open_end: bool = True) -> DateRange:
    start = draw(days)
    length = draw(st.none() if not open_end else st.none() | st.integers(0, 400))
    if not open_end:
        length = draw(st.integers(0, 400))
    return DateRange(start=start, end=None if length is None else start + timedelta(days=length))


@st.composite
def lines(draw: st.DrawFn, sequence: int) -> Line:
    rental = draw(st.booleans())
    product = draw(st.none() | gtins)
    return Line(
        sequence=sequence,
        lpp_code=draw(lpp_codes) if product is None else None,
        product=product,
        category=draw(device_categories),
        quantity=draw(st.integers(1, 60)),
        unit_price=draw(moneys),
        delivery_date=None if rental else draw(days),
        rental=draw(ranges()) if rental else None,
        ear=draw(st.none() | st.sampled_from(Ear)),
    )


@st.composite
def prescriptions(draw: st.DrawFn) -> Prescription:
    prescriber = Prescriber(rpps=draw(rpps)) if draw(st.booleans()) else Prescriber(adeli=draw(adelis))
    code = draw(st.none() | lpp_codes)
    return Prescription(
        authored_on=draw(days),
        prescriber=prescriber,
        lpp_code=code,
        text=draw(words) if code is None else draw(st.none() | words),
        ald=draw(st.booleans()),
        vision_change=draw(st.booleans()),
        quantity=draw(st.none() | st.integers(1, 400)),
        period=draw(st.none() | ranges()),
        identifier=draw(
            st.none() | st.builds(BusinessIdentifier, system=st.just("https://rx.example/ids"), value=codes)
        ),
    )


@st.composite
def requests(draw: st.DrawFn) -> ReimbursementRequest:
    nir = draw(nirs())
    count = draw(st.integers(1, 5))
    sequences = draw(st.lists(st.integers(1, 999), min_size=count, max_size=count, unique=True))
    finess = draw(st.none() | finesses)
    siret = draw(sirets) if finess is None else draw(st.none() | sirets)
    ame = draw(st.booleans())
    return ReimbursementRequest(
        submission=BusinessIdentifier(system="https://provider.example/submissions", value=draw(codes)),
        submitted_at=draw(moments()),
        created=draw(moments()),
        use=draw(st.sampled_from(ClaimUse)),
        claim_type=draw(st.sampled_from(ClaimType)),
        beneficiary=Beneficiary(
            nir=nir,
            birth_date=draw(st.none() | days),
            gender=draw(st.none() | st.sampled_from(Gender)),
        ),
        provider=BillingProvider(
            finess=finess,
            siret=siret,
            name=draw(st.none() | words),
            kind=draw(st.none() | st.sampled_from(BillerKind)),
        ),
        amo=AmoCoverage(
            organisme=AmoOrganisme(draw(st.text(_DIGITS, min_size=9, max_size=9))),
            nature=draw(st.sampled_from(NatureAssurance)),
            exoneration=draw(st.sampled_from(Exoneration)),
            insured=draw(st.just(nir) | nirs()),
            rights=draw(st.none() | ranges()),
            regime=draw(st.none() | st.sampled_from(["01", "02", "03"])),
            beneficiary_rank=draw(st.none() | st.sampled_from(["01", "02"])),
            pre_auth_refs=tuple(draw(st.lists(codes, max_size=2))),
            ame=ame,
        ),
        lines=tuple(draw(lines(sequence)) for sequence in sequences),
        prescription=draw(prescriptions()),
        amc=None
        if ame
        else draw(
            st.none()
            | st.builds(
                AmcCoverage,
                amc_number=st.text("0123456789ABC", min_size=1, max_size=10).map(AmcNumber),
                member_id=codes,
                contract_id=codes,
                rights=st.none() | ranges(),
                pre_auth_refs=st.lists(codes, max_size=1).map(tuple),
                css=st.booleans(),
            )
        ),
        tiers_payant=draw(st.booleans()),
        claim_identifier=draw(
            st.none() | st.builds(BusinessIdentifier, system=st.just("https://h.example/claims"), value=codes)
        ),
    )
