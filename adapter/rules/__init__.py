"""The French reimbursement engine for devices (LPP): pure rules, reference data, no I/O.

- reference data: :func:`load_lpp_table` (CSV) and :func:`load_contracts` (YAML/JSON);
- engines: :func:`adjudicate_amo` then :func:`adjudicate_amc`, which return decisions plus
  the history records and ledger entries for the caller to store;
- parameters: :class:`RulesConfig` (taux, windows, ceilings, deduction hook).

``docs/reference-data.md`` documents the file formats and how the rules use them.
"""

from adapter.rules.amc import AmcResult, adjudicate_amc
from adapter.rules.amo import AmoResult, adjudicate_amo
from adapter.rules.config import AmoRates, Deduction, RulesConfig
from adapter.rules.contracts import Contract, ContractCatalogue, Guarantee, GuaranteeKind
from adapter.rules.contracts_loader import load_contracts, parse_contracts
from adapter.rules.expressions import rebase_expression
from adapter.rules.history import DeliveryRecord
from adapter.rules.ledger import LedgerEntry
from adapter.rules.loading import ReferenceDataFormatError
from adapter.rules.lpp import CodeKind, LppEntry, LppTable, Telemonitoring
from adapter.rules.lpp_loader import load_lpp_table, parse_lpp_table

__all__ = [
    "AmcResult",
    "AmoRates",
    "AmoResult",
    "CodeKind",
    "Contract",
    "ContractCatalogue",
    "Deduction",
    "DeliveryRecord",
    "Guarantee",
    "GuaranteeKind",
    "LedgerEntry",
    "LppEntry",
    "LppTable",
    "ReferenceDataFormatError",
    "RulesConfig",
    "Telemonitoring",
    "adjudicate_amc",
    "adjudicate_amo",
    "load_contracts",
    "load_lpp_table",
    "parse_contracts",
    "parse_lpp_table",
    "rebase_expression",
]
