"""A device's LPP status → a FHIR R4 ``ChargeItemDefinition``, and a ``CodeSystem/$lookup`` answer.

The ChargeItemDefinition says the same things twice: for a machine (``effectivePeriod``, one
``applicability`` per condition with a FHIRPath expression, ``propertyGroup.priceComponent``
for the BR as the ``base`` and the PLV as an ``informational`` cap, one extension per row
attribute) and for a person (``description``, French first, then English).

The expressions are evaluated against a delivery, with these variables: ``%servicedDate``
(the delivery day), ``%quantity`` (units on the line), ``%deliveredThisYear`` (units of the
code's cap group already delivered in the calendar year), ``%deliveredInRenewalPeriod``
(units of the cap group delivered in the renewal interval before the delivery day),
``%deliveredToEarInRenewalPeriod`` (the same, fitted to the line's ear, for a per-ear device),
``%patientAge`` (years on the delivery day) and
``%priorApproval`` (true when the entente préalable was granted).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from adapter.domain.device import DeviceStatus
from adapter.domain.values import Money
from mappings.outbound._terms import CURRENCY
from mappings.systems import Canon

__all__ = ["DEVICE_LANGUAGE", "to_charge_item_definition", "to_lookup_parameters"]

DEVICE_LANGUAGE = "text/fhirpath"
_KINDS = {
    "generic": ("ligne générique", "generic line"),
    "individual": ("code individuel", "individual code"),
}
_RENTAL_UNITS = {"week": ("semaine", "week"), "month": ("mois", "month")}
_OPTICS_CLASSES = {
    "frame": ("monture", "frame"),
    "simple": ("verre simple", "simple lens"),
    "complex": ("verre complexe", "complex lens"),
    "very-complex": ("verre très complexe", "very complex lens"),
}
_PECAN = {
    "first-period": ("forfait de première période", "first-period forfait"),
    "monthly": ("forfait mensuel", "monthly forfait"),
}
_FORFAITS = {
    "operator": ("forfait de télésurveillance de l'opérateur", "telemonitoring forfait, operator"),
    "technical": ("forfait technique de télésurveillance", "telemonitoring forfait, technical"),
}


def _fr_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _euros(amount: Money) -> str:
    return f"{amount.amount} €"


def _money(amount: Money) -> dict[str, Any]:
    return {"value": amount.amount, "currency": CURRENCY}


def _conditions(status: DeviceStatus) -> list[tuple[str, str, str]]:
    """``(French, English, FHIRPath)`` of each condition of the row."""
    found: list[tuple[str, str, str]] = []
    if status.deactivated_on is not None:
        day = status.deactivated_on
        found.append(
            (
                f"ligne générique désactivée à partir du {_fr_day(day)}",
                f"generic line deactivated from {day.isoformat()}",
                f"%servicedDate < @{day.isoformat()}",
            )
        )
    if status.entente_prealable:
        found.append(("entente préalable requise", "prior approval required", "%priorApproval = true"))
    if status.max_per_delivery is not None:
        found.append(
            (
                f"au plus {status.max_per_delivery} par délivrance",
                f"at most {status.max_per_delivery} per delivery",
                f"%quantity <= {status.max_per_delivery}",
            )
        )
    if status.max_per_year is not None:
        found.append(
            (
                f"au plus {status.max_per_year} par an",
                f"at most {status.max_per_year} per year",
                f"%deliveredThisYear + %quantity <= {status.max_per_year}",
            )
        )
    if status.renewal_months is not None:
        quantity = status.renewal_quantity
        found.append(
            (
                f"renouvellement : {quantity} tous les {status.renewal_months} mois",
                f"renewal: {quantity} every {status.renewal_months} months",
                f"%deliveredInRenewalPeriod + %quantity <= {quantity}",
            )
        )
        if status.renewal_per_ear is not None:
            per_ear = status.renewal_per_ear
            found.append(
                (
                    f"par oreille : {per_ear} tous les {status.renewal_months} mois",
                    f"per ear: {per_ear} every {status.renewal_months} months",
                    f"%deliveredToEarInRenewalPeriod + %quantity <= {per_ear}",
                )
            )
    if status.age_min is not None:
        found.append(
            (
                f"patient de {status.age_min} ans ou plus",
                f"patient aged {status.age_min} or more",
                f"%patientAge >= {status.age_min}",
            )
        )
    if status.age_max is not None:
        found.append(
            (
                f"patient de {status.age_max} ans ou moins",
                f"patient aged {status.age_max} or less",
                f"%patientAge <= {status.age_max}",
            )
        )
    return found


def _facts(status: DeviceStatus) -> tuple[list[str], list[str]]:
    """The row's facts as French and English sentences (without the conditions)."""
    kind_fr, kind_en = _KINDS.get(status.kind, (status.kind, status.kind))
    until_fr = f" au {_fr_day(status.valid_to)}" if status.valid_to else ""
    until_en = f" to {status.valid_to.isoformat()}" if status.valid_to else ""
    french = [
        f"LPP {status.code} : {status.label}.",
        f"Tarif (BR) : {_euros(status.tarif)} par unité"
        + (f" ; PLV : {_euros(status.plv)}." if status.plv is not None else " ; pas de PLV."),
        f"En vigueur du {_fr_day(status.valid_from)}{until_fr}.",
        (f"Titre {status.titre}, " if status.titre else "") + f"catégorie {status.category}, {kind_fr}.",
    ]
    english = [
        f"LPP {status.code}: {status.label}.",
        f"Tariff (BR): {_euros(status.tarif)} per unit"
        + (f"; PLV (price cap): {_euros(status.plv)}." if status.plv is not None else "; no PLV."),
        f"In force from {status.valid_from.isoformat()}{until_en}.",
        (f"Titre {status.titre}, " if status.titre else "") + f"category {status.category}, {kind_en}.",
    ]
    if status.sante100 is not None:
        french.append(f"100 % Santé, classe {status.sante100}.")
        english.append(f"100 % Santé (no out-of-pocket), class {status.sante100}.")
    if status.telemonitoring is not None:
        forfait_fr, forfait_en = _FORFAITS.get(
            status.telemonitoring, (status.telemonitoring, status.telemonitoring)
        )
        french.append(f"Télésurveillance : {forfait_fr}.")
        english.append(f"Telemonitoring: {forfait_en}.")
    if status.rental_unit is not None:
        unit_fr, unit_en = _RENTAL_UNITS.get(status.rental_unit, (status.rental_unit, status.rental_unit))
        french.append(f"Location : une unité par {unit_fr}, chacune au tarif de sa date.")
        english.append(f"Rental: one unit per {unit_en}, each at the tariff of its own date.")
    if status.optics_class is not None:
        class_fr, class_en = _OPTICS_CLASSES.get(
            status.optics_class, (status.optics_class, status.optics_class)
        )
        french.append(f"Optique : {class_fr} (planchers et plafonds du contrat responsable).")
        english.append(f"Optics: {class_en} (contrat-responsable floors and ceilings).")
    if status.pecan is not None:
        pecan_fr, pecan_en = _PECAN.get(status.pecan, (status.pecan, status.pecan))
        french.append(f"PECAN (prise en charge anticipée numérique) : {pecan_fr}.")
        english.append(f"PECAN (early digital coverage): {pecan_en}.")
    if status.usual_quantity is not None:
        french.append(f"Quantité habituelle : {status.usual_quantity} par ligne.")
        english.append(f"Usual quantity: {status.usual_quantity} per line.")
    if status.deactivated:
        french.append(f"Non remboursable le {_fr_day(status.day)} : ligne générique désactivée.")
        english.append(f"Not billable on {status.day.isoformat()}: deactivated generic line.")
    return french, english


def _description(status: DeviceStatus, conditions: list[tuple[str, str, str]]) -> str:
    french, english = _facts(status)
    if conditions:
        french.append("Conditions : " + " ; ".join(fr for fr, _, _ in conditions) + ".")
        english.append("Conditions: " + "; ".join(en for _, en, _ in conditions) + ".")
    return " ".join(french) + "\n\n" + " ".join(english)


def _extensions(status: DeviceStatus, canon: Canon) -> list[dict[str, Any]]:
    values: list[tuple[str, str, Any]] = [
        ("category", "valueCode", status.category),
        ("kind", "valueCode", status.kind),
        ("deactivated", "valueBoolean", status.deactivated),
    ]
    if status.titre:
        values.insert(0, ("titre", "valueCode", status.titre))
    if status.deactivated_on is not None:
        values.append(("deactivated-on", "valueDate", status.deactivated_on.isoformat()))
    if status.sante100 is not None:
        values.append(("sante100", "valueCode", status.sante100))
    if status.telemonitoring is not None:
        values.append(("telemonitoring", "valueCode", status.telemonitoring))
    values += _second_pass_values(status, "renewal-per-ear", "rental-unit", "optics-class", "usual-quantity")
    return [{"url": canon.lpp_attribute(name), key: value} for name, key, value in values]


def _second_pass_values(
    status: DeviceStatus, per_ear: str, rental: str, optics: str, usual: str
) -> list[tuple[str, str, Any]]:
    """The per-ear renewal, rental unit, optics class, usual quantity and PECAN kind, under
    the given names (the extensions' and the ``$lookup`` properties' differ)."""
    values: list[tuple[str, str, Any]] = []
    if status.renewal_per_ear is not None:
        values.append((per_ear, "valueInteger", status.renewal_per_ear))
    if status.rental_unit is not None:
        values.append((rental, "valueCode", status.rental_unit))
    if status.optics_class is not None:
        values.append((optics, "valueCode", status.optics_class))
    if status.usual_quantity is not None:
        values.append((usual, "valueInteger", status.usual_quantity))
    if status.pecan is not None:
        values.append(("pecan", "valueCode", status.pecan))
    return values


def _price_components(status: DeviceStatus, canon: Canon) -> list[dict[str, Any]]:
    components = [
        {
            "type": "base",
            "code": {
                "coding": [{"system": canon.lpp_price, "code": "br", "display": "Base de remboursement (BR)"}]
            },
            "amount": _money(status.tarif),
        }
    ]
    if status.plv is not None:
        components.append(
            {
                "type": "informational",
                "code": {
                    "coding": [
                        {"system": canon.lpp_price, "code": "plv", "display": "Prix limite de vente (PLV)"}
                    ],
                    "text": "Prix limite de vente : plafond du prix facturé / price cap",
                },
                "amount": _money(status.plv),
            }
        )
    return components


def to_charge_item_definition(status: DeviceStatus, *, canon: Canon) -> dict[str, Any]:
    """The row as a ChargeItemDefinition (FHIR JSON dict; amounts are Decimals to the cent)."""
    conditions = _conditions(status)
    period: dict[str, str] = {"start": status.valid_from.isoformat()}
    if status.valid_to is not None:
        period["end"] = status.valid_to.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "ChargeItemDefinition",
        "id": status.id,
        "extension": _extensions(status, canon),
        "url": f"{canon.base}/ChargeItemDefinition/{status.id}",
        "identifier": [{"system": canon.lpp, "value": status.code}],
        "title": status.label,
        "status": "retired" if status.deactivated else "active",
        "description": _description(status, conditions),
        "code": {"coding": [{"system": canon.lpp, "code": status.code, "display": status.label}]},
        "effectivePeriod": period,
    }
    if conditions:
        resource["applicability"] = [
            {"description": f"{fr} / {en}", "language": DEVICE_LANGUAGE, "expression": expression}
            for fr, en, expression in conditions
        ]
    resource["propertyGroup"] = [{"priceComponent": _price_components(status, canon)}]
    return resource


def _property(code: str, key: str, value: Any) -> dict[str, Any]:
    return {"name": "property", "part": [{"name": "code", "valueCode": code}, {"name": "value", key: value}]}


def to_lookup_parameters(status: DeviceStatus, *, canon: Canon) -> dict[str, Any]:
    """The ``CodeSystem/$lookup`` answer for the row: name, display and one property per attribute."""
    values: list[tuple[str, str, Any]] = [("tarif", "valueDecimal", status.tarif.amount)]
    if status.plv is not None:
        values.append(("plv", "valueDecimal", status.plv.amount))
    values.append(("validFrom", "valueDateTime", status.valid_from.isoformat()))
    if status.valid_to is not None:
        values.append(("validTo", "valueDateTime", status.valid_to.isoformat()))
    if status.titre:
        values.append(("titre", "valueCode", status.titre))
    values += [
        ("category", "valueCode", status.category),
        ("kind", "valueCode", status.kind),
        ("deactivated", "valueBoolean", status.deactivated),
    ]
    if status.deactivated_on is not None:
        values.append(("deactivatedOn", "valueDateTime", status.deactivated_on.isoformat()))
    values.append(("ententePrealable", "valueBoolean", status.entente_prealable))
    counts = (
        ("maxPerDelivery", status.max_per_delivery),
        ("maxPerYear", status.max_per_year),
        ("renewalMonths", status.renewal_months),
        ("renewalQuantity", status.renewal_quantity if status.renewal_months is not None else None),
        ("ageMin", status.age_min),
        ("ageMax", status.age_max),
    )
    values += [(name, "valueInteger", count) for name, count in counts if count is not None]
    if status.sante100 is not None:
        values.append(("sante100", "valueCode", status.sante100))
    if status.telemonitoring is not None:
        values.append(("telemonitoring", "valueCode", status.telemonitoring))
    values += _second_pass_values(status, "renewalPerEar", "rentalUnit", "opticsClass", "usualQuantity")
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "name", "valueString": "LPP"},
            {"name": "display", "valueString": status.label},
            {"name": "system", "valueUri": canon.lpp},
            {"name": "code", "valueCode": status.code},
            *(_property(code, key, value) for code, key, value in values),
        ],
    }
