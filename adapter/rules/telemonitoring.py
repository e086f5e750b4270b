"""Telemonitoring technical forfaits modulated by the exploitant's active patient file.

The arrêté of 16/5/2023 (art. 1 II) lowers the technical forfait as the exploitant's monthly
average active file grows (averaged over 6 months, revised every 6 months). The count is not in
the Claim and the full tier table was not read (domain-fr §2.1), so the modulated tariff of each
exploitant is configuration: ``RulesConfig.technical_forfait_tariffs`` maps the provider's
identifier (SIRET or FINESS) to its tariff per month. For that provider, a technical forfait
row is read with that tariff as its BR and PLV (no dépassement is allowed on a forfait), when
it is lower than the row's.
"""

from __future__ import annotations

from dataclasses import replace

from adapter.rules.config import RulesConfig
from adapter.rules.lpp import LppEntry, Telemonitoring

__all__ = ["modulated"]


def modulated(entry: LppEntry | None, provider: str, config: RulesConfig) -> LppEntry | None:
    """``entry`` as the provider may bill it: a technical forfait at its configured tier."""
    if entry is None or entry.telemonitoring is not Telemonitoring.TECHNICAL:
        return entry
    tariff = config.technical_forfait_tariffs.get(provider)
    if tariff is None or tariff >= entry.tarif:
        return entry
    return replace(entry, tarif=tariff, plv=tariff)
