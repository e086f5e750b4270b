"""One error hierarchy and the catalogue of stable error codes.

Every failure the adapter reports carries a kebab-case code from ``CATALOGUE``. The code
is part of the external contract: it appears in ``OperationOutcome.issue.details.coding``
and in ``ClaimResponse.error.code`` under ``{base}/CodeSystem/error``. Codes are never
renamed or reused; a retired code stays in the catalogue marked ``retired=True``.

Hierarchy::

    AdapterError                 base; has ``code``
    ├── InvalidValueError        a value object refused a value (NIR key, RPPS length…)
    ├── InputError               the submitted input cannot be accepted; holds ``issues``
    │   ├── ParseError           unreadable, unsafe or structurally invalid → HTTP 400
    │   └── ConventionError      parses but breaks the conventions → HTTP 422
    ├── ConflictError            an idempotency key reused with other content → HTTP 409
    ├── CancelError              a claim that cannot be cancelled as asked → HTTP 409
    ├── CancelUnavailable        a remote payer unreachable for a cancellation → HTTP 503
    ├── AuthError (adapter.auth) missing/invalid/expired token → 401, scope or organisation → 403,
    │                            signing keys unreachable → 503
    ├── ReferenceDataError       a reference-data file (LPP table, contracts) is malformed
    ├── PayerError               a remote payer gave no decision (docs/payer-protocol.md)
    │   ├── PayerFault           transient: timeouts, 5xx, 429, broken answers, open breaker
    │   └── PayerRefusal         permanent: a 4xx answer, or no payer routed for the claim
    ├── StoreError               the database failed (no HTTP status of its own: a 500)
    │   ├── StoreConflict        a write clashed with a stored row (a unique key taken)
    │   └── StoreUnavailable     the database cannot be reached or does not answer in time → 503
    │       └── StoreConnectionLost  the connection died under a transaction (retry it whole)
    └── UsageError               a caller used the library or the CLI wrongly
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """OperationOutcome.issue.severity (FHIR value set ``issue-severity``)."""

    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


class IssueType(StrEnum):
    """The subset of FHIR ``issue-type`` codes the adapter emits."""

    INVALID = "invalid"
    STRUCTURE = "structure"
    REQUIRED = "required"
    VALUE = "value"
    INVARIANT = "invariant"
    SECURITY = "security"
    LOGIN = "login"
    EXPIRED = "expired"
    FORBIDDEN = "forbidden"
    TRANSIENT = "transient"
    TIMEOUT = "timeout"
    CODE_INVALID = "code-invalid"
    NOT_SUPPORTED = "not-supported"
    DUPLICATE = "duplicate"
    NOT_FOUND = "not-found"
    TOO_LONG = "too-long"
    TOO_COSTLY = "too-costly"
    BUSINESS_RULE = "business-rule"
    CONFLICT = "conflict"
    PROCESSING = "processing"
    EXCEPTION = "exception"
    INFORMATIONAL = "informational"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One entry of the catalogue: the stable code, its FHIR issue type and a short title."""

    code: str
    issue_type: IssueType
    title: str
    retired: bool = False


def _catalogue(*entries: ErrorCode) -> dict[str, ErrorCode]:
    table: dict[str, ErrorCode] = {}
    for entry in entries:
        if entry.code in table:  # pragma: no cover - guards the literal below
            raise AssertionError(f"duplicate error code {entry.code}")
        table[entry.code] = entry
    return table


_T = IssueType

CATALOGUE: dict[str, ErrorCode] = _catalogue(
    # -- reading the payload (HTTP 400) ------------------------------------------------
    ErrorCode("invalid-json", _T.STRUCTURE, "The body is not well-formed JSON"),
    ErrorCode("invalid-xml", _T.STRUCTURE, "The body is not well-formed XML"),
    ErrorCode("xml-forbidden", _T.SECURITY, "DTDs, entities and processing instructions are refused"),
    ErrorCode(
        "xml-namespace",
        _T.STRUCTURE,
        "FHIR XML elements must be in the http://hl7.org/fhir namespace",
    ),
    ErrorCode(
        "input-too-large",
        _T.TOO_LONG,
        "The body, its nesting or an element's attributes exceed the configured bounds",
    ),
    ErrorCode("encoding-invalid", _T.STRUCTURE, "The body is not valid UTF-8"),
    ErrorCode("resource-type-missing", _T.STRUCTURE, "A resource has no resourceType"),
    ErrorCode("resource-type-unknown", _T.NOT_SUPPORTED, "The resourceType is not a FHIR R4 resource"),
    ErrorCode("resource-type-wrong", _T.INVALID, "The resource is not of the expected type"),
    ErrorCode("element-required", _T.REQUIRED, "A required element is missing"),
    ErrorCode("element-unknown", _T.STRUCTURE, "The element is not defined for this type"),
    ErrorCode("element-invalid", _T.VALUE, "The element's value does not match its FHIR datatype"),
    ErrorCode(
        "issues-truncated",
        _T.TOO_COSTLY,
        "More issues were found than one answer lists (100): the last issue says how many were left out",
    ),
    # -- the Bundle envelope (HTTP 422) ------------------------------------------------
    ErrorCode("bundle-type", _T.VALUE, "Bundle.type must be 'collection'"),
    ErrorCode(
        "bundle-identifier-missing",
        _T.REQUIRED,
        "Bundle.identifier (system and value) is the idempotency key and is required",
    ),
    ErrorCode("bundle-timestamp-missing", _T.REQUIRED, "Bundle.timestamp is required"),
    ErrorCode("bundle-empty", _T.REQUIRED, "The Bundle has no entries"),
    ErrorCode("claim-not-first", _T.INVARIANT, "The first entry must be the Claim"),
    ErrorCode("claim-multiple", _T.INVARIANT, "A submission Bundle holds exactly one Claim"),
    ErrorCode("entry-resource-missing", _T.REQUIRED, "Every entry must carry a resource"),
    ErrorCode("fullurl-missing", _T.REQUIRED, "Every entry must have a fullUrl"),
    ErrorCode(
        "fullurl-invalid",
        _T.VALUE,
        "fullUrl must be urn:uuid:<uuid> or an absolute or relative Type/id URL matching the resource",
    ),
    ErrorCode("fullurl-duplicate", _T.INVARIANT, "fullUrl values must be unique (bdl-7)"),
    ErrorCode(
        "entry-request-forbidden",
        _T.INVARIANT,
        "entry.request and entry.response are not allowed in a collection (bdl-3, bdl-4)",
    ),
    ErrorCode(
        "reference-unresolved",
        _T.NOT_FOUND,
        "The reference does not resolve to an entry of the Bundle",
    ),
    ErrorCode(
        "reference-target-type",
        _T.INVALID,
        "The reference points to a resource of a type not allowed here",
    ),
    ErrorCode("code-invalid", _T.CODE_INVALID, "The code is not in the required value set"),
    # -- the Claim and its resources (HTTP 422) ----------------------------------------
    ErrorCode("claim-status", _T.BUSINESS_RULE, "Claim.status must be 'active'"),
    ErrorCode(
        "claim-type",
        _T.CODE_INVALID,
        "Claim.type must be institutional or professional from the claim-type system",
    ),
    ErrorCode("insurance-missing", _T.REQUIRED, "Claim.insurance must list the AMO coverage (sequence 1)"),
    ErrorCode(
        "insurance-order",
        _T.INVARIANT,
        "Claim.insurance: sequence 1 is the focal AMO coverage, sequence 2 the optional non-focal AMC coverage",
    ),
    ErrorCode(
        "coverage-type",
        _T.CODE_INVALID,
        "Coverage.type must be v3-ActCode PUBLICPOL (AMO) or EHCPOL (AMC)",
    ),
    ErrorCode("coverage-class", _T.CODE_INVALID, "A Coverage class is missing or carries an unknown code"),
    ErrorCode("coverage-beneficiary", _T.INVARIANT, "Coverage.beneficiary must be the Claim's patient"),
    ErrorCode("coverage-period", _T.VALUE, "Coverage.period ends before it starts"),
    ErrorCode(
        "ame-with-amc",
        _T.BUSINESS_RULE,
        "A Claim under the aide médicale de l'État (AME) has no AMC insurance: the AME pays alone",
    ),
    ErrorCode(
        "coverage-card",
        _T.REQUIRED,
        "A CEAM or S1 holder's AMO Coverage carries the card or form: number, institution, expiry",
    ),
    ErrorCode(
        "coverage-subscriber",
        _T.REQUIRED,
        "Coverage.subscriberId is required: the insured NIR (AMO) or the member number (AMC)",
    ),
    ErrorCode(
        "prescription-status",
        _T.BUSINESS_RULE,
        "DeviceRequest.status must be active or completed, intent order or original-order",
    ),
    ErrorCode("item-factor", _T.NOT_SUPPORTED, "item.factor other than 1 is not supported"),
    ErrorCode(
        "payor-identifier",
        _T.REQUIRED,
        "The payor Organization lacks a valid AMO organisme or AMC number",
    ),
    ErrorCode("currency", _T.VALUE, "Amounts must be in EUR"),
    ErrorCode("item-missing", _T.REQUIRED, "The Claim has no item"),
    ErrorCode("item-sequence", _T.INVARIANT, "item.sequence values must be unique"),
    ErrorCode(
        "item-code-missing",
        _T.REQUIRED,
        "item.productOrService has no LPP coding (nor a GTIN for a device off the LPP)",
    ),
    ErrorCode("item-quantity", _T.VALUE, "item.quantity.value must be a positive integer"),
    ErrorCode("item-unit-price", _T.REQUIRED, "item.unitPrice is required and not negative"),
    ErrorCode("item-serviced", _T.REQUIRED, "item.servicedDate or item.servicedPeriod is required"),
    ErrorCode("net-mismatch", _T.INVARIANT, "item.net must equal quantity × unitPrice"),
    ErrorCode("total-mismatch", _T.INVARIANT, "Claim.total must equal the sum of item.net"),
    ErrorCode(
        "prescription-missing",
        _T.REQUIRED,
        "Claim.prescription (a DeviceRequest) is required for LPP items",
    ),
    ErrorCode("prescription-patient", _T.INVARIANT, "DeviceRequest.subject must be the Claim's patient"),
    ErrorCode("prescription-date-missing", _T.REQUIRED, "DeviceRequest.authoredOn is required"),
    ErrorCode(
        "prescription-device-missing",
        _T.REQUIRED,
        "The DeviceRequest names no device: an LPP coding or a text, or a Device reference",
    ),
    ErrorCode(
        "prescriber-missing",
        _T.REQUIRED,
        "DeviceRequest.requester must identify the prescriber by RPPS or ADELI",
    ),
    ErrorCode("prescription-quantity", _T.VALUE, "The prescribed quantity must be a positive integer"),
    ErrorCode("period-invalid", _T.VALUE, "A period ends before it starts"),
    # -- eligibility (CoverageEligibilityRequest/$submit) and prescriptions (DeviceRequest/$validate) --
    ErrorCode(
        "eligibility-not-first",
        _T.INVARIANT,
        "The first entry must be the CoverageEligibilityRequest, the only one of the Bundle",
    ),
    ErrorCode("eligibility-status", _T.VALUE, "CoverageEligibilityRequest.status must be 'active'"),
    ErrorCode(
        "eligibility-serviced",
        _T.REQUIRED,
        "CoverageEligibilityRequest.servicedDate (the planned day, a full date) is required",
    ),
    ErrorCode(
        "eligibility-insurance",
        _T.INVARIANT,
        "CoverageEligibilityRequest.insurance: the focal AMO coverage first, then optionally the non-focal AMC one",
    ),
    ErrorCode(
        "eligibility-item-missing",
        _T.REQUIRED,
        "The purposes benefits and auth-requirements need at least one item with an LPP code",
    ),
    ErrorCode(
        "prescription-patient-missing",
        _T.REQUIRED,
        "DeviceRequest.subject must be a contained Patient or a reference carrying the NIR",
    ),
    ErrorCode(
        "prescription-uncoded",
        _T.INFORMATIONAL,
        "The DeviceRequest names its device by text only: its reimbursement cannot be checked",
    ),
    ErrorCode(
        "prescription-ald-part",
        _T.BUSINESS_RULE,
        "The patient's exonération is ALD but the prescription is not in the ALD part of the form",
    ),
    ErrorCode(
        "entente-prealable-required",
        _T.BUSINESS_RULE,
        "The LPP code needs an accord préalable: the prescriber fills in a demande d'entente préalable",
    ),
    ErrorCode(
        "prescription-checked",
        _T.INFORMATIONAL,
        "The prescription was checked: what it was checked against",
    ),
    ErrorCode(
        "nir-missing",
        _T.REQUIRED,
        "Patient.identifier must carry a NIR, an INS-NIA, or the personal number of a CEAM/S1 holder",
    ),
    ErrorCode(
        "foreign-id-format",
        _T.VALUE,
        "A foreign number (CEAM/S1 holder, competent institution) is written CC:number",
    ),
    ErrorCode("nir-format", _T.VALUE, "The NIR does not have the 13 characters + 2-digit key form"),
    ErrorCode("nir-key", _T.VALUE, "The NIR key does not match (97 − NIR mod 97)"),
    ErrorCode("rpps-format", _T.VALUE, "An RPPS number has 11 digits"),
    ErrorCode("adeli-format", _T.VALUE, "An ADELI number has 9 characters"),
    ErrorCode("idnat-prefix", _T.VALUE, "The national identifier prefix is not one the adapter accepts"),
    ErrorCode("finess-format", _T.VALUE, "A FINESS number has 9 alphanumeric characters"),
    ErrorCode(
        "finess-key",
        _T.VALUE,
        "The FINESS check digit fails Luhn (checked empirically only: a warning)",
    ),
    ErrorCode("siret-format", _T.VALUE, "A SIRET has 14 digits and a valid Luhn key"),
    ErrorCode(
        "provider-identifier-missing",
        _T.REQUIRED,
        "The provider must be identified by FINESS or SIRET",
    ),
    ErrorCode(
        "provider-kind",
        _T.CODE_INVALID,
        "The provider's Organization.type carries an unknown biller kind",
    ),
    ErrorCode(
        "lpp-code-format",
        _T.VALUE,
        "An LPP code has 7 characters (digits, or upper-case letters and digits)",
    ),
    ErrorCode(
        "gtin-format",
        _T.VALUE,
        "A GTIN (GS1 product code of a device off the LPP) has 8, 12, 13 or 14 digits and a valid check digit",
    ),
    ErrorCode(
        "amo-organisme-format",
        _T.VALUE,
        "An AMO organisme number has 9 digits: régime (2), caisse (3), centre (4)",
    ),
    ErrorCode("amc-number-format", _T.VALUE, "An AMC number has 1 to 10 alphanumeric characters"),
    ErrorCode("money-invalid", _T.VALUE, "An amount is not a finite decimal with at most 2 decimal places"),
    ErrorCode("date-invalid", _T.VALUE, "A date is impossible or outside the accepted range"),
    # -- the HTTP service ------------------------------------------------------------
    ErrorCode(
        "idempotency-conflict",
        _T.CONFLICT,
        "This Bundle.identifier was already submitted with different content",
    ),
    ErrorCode("not-found", _T.NOT_FOUND, "No such resource (or not visible to this client)"),
    ErrorCode(
        "claim-not-dead",
        _T.CONFLICT,
        "The claim is not dead-lettered (complete, or still pending): there is nothing to requeue",
    ),
    ErrorCode(
        "claim-not-decided",
        _T.CONFLICT,
        "The claim is not decided yet (pending) or was never decided (dead-lettered): it cannot be cancelled",
    ),
    ErrorCode(
        "cancel-request-invalid",
        _T.INVALID,
        "The $cancel Parameters must name one claim (identifier or claim) and give a reason",
    ),
    ErrorCode(
        "cancel-reason-unknown", _T.CODE_INVALID, "The cancel reason is not in the cancel-reason code system"
    ),
    ErrorCode(
        "cancel-refused",
        _T.PROCESSING,
        "A remote payer refused to cancel its decision: the claim stays as it was",
    ),
    ErrorCode(
        "delivery-not-dead",
        _T.CONFLICT,
        "The delivery is not in the dead letters (delivered, or still pending): there is nothing to requeue",
    ),
    # -- subscriptions (docs/http-api.md) --
    ErrorCode(
        "subscription-criteria",
        _T.NOT_SUPPORTED,
        "The criteria is not ClaimResponse, optionally narrowed by outcome: nothing else can be subscribed to",
    ),
    ErrorCode(
        "subscription-channel",
        _T.NOT_SUPPORTED,
        "The channel is not a rest-hook sending FHIR JSON (type, payload, content, headers)",
    ),
    ErrorCode(
        "subscription-endpoint",
        _T.VALUE,
        "The endpoint is not an https URL (plain http only to loopback, or when the settings allow it)",
    ),
    ErrorCode(
        "subscription-secret",
        _T.REQUIRED,
        "The signing secret extension is missing or not 32 to 256 printable ASCII characters",
    ),
    ErrorCode("subscription-end", _T.VALUE, "The subscription's end is already past"),
    ErrorCode("method-not-allowed", _T.NOT_SUPPORTED, "This HTTP method is not supported on this path"),
    ErrorCode(
        "media-type-unsupported",
        _T.NOT_SUPPORTED,
        "The Content-Type is not application/fhir+json or application/fhir+xml",
    ),
    ErrorCode(
        "not-acceptable", _T.NOT_SUPPORTED, "None of the Accept or _format media types can be produced"
    ),
    ErrorCode("fhir-version", _T.NOT_SUPPORTED, "Only FHIR 4.0 (R4) is served"),
    ErrorCode("search-parameter", _T.INVALID, "A search parameter is unknown or malformed"),
    ErrorCode("internal", _T.EXCEPTION, "The adapter failed; the request id identifies the log record"),
    ErrorCode("not-ready", _T.TRANSIENT, "A dependency (the database) is unavailable: try again later"),
    ErrorCode("request-timeout", _T.TIMEOUT, "The request body did not arrive within the configured time"),
    # -- remote payers (docs/payer-protocol.md) --
    ErrorCode(
        "payer-unavailable",
        _T.TRANSIENT,
        "A payer did not answer in time or failed (retried, then the claim waits): not the submitter's fault",
    ),
    ErrorCode(
        "payer-protocol",
        _T.EXCEPTION,
        "A payer's answer broke the payer protocol (schema, idempotency key): a fault of that payer",
    ),
    ErrorCode(
        "payer-refused", _T.PROCESSING, "A payer refused the exchange itself (a 4xx answer): never retried"
    ),
    ErrorCode("payer-routes-invalid", _T.INVALID, "The payer routing file is malformed"),
    # -- payers: line rejections and integrity findings --
    ErrorCode(
        "lpp-code-unknown", _T.CODE_INVALID, "The LPP code is not in the LPP table on the delivery date"
    ),
    ErrorCode("lpp-code-generic", _T.BUSINESS_RULE, "The line carries a deactivated generic LPP code"),
    ErrorCode(
        "invoice-generic-line",
        _T.BUSINESS_RULE,
        "Another line carries a deactivated generic LPP code: the whole invoice is rejected",
    ),
    ErrorCode("price-above-plv", _T.BUSINESS_RULE, "The unit price exceeds the prix limite de vente (PLV)"),
    ErrorCode("rights-closed", _T.BUSINESS_RULE, "The AMO rights are not open on the delivery date"),
    ErrorCode(
        "prescription-expired",
        _T.BUSINESS_RULE,
        "The prescription is more than 12 months old on the delivery date",
    ),
    ErrorCode(
        "first-delivery-late",
        _T.BUSINESS_RULE,
        "The first delivery is more than 6 months after the prescription",
    ),
    ErrorCode(
        "accord-prealable-missing",
        _T.BUSINESS_RULE,
        "The LPP code requires an accord préalable and none is referenced",
    ),
    ErrorCode(
        "age-out-of-range",
        _T.BUSINESS_RULE,
        "The beneficiary's age on the delivery date is outside the code's age bounds",
    ),
    ErrorCode(
        "billing-deadline",
        _T.BUSINESS_RULE,
        "The line is billed after the deadline: one year for an establishment, two years otherwise",
    ),
    ErrorCode(
        "duplicate-delivery",
        _T.DUPLICATE,
        "Same beneficiary, LPP code, delivery date and provider as a delivery already billed",
    ),
    ErrorCode("quantity-delivery-cap", _T.BUSINESS_RULE, "The quantity exceeds the code's cap per delivery"),
    ErrorCode(
        "quantity-yearly-cap", _T.BUSINESS_RULE, "The quantity exceeds the code's cap per calendar year"
    ),
    ErrorCode(
        "renewal-too-early", _T.BUSINESS_RULE, "The device is renewed before the code's renewal interval"
    ),
    ErrorCode(
        "ear-missing",
        _T.REQUIRED,
        "A per-ear device (hearing aid) names no ear in Claim.item.bodySite (a warning)",
    ),
    ErrorCode(
        "css-price-above-tariff",
        _T.BUSINESS_RULE,
        "A price above the tariff billed to a complémentaire santé solidaire beneficiary (a warning)",
    ),
    ErrorCode(
        "telemonitoring-cumulative",
        _T.BUSINESS_RULE,
        "A telemonitoring forfait of the same kind is already billed for that month",
    ),
    ErrorCode(
        "delivery-before-prescription", _T.BUSINESS_RULE, "The delivery date is before the prescription date"
    ),
    ErrorCode(
        "prescriber-identifier-suspect",
        _T.VALUE,
        "The prescriber's RPPS fails the Luhn key (algorithm not confirmed: a warning)",
    ),
    ErrorCode(
        "near-duplicate-delivery",
        _T.DUPLICATE,
        "Same beneficiary, LPP code and provider as a delivery billed a few days before or after",
    ),
    ErrorCode(
        "renewal-other-provider",
        _T.BUSINESS_RULE,
        "The device was already delivered by another provider within its renewal interval",
    ),
    ErrorCode(
        "quantity-unusual", _T.BUSINESS_RULE, "The quantity is far above the usual quantity for the code"
    ),
    ErrorCode(
        "pecan-cap",
        _T.BUSINESS_RULE,
        "The PECAN forfaits of the year would exceed their yearly cap, or the one-year coverage is over",
    ),
    ErrorCode(
        "pecan-sequence",
        _T.BUSINESS_RULE,
        "A PECAN monthly forfait without a first-period forfait, or inside the period it covers",
    ),
    ErrorCode(
        "amo-not-listed",
        _T.BUSINESS_RULE,
        "The device is not on the LPP (identified by a GTIN): the AMO does not reimburse it",
    ),
    ErrorCode("amc-contract-unknown", _T.NOT_FOUND, "The AMC contract is not in the contract catalogue"),
    ErrorCode("amc-rights-closed", _T.BUSINESS_RULE, "The AMC rights are not open on the delivery date"),
    ErrorCode("amc-amo-rejected", _T.BUSINESS_RULE, "The AMO rejected the line: the AMC pays nothing on it"),
    ErrorCode("amc-no-guarantee", _T.BUSINESS_RULE, "The AMC contract has no guarantee for this LPP code"),
    # -- security: authentication and authorisation --
    ErrorCode("auth-missing", _T.LOGIN, "The request carries no bearer access token"),
    ErrorCode(
        "auth-invalid",
        _T.LOGIN,
        "The access token is malformed, wrongly signed, uses a refused algorithm or carries invalid claims",
    ),
    ErrorCode("auth-expired", _T.EXPIRED, "The access token has expired"),
    ErrorCode("auth-unavailable", _T.TRANSIENT, "The token signing keys cannot be fetched: try again later"),
    ErrorCode("scope-insufficient", _T.FORBIDDEN, "The access token lacks the scope this operation needs"),
    ErrorCode(
        "organisation-forbidden", _T.FORBIDDEN, "The client is not registered to act for this organisation"
    ),
    ErrorCode(
        "jwks-invalid", _T.EXCEPTION, "The configured JWKS cannot be read or holds no usable public key"
    ),
    ErrorCode("clients-file-invalid", _T.EXCEPTION, "The clients file is malformed"),
    ErrorCode(
        "dev-key-invalid", _T.EXCEPTION, "The development signing key is unusable or is not a development key"
    ),
)


def lookup(code: str) -> ErrorCode:
    """Return the catalogue entry for ``code``; an unknown code is a programming error."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"error code {code!r} is not in adapter.errors.CATALOGUE") from None


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about an input: the pure form of an OperationOutcome issue.

    ``expression`` is the FHIRPath of the offending element, e.g.
    ``Bundle.entry[2].resource.identifier[0].value``.
    """

    code: str
    message: str
    expression: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def issue_type(self) -> IssueType:
        return lookup(self.code).issue_type

    @property
    def is_error(self) -> bool:
        return self.severity in (Severity.ERROR, Severity.FATAL)


class AdapterError(Exception):
    """Base of every error the adapter raises on purpose."""

    code: str = "exception"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message


class InvalidValueError(AdapterError, ValueError):
    """A value object refused a value; ``code`` says which rule it broke."""

    def __init__(self, code: str, message: str) -> None:
        lookup(code)
        super().__init__(message, code=code)


#: The most issues an :class:`InputError` carries, so that an answer stays small whatever the input.
MAX_ISSUES = 100


def capped(issues: list[Issue] | tuple[Issue, ...], *, found: int | None = None) -> tuple[Issue, ...]:
    """At most ``MAX_ISSUES`` issues: past that, the first ``MAX_ISSUES - 1`` and an
    ``issues-truncated`` issue saying how many more were found.

    ``found`` is how many issues there were in all, when the caller stopped collecting them
    (it keeps ``MAX_ISSUES`` of them); by default, ``len(issues)``.
    """
    total = len(issues) if found is None else max(found, len(issues))
    if total <= MAX_ISSUES:
        return tuple(issues)
    kept = tuple(issues[: MAX_ISSUES - 1])
    left_out = total - len(kept)
    note = Issue(
        "issues-truncated",
        f"{left_out} more issues were found and are not listed: at most {MAX_ISSUES} are given",
        severity=Severity.INFORMATION,
    )
    return (*kept, note)


class InputError(AdapterError):
    """The input cannot be accepted; ``issues`` lists every problem found, not the first only
    (at most ``MAX_ISSUES``: past that, the last one says how many more there were)."""

    http_status = 422

    def __init__(self, issues: list[Issue] | tuple[Issue, ...]) -> None:
        if not issues:
            raise ValueError("an InputError needs at least one issue")
        self.issues: tuple[Issue, ...] = capped(issues)
        first = self.issues[0]
        super().__init__(first.message, code=first.code)


class ParseError(InputError):
    """Unreadable, unsafe or structurally invalid input (HTTP 400)."""

    http_status = 400


class ConventionError(InputError):
    """Well-formed FHIR that breaks the adapter's conventions (HTTP 422)."""

    http_status = 422


class ConflictError(AdapterError):
    """The same idempotency key arrived with different content (HTTP 409)."""

    code = "idempotency-conflict"
    http_status = 409


class CancelError(AdapterError):
    """A cancellation that cannot be done as asked (HTTP 409): the claim is not decided
    (``claim-not-decided``), or a remote payer refused to cancel (``cancel-refused``)."""

    code = "claim-not-decided"
    http_status = 409


class CancelUnavailable(AdapterError):
    """A remote payer could not be reached to cancel its decision: nothing was reversed, the
    client tries again later (HTTP 503 with ``Retry-After``)."""

    code = "payer-unavailable"
    http_status = 503

    def __init__(self, message: str, *, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReferenceDataError(AdapterError):
    """A reference-data file is malformed; the message names file, line and column."""

    code = "reference-data"


class StoreError(AdapterError):
    """The database failed; the store raises this rather than its driver's errors."""

    code = "internal"


class StoreConflict(StoreError):
    """A write clashed with a stored row (a unique key taken by a writer that ignored the locks)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached, refused the connection, or did not answer within its
    timeouts: a transient fault, answered 503 ``not-ready`` with ``Retry-After``."""

    code = "not-ready"
    http_status = 503

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreConnectionLost(StoreUnavailable):
    """The connection died under a transaction (a server restart): the transaction is gone whole,
    or committed whole, so an idempotent unit of work may run once more."""


class PayerError(AdapterError):
    """A remote payer could not give a decision; a refusal inside a decision is not this."""


class PayerFault(PayerError):
    """The payer failed or did not answer in time (after the retries it allows): transient.

    ``retry_after`` (seconds) is the payer's own hint, when it gave one.
    """

    code = "payer-unavailable"

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PayerRefusal(PayerError):
    """The payer refused the exchange (a 4xx answer, or no payer for this claim): permanent."""

    code = "payer-refused"


class UsageError(AdapterError):
    """The caller used an API or command wrongly (not the submitter's fault)."""

    code = "usage"


def catalogue_markdown() -> str:
    """The catalogue as the Markdown table published in docs/errors.md."""
    lines = [
        "# Error and finding codes",
        "",
        "Every issue the adapter reports carries one of these stable codes, in",
        "`OperationOutcome.issue.details.coding` (and `ClaimResponse.error.code`) with the system",
        "`{base}/CodeSystem/error`. Codes are never renamed or reused. This page is generated from",
        "`adapter/errors.py` (`python -m adapter.errors > docs/errors.md`); a test keeps it in step.",
        "",
        "| code | FHIR issue type | meaning |",
        "|---|---|---|",
    ]
    for entry in CATALOGUE.values():
        retired = " (retired)" if entry.retired else ""
        lines.append(f"| `{entry.code}`{retired} | `{entry.issue_type.value}` | {entry.title} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(catalogue_markdown(), end="")  # noqa: T201
