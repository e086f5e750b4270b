"""Every URI the adapter reads or writes, in one place.

External systems (FR Core, HL7 terminology) are constants. The project's own artefacts hang
under one configurable canonical base (``Canon``); ``https://adapter.example/fhir`` is the
default and, ``.example`` being reserved, signals "set me in production".
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ACT_CODE",
    "ADJUDICATION",
    "BACKPORT_PAYLOAD_CONTENT",
    "BACKPORT_SUBSCRIPTION",
    "BACKPORT_SUBSCRIPTION_STATUS",
    "CLAIM_TYPE",
    "COVERAGE_CLASS_HL7",
    "DEFAULT_BASE",
    "FINESS",
    "GTIN",
    "IDNATPS",
    "IDNATST",
    "INS_NIA",
    "NIR",
    "NOTE_TYPE",
    "PAYEE_TYPE",
    "PAYMENT_TYPE",
    "PROCESS_PRIORITY",
    "RPPS",
    "SIRET",
    "SNOMED",
    "SNOMED_EARS",
    "Canon",
]

DEFAULT_BASE = "https://adapter.example/fhir"

NIR = "urn:oid:1.2.250.1.213.1.4.8"
#: The INS-NIA: a provisional NIR-shaped number (13 characters and the same key) that the CNAV
#: attributes to a person born abroad until the definitive NIR (ANS, Référentiel INS).
INS_NIA = "urn:oid:1.2.250.1.213.1.4.9"
RPPS = "https://rpps.esante.gouv.fr"
IDNATPS = "urn:oid:1.2.250.1.71.4.2.1"
FINESS = "https://finess.esante.gouv.fr"
IDNATST = "urn:oid:1.2.250.1.71.4.2.2"
SIRET = "https://sirene.fr"
GTIN = "https://www.gs1.org/gtin"
"""GS1 GTIN: the product code of a device off the LPP in Claim.item.productOrService."""

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
COVERAGE_CLASS_HL7 = "http://terminology.hl7.org/CodeSystem/coverage-class"
PAYEE_TYPE = "http://terminology.hl7.org/CodeSystem/payeetype"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
NOTE_TYPE = "http://hl7.org/fhir/note-type"
SNOMED = "http://snomed.info/sct"
SNOMED_EARS = {"89644007": "left", "25577004": "right"}
"""Claim.item.bodySite for a per-ear device: SNOMED CT "Left ear structure" (89644007) and
"Right ear structure" (25577004), by the ear they name."""

#: The R4 backport of R5 Subscriptions (HL7 Subscriptions R5 Backport IG, STU 1.1).
_BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
BACKPORT_SUBSCRIPTION = f"{_BACKPORT}/backport-subscription"
BACKPORT_SUBSCRIPTION_STATUS = f"{_BACKPORT}/backport-subscription-status-r4"
BACKPORT_PAYLOAD_CONTENT = f"{_BACKPORT}/backport-payload-content"


@dataclass(frozen=True, slots=True)
class Canon:
    """The project's canonical URLs under one base, plus accepted aliases for the LPP system.

    Senders already carry LPP codes under other URIs; listing those in ``lpp_aliases`` makes
    the adapter read them as LPP. Output always uses ``lpp``.
    """

    base: str = DEFAULT_BASE
    lpp_aliases: tuple[str, ...] = field(default=())

    @property
    def lpp(self) -> str:
        return f"{self.base}/CodeSystem/lpp"

    @property
    def lpp_price(self) -> str:
        """The price components of an LPP code's ChargeItemDefinition: ``br`` (base) and ``plv`` (cap)."""
        return f"{self.base}/CodeSystem/lpp-price"

    def lpp_attribute(self, name: str) -> str:
        """Extension on an LPP code's ChargeItemDefinition carrying one attribute of its row
        (``titre``, ``category``, ``kind``, ``deactivated``, ``deactivated-on``, ``sante100``,
        ``telemonitoring``)."""
        return f"{self.base}/StructureDefinition/lpp-{name}"

    @property
    def subscription_secret(self) -> str:
        """Extension on ``Subscription.channel`` carrying the secret that signs its notifications."""
        return f"{self.base}/StructureDefinition/subscription-signing-secret"

    @property
    def claim_response_topic(self) -> str:
        """The topic every subscription's notifications name: a claim's ClaimResponses became final."""
        return f"{self.base}/SubscriptionTopic/claim-response"

    @property
    def coverage_class(self) -> str:
        return f"{self.base}/CodeSystem/coverage-class"

    @property
    def biller_kind(self) -> str:
        """CodeSystem of Organization.type for the billing provider's kind (``establishment``,
        ``supplier``, ``pharmacist``, ``professional``): it sets the billing deadline."""
        return f"{self.base}/CodeSystem/biller-kind"

    @property
    def adjudication(self) -> str:
        return f"{self.base}/CodeSystem/adjudication"

    @property
    def error(self) -> str:
        return f"{self.base}/CodeSystem/error"

    @property
    def cancel_reason(self) -> str:
        """Why a claim was withdrawn (``POST /Claim/$cancel``): the codes of
        ``adapter.intake.cancellation.CANCEL_REASONS``."""
        return f"{self.base}/CodeSystem/cancel-reason"

    @property
    def amo_organisme(self) -> str:
        return f"{self.base}/NamingSystem/amo-organisme"

    @property
    def amc(self) -> str:
        return f"{self.base}/NamingSystem/amc"

    @property
    def eu_person(self) -> str:
        """A CEAM/S1 holder's personal identification number, ``CC:number`` (card field 6)."""
        return f"{self.base}/NamingSystem/eu-person"

    @property
    def eu_institution(self) -> str:
        """The competent institution of another state, ``CC:number`` (card field 7)."""
        return f"{self.base}/NamingSystem/eu-institution"

    @property
    def ehic_card(self) -> str:
        """The European Health Insurance Card's number (card field 8) on the AMO Coverage."""
        return f"{self.base}/NamingSystem/ehic-card"

    @property
    def s1_form(self) -> str:
        """The S1 form's reference on the AMO Coverage, as registered by the French caisse."""
        return f"{self.base}/NamingSystem/s1-form"

    @property
    def ald(self) -> str:
        return f"{self.base}/StructureDefinition/ald"

    @property
    def device_category(self) -> str:
        """Claim.item.category of a device off the LPP: the category a mutuelle's guarantee
        for non-listed devices names (``connected-device``…; ``non-listed`` when absent)."""
        return f"{self.base}/CodeSystem/device-category"

    @property
    def vision_change(self) -> str:
        """Extension (valueBoolean) on DeviceRequest: an optics prescription for a change of sight,
        which shortens the optics renewal interval (docs/domain-fr.md §2.3)."""
        return f"{self.base}/StructureDefinition/vision-change"

    @property
    def estimate(self) -> str:
        """Extension (valueBoolean) on ClaimResponse marking a predetermination estimate."""
        return f"{self.base}/StructureDefinition/estimate"

    @property
    def eligibility_benefit(self) -> str:
        """CoverageEligibilityResponse benefit types: ``br``, ``rate``, ``benefit``, ``reste-a-charge``…"""
        return f"{self.base}/CodeSystem/eligibility-benefit"

    @property
    def item_sequence(self) -> str:
        """Extension (valuePositiveInt) on an OperationOutcome issue naming the Claim item it concerns."""
        return f"{self.base}/StructureDefinition/item-sequence"

    def is_lpp(self, system: str | None) -> bool:
        return system is not None and (system == self.lpp or system in self.lpp_aliases)
