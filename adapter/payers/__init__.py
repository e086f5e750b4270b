"""Payer gateways behind ports (``ports``), and the reference payers wired on ``adapter.rules``.

Only this package and the composition root (``adapter.bootstrap``) name a concrete payer.
"""

from adapter.payers.memory import InMemoryDeliveryHistory, InMemoryForfaitLedger, InMemoryRecords
from adapter.payers.ports import (
    AmcGateway,
    AmoAnswer,
    AmoGateway,
    DeliveryHistory,
    ForfaitLedger,
    PayerPair,
    PayerRecords,
    Payers,
)
from adapter.payers.reference import ReferenceAmc, ReferenceAmo, ReferencePayers, reference_payers

__all__ = [
    "AmcGateway",
    "AmoAnswer",
    "AmoGateway",
    "DeliveryHistory",
    "ForfaitLedger",
    "InMemoryDeliveryHistory",
    "InMemoryForfaitLedger",
    "InMemoryRecords",
    "PayerPair",
    "PayerRecords",
    "Payers",
    "ReferenceAmc",
    "ReferenceAmo",
    "ReferencePayers",
    "reference_payers",
]
