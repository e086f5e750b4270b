"""A prescription checked on its own, before it reaches a supplier (``DeviceRequest/$validate``).

What the prescriber's software sends is one DeviceRequest; what the checks need of it is the
prescription, the patient (for the age bounds), the exonération (for the ALD part) and the day
the device is to be delivered. ``paths`` names, per part, the FHIRPath each finding points to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from adapter.domain.request import Beneficiary, Exoneration, Prescription

__all__ = ["PrescriptionToCheck"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PrescriptionToCheck:
    """A readable lone prescription. ``day`` is the first day of the occurrence when it is given,
    else the prescription date; ``exoneration`` is None when no Coverage comes with it."""

    prescription: Prescription
    day: date
    beneficiary: Beneficiary | None = None
    exoneration: Exoneration | None = None
    paths: Mapping[str, str] = field(default_factory=dict)

    def path(self, part: str) -> str:
        """The FHIRPath of ``part`` (``code``, ``quantity``, ``subject``, ``requester``,
        ``occurrence``, ``ald``, ``insurance``), the DeviceRequest itself when unknown."""
        return self.paths.get(part, "DeviceRequest")
