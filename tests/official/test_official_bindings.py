"""The walk's required code lists against the R4 value sets themselves.

The official examples package holds the specification's StructureDefinitions, ValueSets and
CodeSystems. For every required binding whose value set can be enumerated (whole code systems
or listed codes, no filters), the codes the walk checks must be exactly the value set's: a
code missing from its list would refuse valid input. Elements the walk leaves unchecked
(fhir.resources gives no whole list) are counted, not failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mappings._fhir import elements, model_class
from mappings._xmlmeta import classify


def _read(folder: Path, prefix: str) -> dict[str, dict[str, Any]]:
    by_url: dict[str, dict[str, Any]] = {}
    for path in folder.glob(f"{prefix}-*.json"):
        resource = json.loads(path.read_text(encoding="utf-8"))
        by_url[resource.get("url", "")] = resource
    return by_url


def _concepts(concepts: list[Mapping[str, Any]]) -> set[str]:
    codes: set[str] = set()
    for concept in concepts:
        codes.add(concept["code"])
        codes |= _concepts(concept.get("concept", []))
    return codes


def _value_set(url: str, value_sets: Mapping[str, Any], systems: Mapping[str, Any]) -> set[str] | None:
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
            more = _value_set(nested.split("|")[0], value_sets, systems)
            if more is None:
                return None
            codes |= more
    return codes


def _class_of(path: str) -> str | None:
    """The fhir.resources class holding the last element of an element path (Claim.item.net → ClaimItem)."""
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


def test_every_checked_code_list_is_its_value_set(official_examples_dir: Path) -> None:
    value_sets = _read(official_examples_dir, "ValueSet")
    systems = _read(official_examples_dir, "CodeSystem")
    compared, unchecked, wrong = 0, 0, {}
    for path in sorted(official_examples_dir.glob("StructureDefinition-*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        if definition.get("derivation") != "specialization":
            continue
        for element in definition.get("snapshot", {}).get("element", []):
            binding = element.get("binding", {})
            if binding.get("strength") != "required" or "[x]" in element["path"]:
                continue
            codes = _value_set(binding.get("valueSet", "").split("|")[0], value_sets, systems)
            holder = _class_of(element["path"])
            if codes is None or holder is None:
                continue
            info = elements(holder).get(element["path"].split(".")[-1])
            if info is None:
                continue
            if info.codes is None:
                unchecked += 1
            elif info.codes != codes:
                wrong[element["path"]] = sorted(codes ^ info.codes)
            else:
                compared += 1
    assert wrong == {}
    assert compared > 250  # the walk does check most of them
    assert unchecked < 80
