"""The edge: bytes in, a validated Bundle and its internal request out, or every issue.

Order of the checks, and the HTTP class each failure gets:
1. read: size, encoding, JSON or hardened XML → a FHIR-JSON dict          (400)
2. root is a Bundle; nested resources all name a known resourceType        (400)
3. structure: FHIR JSON kinds, no null/{}/[], the R4 model (fhir.resources) (400)
4. conventions: envelope, references, required codes, identifiers, money  (422)
Stages 1–3 stop at their first failing stage; stage 4 reports every issue at once.
"""

from adapter.intake.cancellation import CANCEL_REASONS, CancelRequest, read_cancel_request
from adapter.intake.formats import Format, Limits
from adapter.intake.inquiry import read_inquiry
from adapter.intake.pipeline import Submission, check, parse_payload, read_submission

__all__ = [
    "CANCEL_REASONS",
    "CancelRequest",
    "Format",
    "Limits",
    "Submission",
    "check",
    "parse_payload",
    "read_cancel_request",
    "read_inquiry",
    "read_submission",
]
