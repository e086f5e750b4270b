"""Time the XML codec against fhir.resources on a ~10 KB submission Bundle.

Run with ``python -m benchmarks.xml_codec [--runs N]``. It prints the median time of each way
of reading and writing the same collection Bundle (Claim, DeviceRequest, Patient,
Practitioner, provider and payer Organizations, AMO and AMC Coverages), and the two ratios the
codec is held to: reading XML through ``parse_xml`` + ``Bundle.model_validate`` within 2× of
``Bundle.model_validate_json``, and ``dump_xml`` well ahead of ``model_dump_xml``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from lxml import etree

from mappings.fhir.xml import dump_xml, parse_xml

_UUIDS = {
    role: f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
    for number, role in enumerate(
        ["claim", "request", "patient", "practitioner", "provider", "amo", "amc", "cov1", "cov2"]
    )
}
_NIR = "1840599123456"
_HARDENED = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
    huge_tree=False,
)


def _ref(role: str) -> dict[str, str]:
    return {"reference": _UUIDS[role]}


def _organization(system: str, value: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": system, "value": value}],
        "active": True,
        "name": name,
        "address": [{"line": ["1 rue de la Paix"], "city": "Lyon", "postalCode": "69001"}],
    }


def _coverage(type_code: str, payor: str, order: int) -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "status": "active",
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": type_code}]
        },
        "subscriberId": _NIR + "97",
        "beneficiary": _ref("patient"),
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "payor": [_ref(payor)],
        "order": order,
        "class": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "https://adapter.example/fhir/CodeSystem/coverage-class",
                            "code": "nature-assurance",
                        }
                    ]
                },
                "value": "10",
            }
        ],
    }


def sample_bundle() -> dict[str, Any]:
    """A synthetic collection Bundle of about 10 KB in JSON (invented identifiers)."""
    lpp = "https://adapter.example/fhir/CodeSystem/lpp"
    lines = 12
    price = Decimal("120.50")
    items: list[dict[str, Any]] = [
        {
            "sequence": n,
            "productOrService": {
                "coding": [{"system": lpp, "code": f"{1100000 + n}", "display": f"Device {n}"}]
            },
            "servicedDate": "2025-03-14",
            "quantity": {"value": Decimal(n)},
            "unitPrice": {"value": price, "currency": "EUR"},
            "net": {"value": price * n, "currency": "EUR"},
        }
        for n in range(1, lines + 1)
    ]
    claim = {
        "resourceType": "Claim",
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>Facture LPP : {lines} lignes</p></div>',
        },
        "identifier": [{"system": "https://hospital.example/claims", "value": "C-2025-0001"}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": _ref("patient"),
        "created": "2025-03-14T10:00:00+01:00",
        "insurer": _ref("amo"),
        "provider": _ref("provider"),
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "prescription": _ref("request"),
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": _ref("cov1")},
            {"sequence": 2, "focal": False, "coverage": _ref("cov2")},
        ],
        "item": items,
        "total": {"value": price * sum(range(1, lines + 1)), "currency": "EUR"},
    }
    request = {
        "resourceType": "DeviceRequest",
        "extension": [{"url": "https://adapter.example/fhir/StructureDefinition/ald", "valueBoolean": False}],
        "status": "active",
        "intent": "order",
        "codeCodeableConcept": {"coding": [{"system": lpp, "code": "1100001"}], "text": "Device 1"},
        "parameter": [{"code": {"text": "quantity"}, "valueQuantity": {"value": Decimal(2)}}],
        "subject": _ref("patient"),
        "authoredOn": "2025-02-01",
        "requester": _ref("practitioner"),
    }
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": _NIR + "97"}],
        "name": [{"family": "Martin", "given": ["Camille", "Jeanne"]}],
        "telecom": [{"system": "phone", "value": "+33 4 00 00 00 00", "use": "home"}],
        "gender": "female",
        "birthDate": "1984-05-12",
        "address": [{"line": ["12 avenue des Lilas"], "city": "Lyon", "postalCode": "69003"}],
    }
    practitioner = {
        "resourceType": "Practitioner",
        "identifier": [{"system": "https://rpps.esante.gouv.fr", "value": "10000000000"}],
        "name": [{"family": "Durand", "given": ["Paul"], "prefix": ["Dr"]}],
        "telecom": [{"system": "email", "value": "paul.durand@cabinet.example"}],
    }
    resources = {
        "claim": claim,
        "request": request,
        "patient": patient,
        "practitioner": practitioner,
        "provider": _organization("https://finess.esante.gouv.fr", "690000000", "Clinique"),
        "amo": _organization("https://adapter.example/fhir/NamingSystem/amo-organisme", "011691234", "CPAM"),
        "amc": _organization("https://adapter.example/fhir/NamingSystem/amc", "123456789", "Mutuelle"),
        "cov1": _coverage("PUBLICPOL", "amo", 1),
        "cov2": _coverage("EHCPOL", "amc", 2),
    }
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "https://hospital.example/submissions", "value": "S-2025-0001"},
        "type": "collection",
        "timestamp": "2025-03-14T10:00:00+01:00",
        "entry": [{"fullUrl": _UUIDS[role], "resource": res} for role, res in resources.items()],
    }


def _median_ms(action: Callable[[], object], runs: int) -> float:
    for _ in range(max(3, runs // 10)):
        action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    """Print the medians and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    runs = parser.parse_args().runs

    data = sample_bundle()
    as_json = json.dumps(data, default=str).encode()
    model = Bundle.model_validate(data)
    json_dict = model.model_dump(mode="json")
    as_xml = dump_xml(data)
    print(f"Bundle: {len(as_json)} bytes of JSON, {len(as_xml)} bytes of XML")

    timings = {
        "Bundle.model_validate_json(json)": _median_ms(lambda: Bundle.model_validate_json(as_json), runs),
        "parse_xml(xml)": _median_ms(lambda: parse_xml(as_xml), runs),
        "Bundle.model_validate(parse_xml(xml))": _median_ms(
            lambda: Bundle.model_validate(parse_xml(as_xml)), runs
        ),
        "Bundle.model_validate_xml(xml)": _median_ms(
            lambda: Bundle.model_validate_xml(as_xml, xmlparser=_HARDENED), runs
        ),
        "model.model_dump_json()": _median_ms(model.model_dump_json, runs),
        "dump_xml(model.model_dump(mode='json'))": _median_ms(
            lambda: dump_xml(model.model_dump(mode="json")), runs
        ),
        "dump_xml(dict)": _median_ms(lambda: dump_xml(json_dict), runs),
        "model.model_dump_xml()": _median_ms(model.model_dump_xml, runs),
    }
    for label, ms in timings.items():
        print(f"{label:45s} {ms:8.3f} ms")
    read = timings["Bundle.model_validate(parse_xml(xml))"] / timings["Bundle.model_validate_json(json)"]
    write = timings["model.model_dump_xml()"] / timings["dump_xml(model.model_dump(mode='json'))"]
    print(f"read XML / read JSON: {read:.2f}× (target ≤ 2×)")
    print(f"model_dump_xml / (model_dump + dump_xml): {write:.1f}× faster")


if __name__ == "__main__":
    main()
