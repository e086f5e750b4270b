"""Builders for domain objects and submission Bundles used across tests (synthetic people)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any

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
    Finess,
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
)
from adapter.domain.values import nir_key
from mappings.fhir import jsonio
from mappings.inbound import to_bundle

PARIS = timezone(timedelta(hours=1))


def nir(body13: str) -> Nir:
    """A NIR with its computed key (synthetic)."""
    return Nir(f"{body13}{nir_key(body13):02d}")


PATIENT_NIR = nir("2840375123456")


def sample_request(**changes: Any) -> ReimbursementRequest:
    """A two-line purchase with an AMO and an AMC coverage; override any field by keyword."""
    fields: dict[str, Any] = {
        "submission": BusinessIdentifier(system="https://hospital.example/submissions", value="SUB-0001"),
        "submitted_at": datetime(2026, 3, 10, 9, 30, tzinfo=PARIS),
        "created": datetime(2026, 3, 10, 9, 0, tzinfo=PARIS),
        "use": ClaimUse.CLAIM,
        "claim_type": ClaimType.INSTITUTIONAL,
        "beneficiary": Beneficiary(nir=PATIENT_NIR, birth_date=date(1984, 3, 12), gender=Gender.FEMALE),
        "provider": BillingProvider(finess=Finess("750712184"), name="Hôpital Démo"),
        "amo": AmoCoverage(
            organisme=AmoOrganisme("011751234"),
            nature=NatureAssurance.MALADIE,
            exoneration=Exoneration.NONE,
            insured=PATIENT_NIR,
            rights=DateRange(start=date(2026, 1, 1), end=date(2026, 12, 31)),
        ),
        "lines": (
            Line(
                sequence=1,
                lpp_code=LppCode("9900001"),
                quantity=1,
                unit_price=Money.of("150.00"),
                delivery_date=date(2026, 3, 9),
            ),
            Line(
                sequence=2,
                lpp_code=LppCode("1241763"),
                quantity=4,
                unit_price=Money.of("12.35"),
                rental=DateRange(start=date(2026, 3, 9), end=date(2026, 4, 5)),
            ),
        ),
        "prescription": Prescription(
            authored_on=date(2026, 2, 20),
            prescriber=Prescriber(rpps=Rpps("10000123454")),
            lpp_code=LppCode("9900001"),
            quantity=1,
        ),
        "amc": AmcCoverage(amc_number=AmcNumber("75500001"), member_id="MBR-42", contract_id="DEMO-RESP-150"),
    }
    fields.update(changes)
    return ReimbursementRequest(**fields)


def sample_bundle(**changes: Any) -> dict[str, Any]:
    """``sample_request`` written as a FHIR-JSON Bundle dict (a fresh deep copy each call)."""
    return copy.deepcopy(to_bundle(sample_request(**changes)))


def as_bytes(bundle: dict[str, Any]) -> bytes:
    return jsonio.dumps(bundle)


def entry_of(bundle: dict[str, Any], resource_type: str, nth: int = 0) -> tuple[int, dict[str, Any]]:
    """(index, resource) of the nth entry of a type."""
    found = [
        (i, e["resource"])
        for i, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] == resource_type
    ]
    return found[nth]
