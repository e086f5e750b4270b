"""Eligibility: what a beneficiary would be reimbursed for planned devices, before anything is billed.

A question (``EligibilityRequest``, read from a CoverageEligibilityRequest Bundle) and one answer
per payer (``EligibilityAnswer``, written as a CoverageEligibilityResponse). Asking consumes
nothing: no delivery history or forfait ledger is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from adapter.domain.decision import Note, PayerKind, Rejection
from adapter.domain.request import (
    AmcCoverage,
    AmoCoverage,
    Beneficiary,
    BillingProvider,
    BusinessIdentifier,
    DateRange,
    Prescription,
)
from adapter.domain.values import LppCode, Money

__all__ = [
    "Allowance",
    "EligibilityAnswer",
    "EligibilityItem",
    "EligibilityPurpose",
    "EligibilityRequest",
    "Forfait",
    "ItemEligibility",
]


class EligibilityPurpose(StrEnum):
    """CoverageEligibilityRequest.purpose (FHIR R4 ``eligibilityrequest-purpose``)."""

    AUTH_REQUIREMENTS = "auth-requirements"
    BENEFITS = "benefits"
    DISCOVERY = "discovery"
    VALIDATION = "validation"


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityItem:
    """A planned device: its LPP code, quantity and, when the supplier knows it, its unit price
    (without one, the device is assumed sold at its tariff)."""

    sequence: int
    lpp_code: LppCode
    quantity: int
    unit_price: Money | None = None

    def __post_init__(self) -> None:
        if self.sequence < 1 or self.quantity < 1:
            raise ValueError("an item's sequence and quantity are positive integers")


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityRequest:
    """Who asks, for whom, under which coverages, for which devices on which planned day.

    ``prescription`` is the DeviceRequest when the Bundle carries one (it decides the ALD
    taux and the prescription windows); without it the devices are checked as if prescribed
    on the planned day, outside the ALD part of the form.
    """

    identifier: BusinessIdentifier
    submitted_at: datetime
    created: datetime
    purposes: tuple[EligibilityPurpose, ...]
    serviced: date
    beneficiary: Beneficiary
    provider: BillingProvider
    amo: AmoCoverage
    items: tuple[EligibilityItem, ...] = ()
    amc: AmcCoverage | None = None
    prescription: Prescription | None = None

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None or self.created.tzinfo is None:
            raise ValueError("request times carry a time zone")
        if not self.purposes:
            raise ValueError("an eligibility request has at least one purpose")
        sequences = [item.sequence for item in self.items]
        if len(set(sequences)) != len(sequences):
            raise ValueError("item sequences are unique")


@dataclass(frozen=True, slots=True, kw_only=True)
class Forfait:
    """A yearly euro budget of a guarantee and what the beneficiary already used of it this year."""

    allowed: Money
    used: Money

    @property
    def remaining(self) -> Money:
        return (self.allowed - self.used).clamp_min_zero()


@dataclass(frozen=True, slots=True, kw_only=True)
class Allowance:
    """A limit in units and what the beneficiary already used of it: per ``months`` (a renewal
    period, around the planned day) or, when ``months`` is None, per calendar year."""

    allowed: int
    used: int
    months: int | None = None

    @property
    def remaining(self) -> int:
        return max(self.allowed - self.used, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemEligibility:
    """One payer's answer for one planned device.

    ``covered`` is False when this payer would pay nothing (``reasons`` say why); ``eligible``
    is the BR, ``benefit`` what this payer would pay, ``reste_a_charge`` what the patient would
    still pay after this payer (and the AMO before it); ``reasons`` are its refusals.
    ``forfait`` is a yearly euro budget, ``renewal`` and ``yearly`` are unit limits.
    """

    sequence: int
    lpp_code: LppCode
    covered: bool
    submitted: Money
    eligible: Money
    benefit: Money
    reste_a_charge: Money
    rate: Decimal | None = None
    accord_prealable: bool = False
    reasons: tuple[Rejection, ...] = ()
    forfait: Forfait | None = None
    renewal: Allowance | None = None
    yearly: Allowance | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityAnswer:
    """One payer's answer: rights on the planned day, the taux and why, and every item."""

    payer: PayerKind
    insurer: str
    created: datetime
    serviced: date
    rights_open: bool
    rights: DateRange | None = None
    disposition: str
    rate: Decimal | None = None
    basis: Note | None = None
    items: tuple[ItemEligibility, ...] = ()
    notes: tuple[Note, ...] = ()
