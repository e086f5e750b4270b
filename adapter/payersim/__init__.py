"""A payer simulator: the reference payers served over the payer protocol, as a remote AMO or
AMC would be, with its own records, a count of decisions per idempotency key, and faults
injected on demand (``adapter payer-sim``; docs/payer-protocol.md)."""

from adapter.payersim.app import Faults, create_sim_app
from adapter.payersim.state import SimState

__all__ = ["Faults", "SimState", "create_sim_app"]
