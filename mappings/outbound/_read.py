"""Reading ClaimResponses and their Bundle back into decisions (the writer's inverse).

The input is FHIR-JSON as ``json.loads`` or ``mappings.fhir.jsonio.loads`` gives it,
possibly from a remote payer, so nothing is trusted: every problem becomes an issue
with the element's FHIRPath, and all of them are raised together as one
``ConventionError``. Unknown adjudication categories, extensions and extra entries are
ignored (Tolerant Reader); totals and payment are derived from the lines and not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from adapter.domain.decision import (
    Finding,
    LineDecision,
    Note,
    Outcome,
    PayerDecision,
    PayerKind,
    Rejection,
)
from adapter.domain.values import Money
from adapter.errors import ConventionError, InvalidValueError, Issue
from mappings.fhir import IssueReader
from mappings.outbound._terms import (
    CURRENCY,
    ELIGPERCENT,
    ENGLISH,
    ESTIMATE_LABEL,
    ESTIMATE_SEPARATOR,
    FRENCH,
    MONEY_FIELDS,
    REQUIRED_MONEY_FIELDS,
    money_categories,
)
from mappings.systems import ADJUDICATION, Canon

__all__ = ["from_claim_response", "from_response_bundle"]

T = TypeVar("T")

_OUTCOMES = {outcome.value: outcome for outcome in Outcome}


_DEFAULT_CANON = Canon()


def from_claim_response(resource: Mapping[str, Any], *, canon: Canon = _DEFAULT_CANON) -> PayerDecision:
    """The PayerDecision a ClaimResponse carries; the inverse of ``to_claim_response``.

    Raises ``ConventionError`` listing every element that does not follow conventions.md
    §3, each with its FHIRPath.
    """
    reader = _Reader(canon)
    return reader.finish(reader.claim_response(resource, "ClaimResponse"))


def from_response_bundle(
    bundle: Mapping[str, Any], *, canon: Canon = _DEFAULT_CANON
) -> tuple[PayerDecision, PayerDecision | None, tuple[Finding, ...]]:
    """(AMO decision, AMC decision or None, non-blocking findings) from a $submit answer.

    The inverse of ``to_claim_responses``; raises ``ConventionError`` like
    :func:`from_claim_response`.
    """
    reader = _Reader(canon)
    return reader.finish(reader.bundle(bundle, "Bundle"))


class _Reader(IssueReader):
    """Collects every issue; each ``read`` method returns None when it recorded one."""

    def __init__(self, canon: Canon) -> None:
        super().__init__(once_per_element=False)
        self.canon = canon
        self.categories = {pair: name for name, pair in money_categories(canon).items()}

    def finish(self, value: T | None) -> T:
        if self.issues:
            raise ConventionError(self.issues)
        if value is None:  # pragma: no cover - every None path records an issue first
            raise ConventionError([Issue("element-invalid", "unreadable response", None)])
        return value

    # -- the Bundle ---------------------------------------------------------------------

    def bundle(
        self, bundle: Any, path: str
    ) -> tuple[PayerDecision, PayerDecision | None, tuple[Finding, ...]] | None:
        if not self.resource_type(bundle, "Bundle", path):
            return None
        if bundle.get("type") != "collection":
            self.error("bundle-type", "Bundle.type must be 'collection'", f"{path}.type")
        decisions: dict[PayerKind, list[PayerDecision]] = {kind: [] for kind in PayerKind}
        findings: list[Finding] = []
        unreadable = False
        for entry, entry_path in self.array(bundle, "entry", path):
            resource = entry.get("resource")
            resource_path = f"{entry_path}.resource"
            if not isinstance(resource, Mapping):
                self.error("entry-resource-missing", "the entry has no resource", resource_path)
                continue
            kind = resource.get("resourceType")
            if kind == "ClaimResponse":
                decision = self.claim_response(resource, resource_path)
                if decision is None:
                    unreadable = True
                else:
                    decisions[decision.payer].append(decision)
            elif kind == "OperationOutcome":
                findings.extend(self.findings(resource, resource_path))
        amo, amc = decisions[PayerKind.AMO], decisions[PayerKind.AMC]
        if len(amo) > 1 or len(amc) > 1:
            self.error("element-invalid", "the answer holds one ClaimResponse per payer", f"{path}.entry")
        if not amo and not unreadable:
            self.error("element-required", "the answer has no AMO ClaimResponse", f"{path}.entry")
        if not amo or self.issues:
            return None
        return amo[0], amc[0] if amc else None, tuple(findings)

    def findings(self, outcome: Mapping[str, Any], path: str) -> list[Finding]:
        findings: list[Finding] = []
        for issue, issue_path in self.array(outcome, "issue", path):
            start = len(self.issues)
            details = self.mapping(issue.get("details"), f"{issue_path}.details", required=True)
            code = self.error_code(details, f"{issue_path}.details")
            text = self.string(details.get("text"), f"{issue_path}.details.text")
            expression = self.first_string(issue, "expression", issue_path)
            sequence: int | None = None
            for extension, extension_path in self.array(issue, "extension", issue_path):
                if extension.get("url") == self.canon.item_sequence:
                    sequence = self.positive_int(
                        extension.get("valuePositiveInt"), f"{extension_path}.valuePositiveInt"
                    )
            if len(self.issues) == start:
                findings.append(Finding(code=code, text=text or "", expression=expression, sequence=sequence))
        return findings

    # -- one ClaimResponse --------------------------------------------------------------

    def claim_response(self, resource: Any, path: str) -> PayerDecision | None:
        if not self.resource_type(resource, "ClaimResponse", path):
            return None
        start = len(self.issues)
        payer, insurer = self.insurer(resource.get("insurer"), f"{path}.insurer")
        created = self.created(resource.get("created"), f"{path}.created")
        outcome = self.outcome(resource.get("outcome"), f"{path}.outcome")
        estimate = self.estimate(resource, path)
        disposition = self.string(resource.get("disposition"), f"{path}.disposition") or ""
        if estimate:
            if disposition == ESTIMATE_LABEL:
                disposition = ""
            elif disposition.startswith(ESTIMATE_LABEL + ESTIMATE_SEPARATOR):
                disposition = disposition[len(ESTIMATE_LABEL + ESTIMATE_SEPARATOR) :]
        pre_auth_ref = self.string(resource.get("preAuthRef"), f"{path}.preAuthRef")
        lines = self.lines(resource, path)
        notes = self.notes(resource, path)
        if len(self.issues) > start or payer is None or created is None or outcome is None:
            return None
        return PayerDecision(
            payer=payer,
            insurer=insurer,
            created=created,
            outcome=outcome,
            disposition=disposition,
            lines=lines,
            notes=notes,
            estimate=estimate,
            pre_auth_ref=pre_auth_ref,
        )

    def insurer(self, value: Any, path: str) -> tuple[PayerKind | None, str]:
        reference = self.mapping(value, path, required=True)
        if not reference:
            return None, ""
        identifier = self.mapping(reference.get("identifier"), f"{path}.identifier", required=True)
        if not identifier:
            return None, ""
        system = identifier.get("system")
        payer = {self.canon.amo_organisme: PayerKind.AMO, self.canon.amc: PayerKind.AMC}.get(
            system if isinstance(system, str) else ""
        )
        if payer is None:
            self.error(
                "payor-identifier",
                "the insurer is identified in the AMO organisme or the AMC number system",
                f"{path}.identifier.system",
            )
        insurer = self.string(identifier.get("value"), f"{path}.identifier.value", required=True)
        return payer, insurer or ""

    def created(self, value: Any, path: str) -> datetime | None:
        text = self.string(value, path, required=True)
        if text is None:
            return None
        try:
            created = datetime.fromisoformat(text)
        except ValueError:
            created = None
        if created is None or created.tzinfo is None:
            self.error("date-invalid", "created is a date and time with a time zone", path)
            return None
        return created

    def outcome(self, value: Any, path: str) -> Outcome | None:
        text = self.string(value, path, required=True)
        if text is None:
            return None
        outcome = _OUTCOMES.get(text)
        if outcome is None:
            self.error("code-invalid", f"{text!r} is not a remittance-outcome code", path)
        return outcome

    def estimate(self, resource: Mapping[str, Any], path: str) -> bool:
        estimate = False
        for extension, extension_path in self.array(resource, "extension", path):
            if extension.get("url") == self.canon.estimate:
                flag = extension.get("valueBoolean")
                if not isinstance(flag, bool):
                    self.error(
                        "element-invalid",
                        "the estimate extension carries a valueBoolean",
                        f"{extension_path}.valueBoolean",
                    )
                estimate = estimate or flag is True
        return estimate

    def lines(self, resource: Mapping[str, Any], path: str) -> tuple[LineDecision, ...]:
        fields: list[dict[str, Any]] = []
        by_sequence: dict[int, dict[str, Any]] = {}
        for item, item_path in self.array(resource, "item", path):
            sequence = self.positive_int(item.get("itemSequence"), f"{item_path}.itemSequence", required=True)
            values = self.adjudications(item, item_path)
            values["sequence"] = sequence or 0
            values["rejections"] = []
            if sequence is not None and sequence in by_sequence:
                self.error("item-sequence", "itemSequence values are unique", item_path)
            elif sequence is not None:
                by_sequence[sequence] = values
            fields.append(values)
        for error, error_path in self.array(resource, "error", path):
            rejection = self.rejection(error, error_path)
            sequence = self.positive_int(
                error.get("itemSequence"), f"{error_path}.itemSequence", required=True
            )
            if sequence is not None and sequence not in by_sequence:
                self.error(
                    "element-invalid",
                    f"no item has itemSequence {sequence}",
                    f"{error_path}.itemSequence",
                )
            elif sequence is not None and rejection is not None:
                by_sequence[sequence]["rejections"].append(rejection)
        return tuple(
            LineDecision(**{**values, "rejections": tuple(values["rejections"])}) for values in fields
        )

    def adjudications(self, item: Mapping[str, Any], path: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for adjudication, adjudication_path in self.array(item, "adjudication", path):
            name = self.category(adjudication, adjudication_path)
            if name is None:
                continue
            if name in values:
                self.error(
                    "element-invalid",
                    f"the adjudication category for {name} appears twice",
                    f"{adjudication_path}.category",
                )
            elif name == "rate":
                values[name] = self.decimal(
                    adjudication.get("value"), f"{adjudication_path}.value", required=True
                )
            else:
                values[name] = self.money(adjudication.get("amount"), f"{adjudication_path}.amount")
        for name in MONEY_FIELDS:
            if name in REQUIRED_MONEY_FIELDS and name not in values:
                self.error(
                    "element-required",
                    f"the item has no {money_categories(self.canon)[name][1]} adjudication",
                    f"{path}.adjudication",
                )
                values[name] = Money.zero()
        return values

    def category(self, adjudication: Mapping[str, Any], path: str) -> str | None:
        """The LineDecision field an adjudication fills (``rate``: eligpercent); None if unknown."""
        category = self.mapping(adjudication.get("category"), f"{path}.category", required=True)
        for coding, _ in self.array(category, "coding", f"{path}.category"):
            system, code = coding.get("system"), coding.get("code")
            if not isinstance(system, str) or not isinstance(code, str):
                continue
            if (system, code) == (ADJUDICATION, ELIGPERCENT):
                return "rate"
            name = self.categories.get((system, code))
            if name is not None:
                return name
        return None

    def rejection(self, error: Mapping[str, Any], path: str) -> Rejection | None:
        code = self.mapping(error.get("code"), f"{path}.code", required=True)
        if not code:
            return None
        value = self.error_code(code, f"{path}.code")
        text = self.string(code.get("text"), f"{path}.code.text") or ""
        return Rejection(code=value, text=text) if value else None

    def error_code(self, concept: Mapping[str, Any], path: str) -> str:
        """The project error code in a CodeableConcept; records an issue when there is none."""
        for coding, coding_path in self.array(concept, "coding", path):
            if coding.get("system") == self.canon.error:
                return self.string(coding.get("code"), f"{coding_path}.code", required=True) or ""
        self.error("code-invalid", f"no coding in {self.canon.error}", f"{path}.coding")
        return ""

    def notes(self, resource: Mapping[str, Any], path: str) -> tuple[Note, ...]:
        entries: list[tuple[int, str, str, str]] = []
        for note, note_path in self.array(resource, "processNote", path):
            number = self.positive_int(note.get("number"), f"{note_path}.number") or 0
            text = self.string(note.get("text"), f"{note_path}.text", required=True) or ""
            language = ""
            concept = self.mapping(note.get("language"), f"{note_path}.language")
            for coding, coding_path in self.array(concept, "coding", f"{note_path}.language"):
                language = self.string(coding.get("code"), f"{coding_path}.code") or ""
            entries.append((number, text, _language(language), note_path))
        entries.sort(key=lambda entry: entry[0])
        if len(entries) % 2:
            self.error(
                "element-invalid",
                "process notes come in pairs: French then English",
                f"{path}.processNote",
            )
            return ()
        notes: list[Note] = []
        for first, second in zip(entries[::2], entries[1::2], strict=True):
            texts = {first[2]: first[1], second[2]: second[1]}
            french, english = texts.get(FRENCH), texts.get(ENGLISH)
            if french is None or english is None:
                self.error(
                    "element-invalid",
                    f"a process note pair has one {FRENCH} and one {ENGLISH} entry",
                    first[3],
                )
                continue
            notes.append(Note(fr=french, en=english))
        return tuple(notes)

    # -- datatypes ----------------------------------------------------------------------

    def resource_type(self, value: Any, expected: str, path: str) -> bool:
        if not isinstance(value, Mapping):
            self.error("element-invalid", f"expected a {expected} object", path)
            return False
        if value.get("resourceType") != expected:
            self.error("resource-type-wrong", f"expected a {expected}", f"{path}.resourceType")
            return False
        return True

    def money(self, value: Any, path: str) -> Money:
        money = self.mapping(value, path, required=True)
        if not money:
            return Money.zero()
        if money.get("currency") != CURRENCY:
            self.error("currency", "amounts are in EUR", f"{path}.currency")
        amount = self.decimal(money.get("value"), f"{path}.value", required=True)
        if amount is None:
            return Money.zero()
        try:
            return Money.exact(amount)
        except InvalidValueError as error:
            self.error(error.code, error.message, f"{path}.value")
            return Money.zero()


def _language(code: str) -> str:
    """Our two note languages, read leniently: any ``fr…`` tag is French, any ``en…`` English."""
    lowered = code.lower()
    if lowered.startswith("fr"):
        return FRENCH
    if lowered.startswith("en"):
        return ENGLISH
    return lowered
