"""Regenerate ``mappings/required-codes.json`` from the FHIR R4 specification's own value sets.

fhir.resources lists a required binding's codes from the element's short definition, and for
some elements it has no whole list (``amended +`` in R4 means "and more"; ``<`` and ``>`` are
not read). The official examples package (``hl7.fhir.r4.examples``, fetched for the official
tests) carries the specification's StructureDefinitions, ValueSets and CodeSystems, so the
codes of those elements are read from there, for every required binding whose value set can be
listed without a terminology server (whole code systems or listed codes, no filters).

Run ``python -m tests.build_required_codes`` to rewrite the file, ``--check`` to compare it
(exit 1 when it differs). ``tests/official/test_official_bindings.py`` fails when it is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mappings.fhir import REQUIRED_CODES_FILE, classify, listed_codes, model_class

__all__ = ["bindings", "class_of", "main", "render", "value_set_codes"]


def _read(folder: Path, prefix: str) -> dict[str, dict[str, Any]]:
    by_url: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob(f"{prefix}-*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        by_url[resource.get("url", "")] = resource
    return by_url


def _concepts(concepts: list[Mapping[str, Any]]) -> set[str]:
    codes: set[str] = set()
    for concept in concepts:
        codes.add(concept["code"])
        codes |= _concepts(concept.get("concept", []))
    return codes


def value_set_codes(url: str, value_sets: Mapping[str, Any], systems: Mapping[str, Any]) -> set[str] | None:
    """The codes of a value set, or None when they cannot be listed without a terminology server."""
    value_set = value_sets.get(url)
    if value_set is None or value_set.get("compose", {}).get("exclude"):
        return None
    codes: set[str] = set()
    for include in value_set.get("compose", {}).get("include", []):
        if include.get("filter"):
            return None
        if "concept" in include:
            codes |= {concept["code"] for concept in include["concept"]}
        elif "system" in include:
            system = systems.get(include["system"])
            if system is None or system.get("content", "complete") != "complete":
                return None
            codes |= _concepts(system.get("concept", []))
        for nested in include.get("valueSet", []):
            more = value_set_codes(nested.split("|")[0], value_sets, systems)
            if more is None:
                return None
            codes |= more
    return codes


def class_of(path: str) -> str | None:
    """The fhir.resources class holding the last element of a path (``Claim.item.net`` → ClaimItem)."""
    steps = path.split(".")
    name = steps[0]
    for step in steps[1:-1]:
        model = model_class(name)
        if model is None:
            return None
        fields = {field.alias or key: field for key, field in model.model_fields.items()}
        if step not in fields:
            return None
        name = classify(fields[step].annotation)[2]
    return name


def bindings(examples: Path) -> dict[tuple[str, str], tuple[str, frozenset[str]]]:
    """(class, element) → (value set URL, its codes) for every enumerable required binding."""
    value_sets = _read(examples, "ValueSet")
    systems = _read(examples, "CodeSystem")
    found: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
    for path in sorted(examples.glob("StructureDefinition-*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        if definition.get("derivation") != "specialization":
            continue
        for element in definition.get("snapshot", {}).get("element", []):
            binding = element.get("binding", {})
            if binding.get("strength") != "required" or "[x]" in element["path"]:
                continue
            url = binding.get("valueSet", "").split("|")[0]
            codes = value_set_codes(url, value_sets, systems)
            holder = class_of(element["path"])
            if codes is not None and holder is not None:
                found[(holder, element["path"].split(".")[-1])] = (url, frozenset(codes))
    return found


def render(examples: Path) -> str:
    """The file's text: the value sets fhir.resources has no whole list for, and their elements."""
    value_sets: dict[str, list[str]] = {}
    elements: dict[str, str] = {}
    for (holder, element), (url, codes) in sorted(bindings(examples).items()):
        cls = model_class(holder)
        if cls is None:
            continue
        fields = {field.alias or key: field for key, field in cls.model_fields.items()}
        field = fields.get(element)
        if field is None:
            continue
        if classify(field.annotation)[2] != "code":
            continue  # a CodeableConcept: its codings are not checked against value sets
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if listed_codes(extra.get("enum_values")) is not None:
            continue  # fhir.resources' own list is whole (a test compares them)
        name = url.rsplit("/", 1)[-1]
        value_sets[name] = sorted(codes)
        elements[f"{holder}.{element}"] = name
    document = {
        "source": "hl7.fhir.r4.examples 4.0.1: StructureDefinition, ValueSet and CodeSystem resources",
        "generated-by": "python -m tests.build_required_codes",
        "elements": elements,
        "value-sets": dict(sorted(value_sets.items())),
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    from tests.official.conftest import ensure_examples

    parser = argparse.ArgumentParser(prog="python -m tests.build_required_codes", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write; exit 1 on a difference")
    args = parser.parse_args(argv)
    text = render(ensure_examples())
    if args.check:
        if REQUIRED_CODES_FILE.read_text(encoding="utf-8") != text:
            print(f"{REQUIRED_CODES_FILE} is stale: run python -m tests.build_required_codes")
            return 1
        print(f"{REQUIRED_CODES_FILE} is up to date")
        return 0
    REQUIRED_CODES_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {REQUIRED_CODES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
