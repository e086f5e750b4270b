"""DeviceRequest ⇄ Prescription: date, prescriber, LPP code, ALD and vision-change flags,
quantity, period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.domain import BusinessIdentifier, LppCode, Prescription
from mappings.fhir import as_list, codings, identifiers, to_decimal
from mappings.inbound._coverage import read_period, to_period
from mappings.inbound._practitioner import read_prescriber
from mappings.inbound._reader import BundleReader, Entry

__all__ = ["read_prescription", "to_device_request"]

_STATUSES = ("active", "completed")
_INTENTS = ("order", "original-order")


def read_prescription(reader: BundleReader, entry: Entry, patient: Entry | None) -> Prescription | None:
    resource = entry.resource
    path = entry.path
    status, intent = resource.get("status"), resource.get("intent")
    if status is not None and status not in _STATUSES:
        reader.error(
            "prescription-status",
            f"DeviceRequest.status must be active or completed, not {status!r}",
            f"{path}.status",
        )
    if intent not in _INTENTS and isinstance(intent, str):
        reader.error(
            "prescription-status",
            f"DeviceRequest.intent must be order or original-order, not {intent!r}",
            f"{path}.intent",
        )
    subject = reader.lookup(resource.get("subject"))
    if patient is not None and subject is not None and subject is not patient:
        reader.error(
            "prescription-patient",
            "the DeviceRequest is for another patient than the Claim",
            f"{path}.subject",
        )
    lpp: LppCode | None = None
    text: str | None = None
    coded = False
    concept = resource.get("codeCodeableConcept")
    if isinstance(concept, dict):
        for index, coding in codings(concept):
            if reader.canon.is_lpp(coding.get("system")):
                coded = True
                lpp = reader.value(
                    LppCode, coding.get("code"), f"{path}.codeCodeableConcept.coding[{index}].code"
                )
                break
        raw_text = concept.get("text")
        text = raw_text if isinstance(raw_text, str) else None
    elif isinstance(resource.get("codeReference"), dict):
        display = resource["codeReference"].get("display")
        text = display if isinstance(display, str) else str(resource["codeReference"].get("reference"))
    authored_raw = resource.get("authoredOn")
    if authored_raw is None:
        reader.error(
            "prescription-date-missing",
            "DeviceRequest.authoredOn (the prescription date) is required",
            f"{path}.authoredOn",
        )
        authored = None
    else:
        authored = reader.date(
            authored_raw[:10] if isinstance(authored_raw, str) else None,
            f"{path}.authoredOn",
            "DeviceRequest.authoredOn",
        )
    prescriber = None
    requester = resource.get("requester")
    if requester is None:
        reader.error(
            "prescriber-missing",
            "DeviceRequest.requester must reference the prescriber",
            f"{path}.requester",
        )
    else:
        target = reader.follow(
            requester,
            f"{path}.requester",
            ("Practitioner", "PractitionerRole"),
            "DeviceRequest.requester",
        )
        if target is not None:
            prescriber = read_prescriber(reader, target)
    quantity = _quantity(reader, resource, path)
    ald = vision_change = False
    for index, extension in enumerate(as_list(resource.get("extension"))):
        if isinstance(extension, dict) and extension.get("url") == reader.canon.ald:
            value = extension.get("valueBoolean")
            if not isinstance(value, bool):
                reader.error(
                    "element-invalid",
                    "the ALD extension carries valueBoolean",
                    f"{path}.extension[{index}]",
                )
            ald = value is True
        elif isinstance(extension, dict) and extension.get("url") == reader.canon.vision_change:
            value = extension.get("valueBoolean")
            if not isinstance(value, bool):
                reader.error(
                    "element-invalid",
                    "the vision-change extension carries valueBoolean",
                    f"{path}.extension[{index}]",
                )
            vision_change = value is True
    period = read_period(
        reader,
        resource.get("occurrencePeriod"),
        f"{path}.occurrencePeriod",
        "DeviceRequest.occurrencePeriod",
    )
    identifier = None
    for _, ident in identifiers(resource):
        if isinstance(ident.get("system"), str) and isinstance(ident.get("value"), str):
            identifier = BusinessIdentifier(system=ident["system"], value=ident["value"])
            break
    if lpp is None and text is None:
        if not coded:  # an LPP code refused above has its own issue
            reader.error(
                "prescription-device-missing",
                "the DeviceRequest names no device: an LPP coding or a text in codeCodeableConcept "
                "(or a Device in codeReference)",
                f"{path}.codeCodeableConcept",
            )
        return None
    if authored is None or prescriber is None:
        return None
    return Prescription(
        authored_on=authored,
        prescriber=prescriber,
        lpp_code=lpp,
        text=text,
        ald=ald,
        vision_change=vision_change,
        quantity=quantity,
        period=period,
        identifier=identifier,
    )


def _quantity(reader: BundleReader, resource: Mapping[str, Any], path: str) -> int | None:
    for index, parameter in enumerate(as_list(resource.get("parameter"))):
        if not isinstance(parameter, dict):
            continue
        code = parameter.get("code")
        if not (isinstance(code, dict) and code.get("text") == "quantity"):
            continue
        raw = parameter.get("valueQuantity")
        value = to_decimal(raw.get("value")) if isinstance(raw, dict) else None
        if value is None or value != value.to_integral_value() or value < 1:
            reader.error(
                "prescription-quantity",
                "the prescribed quantity must be a positive integer",
                f"{path}.parameter[{index}].valueQuantity.value",
            )
            return None
        return int(value)
    return None


def to_device_request(
    prescription: Prescription,
    resource_id: str,
    patient_url: str,
    requester_url: str,
    lpp_system: str,
    ald_url: str,
    vision_change_url: str = "",
) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if prescription.lpp_code is not None:
        concept["coding"] = [{"system": lpp_system, "code": prescription.lpp_code.value}]
    if prescription.text is not None:
        concept["text"] = prescription.text
    resource: dict[str, Any] = {"resourceType": "DeviceRequest", "id": resource_id}
    extensions: list[dict[str, Any]] = []
    if prescription.ald:
        extensions.append({"url": ald_url, "valueBoolean": True})
    if prescription.vision_change:
        extensions.append({"url": vision_change_url, "valueBoolean": True})
    if extensions:
        resource["extension"] = extensions
    if prescription.identifier is not None:
        resource["identifier"] = [
            {"system": prescription.identifier.system, "value": prescription.identifier.value}
        ]
    resource["status"] = "active"
    resource["intent"] = "order"
    resource["codeCodeableConcept"] = concept
    if prescription.quantity is not None:
        resource["parameter"] = [
            {"code": {"text": "quantity"}, "valueQuantity": {"value": prescription.quantity}}
        ]
    resource["subject"] = {"reference": patient_url}
    if prescription.period is not None:
        resource["occurrencePeriod"] = to_period(prescription.period)
    resource["authoredOn"] = prescription.authored_on.isoformat()
    resource["requester"] = {"reference": requester_url}
    return resource
