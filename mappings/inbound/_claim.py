"""Claim ⇄ the request's core: use, type, items, totals, insurance order, prescription link.

The Claim is read first and drives the reads of everything it references. Rules from
conventions.md §2: status active; insurance sequence 1 = focal AMO, sequence 2 = non-focal
AMC; net = quantity × unitPrice; total = Σ net; prescription required for LPP items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapter.domain import ClaimType, ClaimUse, Ear, Gtin, Line, LppCode, Money
from mappings import systems
from mappings.fhir import as_list, codings, to_decimal
from mappings.inbound._coverage import read_period, to_period
from mappings.inbound._reader import BundleReader, Entry

__all__ = ["ClaimParts", "InsuranceRef", "read_claim", "to_claim"]


@dataclass(frozen=True, slots=True)
class InsuranceRef:
    sequence: int
    coverage: Entry | None
    pre_auth_refs: tuple[str, ...]
    path: str


@dataclass(frozen=True, slots=True)
class ClaimParts:
    """What the Claim itself says; the referenced resources are read by ``mappings.bundle``."""

    use: ClaimUse | None
    claim_type: ClaimType | None
    created: Any
    patient: Entry | None
    provider: Entry | None
    prescription: Entry | None
    amo: InsuranceRef | None
    amc: InsuranceRef | None
    lines: tuple[Line, ...] | None
    tiers_payant: bool
    identifier: tuple[str, str] | None


def read_claim(reader: BundleReader, entry: Entry) -> ClaimParts:
    claim = entry.resource
    path = entry.path
    status = claim.get("status")
    if status is not None and status != "active":
        reader.error("claim-status", f"Claim.status must be 'active', not {status!r}", f"{path}.status")
    use_raw = claim.get("use")
    use = ClaimUse(use_raw) if isinstance(use_raw, str) and use_raw in ClaimUse._value2member_map_ else None
    claim_type = None
    for _, coding in codings(claim.get("type")):
        if coding.get("system") == systems.CLAIM_TYPE and coding.get("code") in ClaimType._value2member_map_:
            claim_type = ClaimType(coding["code"])
            break
    if claim_type is None:
        reader.error(
            "claim-type",
            f"Claim.type must be {systems.CLAIM_TYPE}#institutional or #professional",
            f"{path}.type",
        )
    created = reader.datetime(claim.get("created"), f"{path}.created", "Claim.created")
    patient = reader.follow(claim.get("patient"), f"{path}.patient", ("Patient",), "Claim.patient")
    provider = reader.follow(
        claim.get("provider"),
        f"{path}.provider",
        ("Organization", "PractitionerRole"),
        "Claim.provider",
    )
    prescription = None
    if claim.get("prescription") is not None:
        prescription = reader.follow(
            claim.get("prescription"),
            f"{path}.prescription",
            ("DeviceRequest",),
            "Claim.prescription",
        )
    amo, amc = _insurance(reader, claim, path)
    lines = _items(reader, claim, path)
    if lines and claim.get("prescription") is None:
        reader.error(
            "prescription-missing",
            "LPP items need Claim.prescription → the DeviceRequest",
            f"{path}.prescription",
        )
    tiers_payant = True
    payee = claim.get("payee")
    if isinstance(payee, dict):
        for _, coding in codings(payee.get("type")):
            if coding.get("system") == systems.PAYEE_TYPE and coding.get("code") in (
                "subscriber",
                "other",
            ):
                tiers_payant = False
    identifier = None
    for ident in as_list(claim.get("identifier")):
        if (
            isinstance(ident, dict)
            and isinstance(ident.get("system"), str)
            and isinstance(ident.get("value"), str)
        ):
            identifier = (ident["system"], ident["value"])
            break
    return ClaimParts(
        use=use,
        claim_type=claim_type,
        created=created,
        patient=patient,
        provider=provider,
        prescription=prescription,
        amo=amo,
        amc=amc,
        lines=lines,
        tiers_payant=tiers_payant,
        identifier=identifier,
    )


def _insurance(
    reader: BundleReader, claim: Mapping[str, Any], path: str
) -> tuple[InsuranceRef | None, InsuranceRef | None]:
    items = [(i, item) for i, item in enumerate(as_list(claim.get("insurance"))) if isinstance(item, dict)]
    if not items:
        reader.error(
            "insurance-missing",
            "Claim.insurance must list the AMO coverage with sequence 1",
            f"{path}.insurance",
        )
        return None, None
    found: dict[int, InsuranceRef] = {}
    for index, item in items:
        ipath = f"{path}.insurance[{index}]"
        sequence = item.get("sequence")
        if not isinstance(sequence, int) or sequence not in (1, 2) or sequence in found:
            reader.error(
                "insurance-order",
                "insurance sequences are 1 (AMO) and optionally 2 (AMC), once each",
                f"{ipath}.sequence",
            )
            continue
        focal = item.get("focal")
        if focal is not (sequence == 1):
            reader.error(
                "insurance-order",
                "the AMO coverage (sequence 1) is focal; the AMC coverage (sequence 2) is not",
                f"{ipath}.focal",
            )
        coverage = reader.follow(
            item.get("coverage"), f"{ipath}.coverage", ("Coverage",), "Claim.insurance.coverage"
        )
        refs = tuple(ref for ref in as_list(item.get("preAuthRef")) if isinstance(ref, str))
        found[sequence] = InsuranceRef(sequence, coverage, refs, ipath)
    if 1 not in found and not reader.has_errors:
        reader.error(
            "insurance-missing",
            "Claim.insurance needs the AMO coverage with sequence 1",
            f"{path}.insurance",
        )
    return found.get(1), found.get(2)


def _items(reader: BundleReader, claim: Mapping[str, Any], path: str) -> tuple[Line, ...] | None:
    items = as_list(claim.get("item"))
    if not items:
        reader.error("item-missing", "the Claim bills no item", f"{path}.item")
        return None
    lines: list[Line] = []
    seen: set[int] = set()
    total = Decimal(0)
    complete = True
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            complete = False
            continue
        line, net = _item(reader, item, f"{path}.item[{index}]", seen)
        if line is None or net is None:
            complete = False
        else:
            lines.append(line)
            total += net
    declared = claim.get("total")
    if declared is None:
        reader.error("total-mismatch", "Claim.total (the sum of item.net) is required", f"{path}.total")
    else:
        amount = reader.money(declared, f"{path}.total", "Claim.total")
        if complete and amount is not None and amount != total:
            reader.error(
                "total-mismatch",
                f"Claim.total is {amount} but the items' net sum to {total}",
                f"{path}.total",
            )
    return tuple(lines) if complete else None


def _item(
    reader: BundleReader, item: Mapping[str, Any], path: str, seen: set[int]
) -> tuple[Line | None, Decimal | None]:
    sequence = item.get("sequence")
    if isinstance(sequence, int):
        if sequence in seen:
            reader.error("item-sequence", f"item.sequence {sequence} is used twice", f"{path}.sequence")
        seen.add(sequence)
    code: LppCode | None = None
    product: Gtin | None = None
    lpp_found = False
    gtin: tuple[int, Mapping[str, Any]] | None = None
    for index, coding in codings(item.get("productOrService")):
        if reader.canon.is_lpp(coding.get("system")):
            lpp_found = True
            code = reader.value(LppCode, coding.get("code"), f"{path}.productOrService.coding[{index}].code")
            break
        if gtin is None and coding.get("system") == systems.GTIN:
            gtin = (index, coding)
    if not lpp_found and gtin is not None:  # a device off the LPP, by its GTIN
        product = reader.value(Gtin, gtin[1].get("code"), f"{path}.productOrService.coding[{gtin[0]}].code")
    elif not lpp_found:
        reader.error(
            "item-code-missing",
            f"item.productOrService needs a coding in {reader.canon.lpp} "
            f"(or in {systems.GTIN} for a device off the LPP)",
            f"{path}.productOrService",
        )
    category = None
    for _, coding in codings(item.get("category")):
        if coding.get("system") == reader.canon.device_category and isinstance(coding.get("code"), str):
            category = coding["code"]
            break
    quantity = None
    raw_quantity = item.get("quantity")
    value = to_decimal(raw_quantity.get("value")) if isinstance(raw_quantity, dict) else None
    if value is None or value != value.to_integral_value() or value < 1:
        reader.error(
            "item-quantity",
            "item.quantity.value must be a positive integer",
            f"{path}.quantity.value",
        )
    else:
        quantity = int(value)
    unit = None
    if item.get("unitPrice") is None:
        reader.error("item-unit-price", "item.unitPrice is required", f"{path}.unitPrice")
    else:
        unit = reader.money(item.get("unitPrice"), f"{path}.unitPrice", "item.unitPrice")
        if unit is not None and unit < 0:
            reader.error("item-unit-price", "item.unitPrice cannot be negative", f"{path}.unitPrice.value")
            unit = None
    factor = to_decimal(item.get("factor"))
    if item.get("factor") is not None and factor != 1:
        reader.error("item-factor", "item.factor other than 1 is not supported", f"{path}.factor")
    net = None
    if item.get("net") is None:
        reader.error("net-mismatch", "item.net (= quantity × unitPrice) is required", f"{path}.net")
    else:
        net = reader.money(item.get("net"), f"{path}.net", "item.net")
        if net is not None and unit is not None and quantity is not None and net != unit * quantity:
            reader.error(
                "net-mismatch",
                f"item.net is {net} but quantity × unitPrice is {unit * quantity}",
                f"{path}.net",
            )
    delivery = rental = None
    if item.get("servicedDate") is not None:
        delivery = reader.date(item.get("servicedDate"), f"{path}.servicedDate", "item.servicedDate")
    elif item.get("servicedPeriod") is not None:
        rental = read_period(
            reader, item.get("servicedPeriod"), f"{path}.servicedPeriod", "item.servicedPeriod"
        )
    else:
        reader.error(
            "item-serviced",
            "item.servicedDate (delivery) or item.servicedPeriod (rental) is required",
            f"{path}.serviced[x]",
        )
    if code is None and product is None:
        return None, None
    if not isinstance(sequence, int) or quantity is None or unit is None or net is None:
        return None, None
    if delivery is None and rental is None:
        return None, None
    line = Line(
        sequence=sequence,
        lpp_code=code,
        quantity=quantity,
        unit_price=Money.exact(unit),
        delivery_date=delivery,
        rental=rental,
        ear=_ear(item.get("bodySite")),
        product=product,
        category=category,
    )
    return line, net


def _ear(body_site: Any) -> Ear | None:
    """The ear named by item.bodySite (SNOMED CT left or right ear structure), else None.

    Any other body site is left to the rules, which flag a per-ear device without its ear.
    """
    for _, coding in codings(body_site):
        code = coding.get("code")
        if coding.get("system") == systems.SNOMED and isinstance(code, str) and code in systems.SNOMED_EARS:
            return Ear(systems.SNOMED_EARS[code])
    return None


def _money(amount: Money) -> dict[str, Any]:
    return {"value": amount.amount, "currency": "EUR"}


def to_claim(
    *,
    resource_id: str,
    use: ClaimUse,
    claim_type: ClaimType,
    created: str,
    patient_url: str,
    provider_url: str,
    prescription_url: str | None,
    insurance: list[dict[str, Any]],
    lines: tuple[Line, ...],
    tiers_payant: bool,
    identifier: tuple[str, str] | None,
    lpp_system: str,
    category_system: str = "",
) -> dict[str, Any]:
    claim: dict[str, Any] = {"resourceType": "Claim", "id": resource_id}
    if identifier is not None:
        claim["identifier"] = [{"system": identifier[0], "value": identifier[1]}]
    claim["status"] = "active"
    claim["type"] = {"coding": [{"system": systems.CLAIM_TYPE, "code": claim_type.value}]}
    claim["use"] = use.value
    claim["patient"] = {"reference": patient_url}
    claim["created"] = created
    claim["provider"] = {"reference": provider_url}
    claim["priority"] = {"coding": [{"system": systems.PROCESS_PRIORITY, "code": "normal"}]}
    if prescription_url is not None:
        claim["prescription"] = {"reference": prescription_url}
    claim["payee"] = {
        "type": {
            "coding": [{"system": systems.PAYEE_TYPE, "code": "provider" if tiers_payant else "subscriber"}]
        }
    }
    claim["insurance"] = insurance
    items = []
    total = Money.zero()
    for line in lines:
        item: dict[str, Any] = {"sequence": line.sequence}
        if line.category is not None:
            item["category"] = {"coding": [{"system": category_system, "code": line.category}]}
        if line.lpp_code is not None:
            item["productOrService"] = {"coding": [{"system": lpp_system, "code": line.lpp_code.value}]}
        elif line.product is not None:
            item["productOrService"] = {"coding": [{"system": systems.GTIN, "code": line.product.value}]}
        if line.delivery_date is not None:
            item["servicedDate"] = line.delivery_date.isoformat()
        if line.rental is not None:
            item["servicedPeriod"] = to_period(line.rental)
        if line.ear is not None:
            code = next(code for code, ear in systems.SNOMED_EARS.items() if ear == line.ear.value)
            item["bodySite"] = {"coding": [{"system": systems.SNOMED, "code": code}]}
        item["quantity"] = {"value": line.quantity}
        item["unitPrice"] = _money(line.unit_price)
        item["net"] = _money(line.net)
        items.append(item)
        total = total + line.net
    claim["item"] = items
    claim["total"] = _money(total)
    return claim
