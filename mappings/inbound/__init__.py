"""FHIR → internal request: the submission Bundle and the resources its Claim reaches.

``read_bundle`` reads a structurally valid Bundle into a ``ReimbursementRequest`` with every
conventions issue at once; ``to_bundle`` writes a request back as a Bundle that reads the same
(tests and tools build submissions with it). One private module per resource.
"""

from __future__ import annotations

from mappings.inbound._bundle import Reading, from_bundle, read_bundle, to_bundle
from mappings.inbound._eligibility import EligibilityReading, read_eligibility_bundle
from mappings.inbound._prescription import PrescriptionReading, read_lone_prescription

__all__ = [
    "EligibilityReading",
    "PrescriptionReading",
    "Reading",
    "from_bundle",
    "read_bundle",
    "read_eligibility_bundle",
    "read_lone_prescription",
    "to_bundle",
]
