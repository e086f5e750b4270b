"""The internal reimbursement request: what a submission means, free of FHIR.

Built by ``mappings.inbound.from_bundle`` from a validated Bundle and read by the payers. It keeps
only what adjudication, integrity checks and the response need (Tolerant Reader); every
field survives ``mappings.inbound.to_bundle`` → ``mappings.inbound.from_bundle`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from adapter.domain.values import (
    Adeli,
    AmcNumber,
    AmoOrganisme,
    Finess,
    ForeignId,
    Gtin,
    LppCode,
    Money,
    Nir,
    Rpps,
    Siret,
)

__all__ = [
    "AmcCoverage",
    "AmoCoverage",
    "Beneficiary",
    "BillerKind",
    "BillingProvider",
    "BusinessIdentifier",
    "CardKind",
    "ClaimType",
    "ClaimUse",
    "DateRange",
    "Ear",
    "Exoneration",
    "ForeignCard",
    "Gender",
    "Line",
    "NatureAssurance",
    "Prescriber",
    "Prescription",
    "ReimbursementRequest",
]


class ClaimUse(StrEnum):
    """Claim.use: bill, estimate (nothing payable or consumed), or ask for an accord préalable."""

    CLAIM = "claim"
    PREDETERMINATION = "predetermination"
    PREAUTHORIZATION = "preauthorization"


class ClaimType(StrEnum):
    """Claim.type: hospital (institutional) or community supplier (professional)."""

    INSTITUTIONAL = "institutional"
    PROFESSIONAL = "professional"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class IdentityKind(StrEnum):
    """Which national number identifies the beneficiary: the definitive NIR, or the INS-NIA,
    the provisional number (constituted like a NIR, key included) a person born abroad gets
    while the definitive one is attributed. Both key the history alike."""

    NIR = "nir"
    NIA = "nia"
    EHIC = "ehic"
    S1 = "s1"


class CardKind(StrEnum):
    """The document that opens French AMO rights to a person insured in another EU/EEA state or
    Switzerland: the European Health Insurance Card (CEAM) for a stay, the S1 form for a person
    who lives in France (a pensioner, a posted or frontier worker and their family)."""

    EHIC = "ehic"
    S1 = "s1"


@dataclass(frozen=True, slots=True, kw_only=True)
class ForeignCard:
    """The CEAM or S1 carried on the AMO Coverage: the document's number, the competent
    institution (``CC:number``) that reimburses the French caisse, and the last day it is valid
    (an S1 may be open-ended)."""

    kind: CardKind
    number: str = field(repr=False)
    institution: ForeignId
    expiry: date | None = None


class NatureAssurance(StrEnum):
    """B2 field 0277: the insurance branch that pays."""

    MALADIE = "10"
    ALSACE_MOSELLE = "13"
    MATERNITE = "30"
    AT_MP = "41"
    PREVENTION = "90"


class BillerKind(StrEnum):
    """Who bills, when the provider says so (Organization.type): it sets the billing deadline.

    Health establishments have one year (L.162-25 CSS), the others two (L.332-1 CSS).
    """

    ESTABLISHMENT = "establishment"
    SUPPLIER = "supplier"
    PHARMACIST = "pharmacist"
    PROFESSIONAL = "professional"


class Ear(StrEnum):
    """The ear a per-ear device (a hearing aid) is fitted to: Claim.item.bodySite."""

    LEFT = "left"
    RIGHT = "right"


class Exoneration(StrEnum):
    """B2 field 0279: why the ticket modérateur is waived ("0" = not waived)."""

    NONE = "0"
    HEAVY_ACT = "1"
    PARTICULAR_CARE = "3"
    ALD = "4"
    EXONERATED_INSURED = "5"
    SPECIAL_REGIME = "6"
    PREVENTION = "7"
    ASPA = "9"
    CCAM_THRESHOLD = "C"


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessIdentifier:
    """An Identifier reduced to system + value (the idempotency key is one)."""

    system: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DateRange:
    """An inclusive date range; ``end`` may be open."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError("a date range cannot end before it starts")

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True, kw_only=True)
class Beneficiary:
    """The patient who receives the device (Patient resource)."""

    nir: Nir
    birth_date: date | None = None
    gender: Gender | None = None
    identity: IdentityKind | None = None
    """``NIA`` when ``nir`` is an INS-NIA; ``EHIC``/``S1`` for a card holder, whose ``nir`` is
    then the key derived from ``foreign_id``; None for a NIR (the default, left out of the JSON view)."""
    foreign_id: ForeignId | None = None
    """A CEAM/S1 holder's personal identification number (``CC:number``), the Patient's identifier."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prescriber:
    """The prescriber, identified by RPPS or (for some professions) ADELI."""

    rpps: Rpps | None = None
    adeli: Adeli | None = None

    def __post_init__(self) -> None:
        if (self.rpps is None) == (self.adeli is None):
            raise ValueError("a prescriber has exactly one of RPPS or ADELI")

    @property
    def identifier(self) -> str:
        return str(self.rpps or self.adeli)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prescription:
    """The device prescription (DeviceRequest).

    ``ald`` is True when the prescription sits in the ALD part of the bizone form: only then
    does an ALD exonération apply. ``vision_change`` is True for an optics prescription made
    for a change of sight (a shorter optics renewal interval). ``quantity`` is the prescribed
    quantity if stated and ``period`` the covered period ("à renouveler" prescriptions).
    """

    authored_on: date
    prescriber: Prescriber
    lpp_code: LppCode | None = None
    text: str | None = None
    ald: bool = False
    vision_change: bool = False
    quantity: int | None = None
    period: DateRange | None = None
    identifier: BusinessIdentifier | None = None

    def __post_init__(self) -> None:
        if self.lpp_code is None and self.text is None:
            raise ValueError("a prescription names its device: an LPP code or a text")
        if self.quantity is not None and self.quantity < 1:
            raise ValueError("a prescribed quantity is a positive integer")


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingProvider:
    """The billing facility or supplier: FINESS (hospital) and/or SIRET (supplier).

    ``kind`` is the biller's kind when the provider states it (Organization.type); the rules
    infer it from the identifiers otherwise (``adapter.rules.billing_deadline``).
    """

    finess: Finess | None = None
    siret: Siret | None = None
    name: str | None = None
    kind: BillerKind | None = None

    def __post_init__(self) -> None:
        if self.finess is None and self.siret is None:
            raise ValueError("a billing provider needs a FINESS or a SIRET")

    @property
    def identifier(self) -> str:
        return str(self.finess or self.siret)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmoCoverage:
    """The Assurance Maladie coverage (Coverage type PUBLICPOL, insurance sequence 1).

    ``rights`` is the period during which rights are open; ``insured`` the NIR of the
    ouvrant droit (the beneficiary themself when no subscriberId is given). ``ame`` marks
    the aide médicale de l'État, which the caisse pays in place of an insurance.
    """

    organisme: AmoOrganisme
    nature: NatureAssurance
    exoneration: Exoneration
    insured: Nir
    rights: DateRange | None = None
    regime: str | None = None
    beneficiary_rank: str | None = None
    pre_auth_refs: tuple[str, ...] = ()
    ame: bool = False
    card: ForeignCard | None = None

    @property
    def open_rights(self) -> DateRange | None:
        """The rights period, closed on the card's expiry: a CEAM/S1 opens rights only while valid."""
        expiry = self.card.expiry if self.card is not None else None
        if expiry is None:
            return self.rights
        if self.rights is None:
            return DateRange(start=date.min, end=expiry)
        end = expiry if self.rights.end is None else min(expiry, self.rights.end)
        if end < self.rights.start:  # expired before the rights opened: no day is covered
            return DateRange(start=date.min, end=date.min)
        return DateRange(start=self.rights.start, end=end)


@dataclass(frozen=True, slots=True, kw_only=True)
class AmcCoverage:
    """The mutuelle coverage (Coverage type EHCPOL, insurance sequence 2).

    ``contract_id`` is the plan class value: it keys the reference payer's contract catalogue.
    ``css`` marks the complémentaire santé solidaire, whose cover the rules set, not a contract.
    """

    amc_number: AmcNumber
    member_id: str
    contract_id: str
    rights: DateRange | None = None
    pre_auth_refs: tuple[str, ...] = ()
    css: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One billed line (Claim.item): an LPP code, or the GTIN of a device off the LPP.

    Exactly one of ``delivery_date`` (purchase) or ``rental`` (rental period) is set; the
    tariff reference date is the delivery date, or the rental start. ``ear`` is the ear a
    per-ear device is fitted to, when the item says so. A device off the LPP (``product``,
    no ``lpp_code``) is refused by the AMO; ``category`` (Claim.item.category) lets a
    mutuelle guarantee it by category.
    """

    sequence: int
    lpp_code: LppCode | None = None
    quantity: int
    unit_price: Money
    delivery_date: date | None = None
    rental: DateRange | None = None
    ear: Ear | None = None
    product: Gtin | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        if (self.lpp_code is None) == (self.product is None):
            raise ValueError("a line has exactly one of an LPP code or a GTIN")
        if self.sequence < 1:
            raise ValueError("a line sequence is a positive integer")
        if self.quantity < 1:
            raise ValueError("a line quantity is a positive integer")
        if (self.delivery_date is None) == (self.rental is None):
            raise ValueError("a line has exactly one of delivery_date or rental")

    @property
    def net(self) -> Money:
        return self.unit_price.times(self.quantity)

    @property
    def reference_date(self) -> date:
        """The date whose tariff applies: delivery, or the first day of the rental."""
        if self.delivery_date is not None:
            return self.delivery_date
        assert self.rental is not None  # noqa: S101 - guaranteed by __post_init__
        return self.rental.start


@dataclass(frozen=True, slots=True, kw_only=True)
class ReimbursementRequest:
    """One submission: who, what, for whom, under which coverages.

    Every line is an LPP device, so the prescription is required (conventions.md §2).
    ``tiers_payant`` is True when the provider is paid directly (Claim.payee.type =
    provider, the default); False sends the payment to the insured person.
    """

    submission: BusinessIdentifier
    submitted_at: datetime
    created: datetime
    use: ClaimUse
    claim_type: ClaimType
    beneficiary: Beneficiary
    provider: BillingProvider
    amo: AmoCoverage
    lines: tuple[Line, ...]
    prescription: Prescription
    amc: AmcCoverage | None = None
    tiers_payant: bool = True
    claim_identifier: BusinessIdentifier | None = None

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None or self.created.tzinfo is None:
            raise ValueError("submission times carry a time zone")
        if not self.lines:
            raise ValueError("a reimbursement request has at least one line")
        sequences = [line.sequence for line in self.lines]
        if len(set(sequences)) != len(sequences):
            raise ValueError("line sequences are unique")

    @property
    def total(self) -> Money:
        total = Money.zero()
        for line in self.lines:
            total = total + line.net
        return total

    def line(self, sequence: int) -> Line:
        for line in self.lines:
            if line.sequence == sequence:
                return line
        raise KeyError(sequence)
