"""Generic FHIR R4: codecs, model metadata, structural validation, the walk, an issue reader.

Nothing here knows the project's conventions; ``mappings.inbound`` and ``mappings.outbound``
build on it. The codecs are the public modules ``jsonio`` and ``xml``; the rest is private
modules re-exported here: ``_elements`` (one ``TypeInfo`` per model class, one ``ElementInfo``
per element, for the XML codec and the walk alike), ``_validate`` (pydantic errors → issues),
``_walk`` (what the models do not check: codes, JSON kinds, nulls, references),
``_reading`` (``IssueReader`` and the one number → ``Decimal`` conversion) and ``_choices``
(choice elements named the FHIRPath way in issue expressions).
"""

from __future__ import annotations

from mappings.fhir import jsonio, xml
from mappings.fhir._choices import fhirpath_choices, with_fhirpath_choices
from mappings.fhir._elements import (
    REQUIRED_CODES_FILE,
    ElementInfo,
    Kind,
    TypeInfo,
    classify,
    elements,
    is_resource_type,
    listed_codes,
    model_class,
    resource_info,
    type_info,
)
from mappings.fhir._reading import IssueReader, as_list, codings, has_code, identifiers, to_decimal
from mappings.fhir._validate import fhirpath, structure_issues, validates_in_parts
from mappings.fhir._walk import FoundReference, WalkResult, walk

__all__ = [
    "REQUIRED_CODES_FILE",
    "ElementInfo",
    "FoundReference",
    "IssueReader",
    "Kind",
    "TypeInfo",
    "WalkResult",
    "as_list",
    "classify",
    "codings",
    "elements",
    "fhirpath",
    "fhirpath_choices",
    "has_code",
    "identifiers",
    "is_resource_type",
    "jsonio",
    "listed_codes",
    "model_class",
    "resource_info",
    "structure_issues",
    "to_decimal",
    "type_info",
    "validates_in_parts",
    "walk",
    "with_fhirpath_choices",
    "xml",
]
