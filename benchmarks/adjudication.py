"""Adjudication benchmark: a 10-line claim through both reference payers, against parsing its Bundle.

Run with ``python -m benchmarks.adjudication [--runs N]``. The Bundle is written out here by hand
(Claim with ten items, Patient, Practitioner, DeviceRequest, three Organizations, two Coverages)
and the reimbursement request is the one the mappings read from it. Each run adjudicates with fresh
in-memory stores (so every run pays the same ten lines) and interleaves with a bare
``Bundle.model_validate_json`` of the same bytes, so that noise on a shared machine hits both
sides alike; medians are reported. Guard: adjudication stays under 25 % of the parse of the
same Bundle (the parse dominates every submit; adjudication is not where users wait, so no
readability is traded for more). The command exits 1 when the guard is broken; it is a
measurement, not a test, and no build runs it.

A third side, the *floor*, runs the least any engine producing this project's decisions does:
per line and payer, one tariff look-up, one multiplication, one ``Money``, one
``LineDecision`` and one note with two amounts in each language, then one ``PayerDecision``
per payer; no rule at all. It is not an engine; it shows how much of the target the result
objects alone take.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from adapter.domain import (
    AmcCoverage,
    AmcNumber,
    AmoCoverage,
    AmoOrganisme,
    Beneficiary,
    BillingProvider,
    BusinessIdentifier,
    ClaimType,
    ClaimUse,
    DateRange,
    Exoneration,
    Gender,
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
from adapter.domain.decision import LineDecision, Note, Outcome, PayerDecision, PayerKind
from adapter.domain.values import nir_key
from adapter.payers import InMemoryRecords, PayerPair, ReferencePayers
from adapter.rules import LppTable, load_contracts, load_lpp_table

PARIS = timezone(timedelta(hours=1))
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)
BASE = "https://adapter.example/fhir"
NIR13 = "1840175123456"  # synthetic
NIR = f"{NIR13}{nir_key(NIR13):02d}"
RPPS = "10000123454"  # synthetic, passes Luhn
SIRET = "12345678000121"  # synthetic, passes Luhn
DELIVERED = date(2026, 3, 2)

# (LPP code, unit price, quantity, rental weeks or 0)
ITEMS = [
    ("9900001", "150.00", 1, 0),
    ("1322065", "42.00", 2, 0),
    ("9900401", "15.00", 2, 0),
    ("9900402", "43.59", 1, 0),
    ("6285133", "1030.00", 1, 0),
    ("9900002", "1234.56", 1, 0),
    ("9900301", "28.00", 1, 0),
    ("1612544", "50.00", 1, 0),
    ("9900101", "950.00", 2, 0),
    ("1241763", "12.35", 4, 4),
]


def _line(sequence: int, code: str, price: str, quantity: int, weeks: int) -> Line:
    if weeks:
        end = DELIVERED + timedelta(weeks=weeks, days=-1)
        rental = DateRange(start=DELIVERED, end=end)
        return Line(
            sequence=sequence,
            lpp_code=LppCode(code),
            quantity=quantity,
            unit_price=Money.of(price),
            rental=rental,
        )
    return Line(
        sequence=sequence,
        lpp_code=LppCode(code),
        quantity=quantity,
        unit_price=Money.of(price),
        delivery_date=DELIVERED,
    )


def build_request() -> ReimbursementRequest:
    """The request the mappings read from :func:`build_bundle`."""
    nir = Nir(NIR)
    return ReimbursementRequest(
        submission=BusinessIdentifier(system="https://supplier.example/submissions", value="BENCH-1"),
        submitted_at=NOW,
        created=NOW,
        use=ClaimUse.CLAIM,
        claim_type=ClaimType.PROFESSIONAL,
        beneficiary=Beneficiary(nir=nir, birth_date=date(1984, 1, 15), gender=Gender.MALE),
        provider=BillingProvider(siret=Siret(SIRET), name="Fournisseur Démo"),
        amo=AmoCoverage(
            organisme=AmoOrganisme("011751234"),
            nature=NatureAssurance.MALADIE,
            exoneration=Exoneration.NONE,
            insured=nir,
            rights=DateRange(start=date(2026, 1, 1), end=date(2026, 12, 31)),
        ),
        lines=tuple(_line(i, *item) for i, item in enumerate(ITEMS, start=1)),
        prescription=Prescription(
            authored_on=date(2026, 2, 20), prescriber=Prescriber(rpps=Rpps(RPPS)), text="dispositifs"
        ),
        amc=AmcCoverage(amc_number=AmcNumber("DEMOAMC01"), member_id="M-1", contract_id="DEMO-RESP-150"),
    )


def _money(value: str) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def _item(sequence: int, code: str, price: str, quantity: int, weeks: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sequence": sequence,
        "productOrService": {"coding": [{"system": f"{BASE}/CodeSystem/lpp", "code": code}]},
        "quantity": {"value": quantity},
        "unitPrice": _money(price),
        "net": _money(str(Money.of(price).times(quantity).amount)),
    }
    if weeks:
        end = DELIVERED + timedelta(weeks=weeks, days=-1)
        item["servicedPeriod"] = {"start": DELIVERED.isoformat(), "end": end.isoformat()}
    else:
        item["servicedDate"] = DELIVERED.isoformat()
    return item


def build_bundle() -> bytes:
    """A submission Bundle following docs/conventions.md §2, written out by hand."""
    items = [_item(i, *item) for i, item in enumerate(ITEMS, start=1)]
    total = sum((Money.of(p).times(q).amount for _, p, q, _ in ITEMS), Money.zero().amount)
    coding = {"system": f"{BASE}/CodeSystem/coverage-class"}
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Claim",
            "id": "claim",
            "status": "active",
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}
                ]
            },
            "use": "claim",
            "patient": {"reference": "Patient/patient"},
            "created": NOW.isoformat(),
            "provider": {"reference": "Organization/supplier"},
            "priority": {"coding": [{"code": "normal"}]},
            "prescription": {"reference": "DeviceRequest/prescription"},
            "insurance": [
                {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/amo"}},
                {"sequence": 2, "focal": False, "coverage": {"reference": "Coverage/amc"}},
            ],
            "item": items,
            "total": {"value": float(total), "currency": "EUR"},
        },
        {
            "resourceType": "Patient",
            "id": "patient",
            "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": NIR}],
            "name": [{"family": "Démo", "given": ["Camille"]}],
            "gender": "male",
            "birthDate": "1984-01-15",
        },
        {
            "resourceType": "Practitioner",
            "id": "prescriber",
            "identifier": [{"system": "https://rpps.esante.gouv.fr", "value": RPPS}],
            "name": [{"family": "Prescriptrice", "given": ["Alex"]}],
        },
        {
            "resourceType": "DeviceRequest",
            "id": "prescription",
            "status": "active",
            "intent": "order",
            "codeCodeableConcept": {"text": "dispositifs"},
            "subject": {"reference": "Patient/patient"},
            "authoredOn": "2026-02-20",
            "requester": {"reference": "Practitioner/prescriber"},
        },
        {
            "resourceType": "Organization",
            "id": "supplier",
            "identifier": [{"system": "https://sirene.fr", "value": SIRET}],
            "name": "Fournisseur Démo",
        },
        {
            "resourceType": "Organization",
            "id": "cpam",
            "identifier": [{"system": f"{BASE}/NamingSystem/amo-organisme", "value": "011751234"}],
            "name": "CPAM démo",
        },
        {
            "resourceType": "Organization",
            "id": "mutuelle",
            "identifier": [{"system": f"{BASE}/NamingSystem/amc", "value": "DEMOAMC01"}],
            "name": "Mutuelle démo",
        },
        {
            "resourceType": "Coverage",
            "id": "amo",
            "status": "active",
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PUBLICPOL"}
                ]
            },
            "subscriberId": NIR,
            "beneficiary": {"reference": "Patient/patient"},
            "period": {"start": "2026-01-01", "end": "2026-12-31"},
            "payor": [{"reference": "Organization/cpam"}],
            "class": [
                {"type": {"coding": [{**coding, "code": "nature-assurance"}]}, "value": "10"},
                {"type": {"coding": [{**coding, "code": "exoneration"}]}, "value": "0"},
            ],
        },
        {
            "resourceType": "Coverage",
            "id": "amc",
            "status": "active",
            "type": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EHCPOL"}]
            },
            "subscriberId": "M-1",
            "beneficiary": {"reference": "Patient/patient"},
            "payor": [{"reference": "Organization/mutuelle"}],
            "order": 2,
            "class": [
                {
                    "type": {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"}
                        ]
                    },
                    "value": "DEMO-RESP-150",
                }
            ],
        },
    ]
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": "https://supplier.example/submissions", "value": "BENCH-1"},
        "type": "collection",
        "timestamp": NOW.isoformat(),
        "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
    return json.dumps(bundle, ensure_ascii=False).encode("utf-8")


def floor(request: ReimbursementRequest, table: LppTable) -> None:
    """The result objects of both payers with no rule applied (see the module docstring)."""
    for payer in (PayerKind.AMO, PayerKind.AMC):
        lines: list[LineDecision] = []
        notes: list[Note] = []
        for line in request.lines:
            entry = table.lookup(line.lpp_code, line.reference_date)
            tarif = entry.tarif if entry is not None else line.unit_price
            paid = Money._cents_exact(tarif.amount * line.quantity)
            lines.append(
                LineDecision(sequence=line.sequence, submitted=line.net, eligible=paid, benefit=paid)
            )
            notes.append(
                Note(
                    fr=f"Ligne {line.sequence} : {paid.fr()} ; {tarif.fr()}",
                    en=f"Line {line.sequence}: {paid.en()}; {tarif.en()}",
                )
            )
        PayerDecision(
            payer=payer,
            insurer="floor",
            created=NOW,
            outcome=Outcome.COMPLETE,
            disposition="floor",
            lines=tuple(lines),
            notes=tuple(notes),
        )


#: Adjudication must stay under this share of the parse of the same Bundle.
GUARD = 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    table, catalogue = load_lpp_table(), load_contracts()
    request, data = build_request(), build_bundle()

    reference = ReferencePayers(table=table, catalogue=catalogue)

    def payers() -> PayerPair:
        return reference.bind(InMemoryRecords())

    def adjudicate(pair: PayerPair) -> None:
        answer = pair.amo.adjudicate(request, now=NOW)
        pair.amc.adjudicate(request, answer.decision, now=NOW)

    answer = payers().amo.adjudicate(request, now=NOW)
    rejected = [line.sequence for line in answer.decision.lines if line.rejected]
    if rejected:  # the benchmark must measure ten paid lines
        raise SystemExit(f"lines {rejected} were rejected: fix the benchmark data")
    for _ in range(max(20, args.runs // 10)):
        adjudicate(payers())
        floor(request, table)
        Bundle.model_validate_json(data)

    parse_times: list[float] = []
    adjudication_times: list[float] = []
    floor_times: list[float] = []
    gc.disable()
    try:
        for _ in range(args.runs):
            fresh = payers()
            start = time.perf_counter()
            Bundle.model_validate_json(data)
            middle = time.perf_counter()
            adjudicate(fresh)
            end = time.perf_counter()
            Bundle.model_validate_json(data)  # the floor, too, runs after a parse
            before_floor = time.perf_counter()
            floor(request, table)
            after_floor = time.perf_counter()
            parse_times.append(middle - start)
            adjudication_times.append(end - middle)
            floor_times.append(after_floor - before_floor)
    finally:
        gc.enable()
    parse = statistics.median(parse_times) * 1000
    adjudication = statistics.median(adjudication_times) * 1000
    least = statistics.median(floor_times) * 1000
    print(f"Bundle of {len(ITEMS)} items, {len(data)} bytes, {args.runs} runs (medians)")
    print(f"  parse (Bundle.model_validate_json):  {parse:8.3f} ms")
    print(f"  adjudication (reference AMO + AMC):  {adjudication:8.3f} ms")
    held = adjudication / parse < GUARD
    verdict = "held" if held else "BROKEN"
    ratio = adjudication / parse
    print(f"  adjudication / parse:                {ratio:8.1%}  (guard < {GUARD:.0%}: {verdict})")
    print(f"  floor (result objects, no rules):    {least:8.3f} ms  ({least / parse:.1%} of the parse)")
    per_line = adjudication * 1000 / (len(ITEMS) * 2)
    print(f"  per line and payer:                  {per_line:8.1f} µs  (AMO and AMC, {len(ITEMS)} lines)")
    if not held:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
