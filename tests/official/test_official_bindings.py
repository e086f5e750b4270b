"""The walk's required code lists against the R4 value sets themselves.

The official examples package holds the specification's StructureDefinitions, ValueSets and
CodeSystems. For every required binding whose value set can be enumerated (whole code systems
or listed codes, no filters), the codes the walk checks must be exactly the value set's: a
code missing from its list would refuse valid input. The lists fhir.resources has no whole
list for come from ``mappings/required-codes.json``, generated from the same package.
"""

from __future__ import annotations

from pathlib import Path

from mappings.fhir import REQUIRED_CODES_FILE, elements
from tests.build_required_codes import bindings, render


def test_the_generated_code_lists_are_up_to_date(official_examples_dir: Path) -> None:
    """``python -m tests.build_required_codes`` would write the file as it is."""
    assert REQUIRED_CODES_FILE.read_text(encoding="utf-8") == render(official_examples_dir)


def test_every_checked_code_list_is_its_value_set(official_examples_dir: Path) -> None:
    compared, unchecked, wrong = 0, [], {}
    for (holder, element), (_, codes) in bindings(official_examples_dir).items():
        info = elements(holder).get(element)
        if info is None or info.child is not None:
            continue  # a CodeableConcept: its codings are not checked
        if info.codes is None:
            unchecked.append(f"{holder}.{element}")
        elif info.codes != codes:
            wrong[f"{holder}.{element}"] = sorted(codes ^ info.codes)
        else:
            compared += 1
    assert wrong == {}
    assert unchecked == []
    assert compared > 300
