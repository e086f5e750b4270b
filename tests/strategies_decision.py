"""Hypothesis strategies for payer decisions and findings, with a minimal matching request.

Decisions follow the domain's arithmetic (AMO = BR × taux, TM = BR − AMO, dépassement =
price − BR, AMC ≤ what the AMO leaves, RAC = the rest) so they read like real answers,
while still covering the optional parts: missing categories, rejected lines, notes,
estimates, prior-agreement references. Identifiers are synthetic (valid NIR keys and
Luhn keys); times carry fixed UTC offsets, which is what a ClaimResponse can carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from adapter.domain.decision import (
    Finding,
    LineDecision,
    Note,
    Outcome,
    PayerDecision,
    PayerKind,
    Rejection,
)
from adapter.domain.request import (
    AmcCoverage,
    AmoCoverage,
    Beneficiary,
    BillingProvider,
    BusinessIdentifier,
    ClaimType,
    ClaimUse,
    Exoneration,
    Line,
    NatureAssurance,
    Prescriber,
    Prescription,
    ReimbursementRequest,
)
from adapter.domain.values import (
    AmcNumber,
    AmoOrganisme,
    Finess,
    LppCode,
    Money,
    Nir,
    Rpps,
    Siret,
)
from tests.support.identifiers import luhn_complete, nir

__all__ = [
    "Submission",
    "amc_decisions",
    "amo_decisions",
    "findings",
    "nirs",
    "requests",
    "submissions",
    "texts",
]

_OFFSETS = (
    UTC,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-3)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-9, minutes=-30)),
)
_DEPARTEMENTS = ("01", "13", "2A", "2B", "33", "59", "69", "75", "97")
_ERROR_CODES = (
    "lpp-code-generic",
    "coverage-rights-closed",
    "prior-agreement-missing",
    "quantity-cap-exceeded",
    "prescription-expired",
    "duplicate-line",
)

_FHIR_STRING_CHAR = re.compile(r"[ \r\n\t\S]")

#: Human text as FHIR strings allow it: no control characters but newlines, and not only
#: Unicode spaces (which fhir.resources's string pattern refuses).
texts = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n"),
    min_size=1,
    max_size=40,
).filter(_FHIR_STRING_CHAR.search)
_codes = st.one_of(
    st.sampled_from(_ERROR_CODES),
    st.from_regex(r"[a-z]{2,8}(-[a-z]{2,8}){0,2}", fullmatch=True),
)
_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds are naive by Hypothesis's API
    max_value=datetime(2099, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from(_OFFSETS),
)
_rates = st.one_of(
    st.sampled_from([Decimal(60), Decimal(100), Decimal(90), Decimal(80), Decimal("60.0")]),
    st.decimals(min_value=0, max_value=100, places=2),
)


def _cents(low: int = 0, high: int = 500_000) -> st.SearchStrategy[Money]:
    return st.integers(low, high).map(Money.from_cents)


@st.composite
def nirs(draw: st.DrawFn) -> Nir:
    """A synthetic NIR with a valid key (Corsican départements included)."""
    body = (
        draw(st.sampled_from("12"))
        + f"{draw(st.integers(0, 99)):02d}"
        + f"{draw(st.integers(1, 12)):02d}"
        + draw(st.sampled_from(_DEPARTEMENTS))
        + f"{draw(st.integers(1, 999)):03d}"
        + f"{draw(st.integers(1, 999)):03d}"
    )
    return Nir(nir(body))


@st.composite
def _sirets(draw: st.DrawFn) -> Siret:
    stem = f"{draw(st.integers(100_000_000_000, 355_999_999_999)):013d}"
    return Siret(luhn_complete(stem))


_providers = st.one_of(
    st.builds(BillingProvider, finess=st.from_regex(r"[0-9]{9}", fullmatch=True).map(Finess)),
    st.builds(BillingProvider, siret=_sirets()),
)
_identifiers = st.builds(
    BusinessIdentifier,
    system=st.sampled_from(["https://hospital.example/submissions", "urn:oid:1.2.3.4"]),
    value=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}", fullmatch=True),
)


@st.composite
def _lines(draw: st.DrawFn) -> tuple[Line, ...]:
    sequences = draw(st.lists(st.integers(1, 99), min_size=1, max_size=4, unique=True))
    return tuple(
        Line(
            sequence=sequence,
            lpp_code=LppCode(draw(st.from_regex(r"[0-9]{7}", fullmatch=True))),
            quantity=draw(st.integers(1, 10)),
            unit_price=draw(_cents(0, 200_000)),
            delivery_date=draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        )
        for sequence in sequences
    )


@st.composite
def requests(draw: st.DrawFn, *, with_amc: bool | None = None) -> ReimbursementRequest:
    """A minimal valid request: only what the response mapping reads is varied."""
    nir = draw(nirs())
    amc = draw(st.booleans()) if with_amc is None else with_amc
    created = draw(_datetimes)
    lines = draw(_lines())
    return ReimbursementRequest(
        submission=draw(_identifiers),
        submitted_at=created,
        created=created,
        use=draw(st.sampled_from(ClaimUse)),
        claim_type=draw(st.sampled_from(ClaimType)),
        beneficiary=Beneficiary(nir=nir),
        provider=draw(_providers),
        amo=AmoCoverage(
            organisme=AmoOrganisme(draw(st.from_regex(r"[0-9]{9}", fullmatch=True))),
            nature=NatureAssurance.MALADIE,
            exoneration=Exoneration.NONE,
            insured=nir,
        ),
        lines=lines,
        prescription=Prescription(
            authored_on=date(2020, 1, 1),
            prescriber=Prescriber(rpps=Rpps("10101201234")),
            lpp_code=lines[0].lpp_code,
        ),
        amc=(
            AmcCoverage(
                amc_number=AmcNumber(draw(st.from_regex(r"[0-9A-Z]{1,10}", fullmatch=True))),
                member_id="M-0001",
                contract_id="DEMO-150",
            )
            if amc
            else None
        ),
        tiers_payant=draw(st.booleans()),
        claim_identifier=draw(st.none() | _identifiers),
    )


def _outcome(lines: tuple[LineDecision, ...]) -> Outcome:
    rejected = sum(line.rejected for line in lines)
    if rejected == len(lines):
        return Outcome.ERROR
    return Outcome.PARTIAL if rejected else Outcome.COMPLETE


@st.composite
def _notes(draw: st.DrawFn) -> tuple[Note, ...]:
    return tuple(draw(st.lists(st.builds(Note, fr=texts, en=texts), max_size=2)))


@st.composite
def _rejections(draw: st.DrawFn) -> tuple[Rejection, ...]:
    rejections = st.builds(Rejection, code=_codes, text=st.one_of(st.just(""), texts))
    return tuple(draw(st.lists(rejections, min_size=1, max_size=3)))


def _decision(
    draw: st.DrawFn,
    request: ReimbursementRequest,
    payer: PayerKind,
    insurer: str,
    lines: tuple[LineDecision, ...],
) -> PayerDecision:
    return PayerDecision(
        payer=payer,
        insurer=insurer,
        created=draw(_datetimes),
        outcome=_outcome(lines),
        disposition=draw(st.one_of(st.just(""), texts)),
        lines=lines,
        notes=draw(_notes()),
        estimate=request.use is ClaimUse.PREDETERMINATION,
        pre_auth_ref=draw(st.none() | st.from_regex(r"EP-[0-9]{6}", fullmatch=True)),
    )


@st.composite
def amo_decisions(draw: st.DrawFn, request: ReimbursementRequest) -> PayerDecision:
    """The AMO's decision on ``request``: BR × quantity, taux, TM and dépassement per line."""
    lines: list[LineDecision] = []
    for line in request.lines:
        eligible = draw(_cents(0, 100_000)).times(line.quantity)
        rate = draw(_rates)
        rejections = draw(st.one_of(st.just(()), _rejections()))
        benefit = Money.zero() if rejections else eligible.percent(rate)
        lines.append(
            LineDecision(
                sequence=line.sequence,
                submitted=line.net,
                eligible=eligible,
                benefit=benefit,
                rate=rate,
                ticket_moderateur=draw(st.sampled_from([eligible - benefit, None])),
                depassement=draw(st.sampled_from([(line.net - eligible).clamp_min_zero(), None])),
                rejections=rejections,
            )
        )
    return _decision(draw, request, PayerKind.AMO, request.amo.organisme.value, tuple(lines))


@st.composite
def amc_decisions(draw: st.DrawFn, request: ReimbursementRequest, amo: PayerDecision) -> PayerDecision:
    """The AMC's decision after ``amo``: at most what the AMO leaves, the rest as RAC."""
    if request.amc is None:
        raise ValueError("an AMC decision needs a request with an AMC coverage")
    lines: list[LineDecision] = []
    for amo_line in amo.lines:
        remaining = (amo_line.submitted - amo_line.benefit).clamp_min_zero()
        rejections = draw(st.one_of(st.just(()), _rejections()))
        benefit = Money.zero() if rejections else draw(_cents(0, remaining.cents))
        lines.append(
            LineDecision(
                sequence=amo_line.sequence,
                submitted=amo_line.submitted,
                eligible=amo_line.eligible,
                benefit=benefit,
                reste_a_charge=draw(st.sampled_from([remaining - benefit, None])),
                rejections=rejections,
            )
        )
    return _decision(draw, request, PayerKind.AMC, request.amc.amc_number.value, tuple(lines))


@st.composite
def findings(draw: st.DrawFn, request: ReimbursementRequest) -> Finding:
    """An integrity finding, blocking or not, about the request or one of its lines."""
    return Finding(
        code=draw(_codes),
        text=draw(st.one_of(st.just(""), texts)),
        expression=draw(st.none() | st.just("Bundle.entry[0].resource.item[0]") | texts),
        blocking=draw(st.booleans()),
        sequence=draw(st.none() | st.sampled_from([line.sequence for line in request.lines])),
    )


@dataclass(frozen=True, slots=True)
class Submission:
    """What ``to_claim_responses`` takes: a request, both decisions and the findings."""

    request: ReimbursementRequest
    amo: PayerDecision
    amc: PayerDecision | None
    findings: tuple[Finding, ...]


@st.composite
def submissions(draw: st.DrawFn, *, with_amc: bool | None = None) -> Submission:
    """A request with its AMO decision, an AMC decision when it has an AMC, and findings."""
    request = draw(requests(with_amc=with_amc))
    amo = draw(amo_decisions(request))
    amc = draw(amc_decisions(request, amo)) if request.amc is not None else None
    found = tuple(draw(st.lists(findings(request), max_size=3)))
    return Submission(request=request, amo=amo, amc=amc, findings=found)
