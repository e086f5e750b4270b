"""Decisions → the ``Claim/$submit`` answer (a Bundle of ClaimResponses), and back; issues ⇄ OperationOutcome.

The writers build FHIR-JSON dicts; the readers are their inverses, for answers that come
back from a remote payer or a conformance run. Private modules: ``_write`` and ``_read`` for
ClaimResponses, ``_terms`` for the codes both agree on, ``_operationoutcome``; ``_device`` for a device's
LPP status (a ChargeItemDefinition, a ``CodeSystem/$lookup`` answer); ``_eligibility`` for the
``CoverageEligibilityRequest/$submit`` answer (CoverageEligibilityResponses).
"""

from __future__ import annotations

from mappings.outbound._cancelled import cancelled_answer
from mappings.outbound._device import to_charge_item_definition, to_lookup_parameters
from mappings.outbound._eligibility import eligibility_response_id, to_eligibility_responses
from mappings.outbound._operationoutcome import all_ok, from_operation_outcome, to_operation_outcome
from mappings.outbound._read import from_claim_response, from_response_bundle
from mappings.outbound._write import claim_response_id, to_claim_response, to_claim_responses

__all__ = [
    "all_ok",
    "cancelled_answer",
    "claim_response_id",
    "eligibility_response_id",
    "from_claim_response",
    "from_operation_outcome",
    "from_response_bundle",
    "to_charge_item_definition",
    "to_claim_response",
    "to_claim_responses",
    "to_eligibility_responses",
    "to_lookup_parameters",
    "to_operation_outcome",
]
