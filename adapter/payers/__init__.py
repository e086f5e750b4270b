"""Payer gateways behind Protocols, and the reference payers wired on ``adapter.rules``."""

from adapter.payers.memory import InMemoryDeliveryHistory, InMemoryForfaitLedger
from adapter.payers.ports import AmcGateway, AmoAnswer, AmoGateway, DeliveryHistory, ForfaitLedger
from adapter.payers.reference import ReferenceAmc, ReferenceAmo, reference_payers

__all__ = [
    "AmcGateway",
    "AmoAnswer",
    "AmoGateway",
    "DeliveryHistory",
    "ForfaitLedger",
    "InMemoryDeliveryHistory",
    "InMemoryForfaitLedger",
    "ReferenceAmc",
    "ReferenceAmo",
    "reference_payers",
]
