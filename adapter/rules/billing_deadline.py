"""The billing deadline, which depends on who bills (domain-fr §1.8).

Health establishments bill the AMO within one year of the care (L.162-25 CSS; B2 RG_MF606:
strictly less than a year). Suppliers, pharmacists and other professionals billing under
tiers payant have two years from the first day of the quarter after the care (L.332-1 CSS).

The biller's kind is the provider's own statement (Organization.type) when it gives one;
otherwise a provider known by its FINESS alone is an establishment, and one with a SIRET is a
supplier (a pharmacy or a supplier that sends only its FINESS should state its kind).
"""

from __future__ import annotations

from datetime import date

from adapter.domain.request import BillerKind, BillingProvider
from adapter.rules.config import RulesConfig
from adapter.rules.dates import add_months

__all__ = ["biller_kind", "billing_deadline"]


def biller_kind(provider: BillingProvider) -> BillerKind:
    """The provider's stated kind, else establishment for a FINESS without SIRET, else supplier."""
    if provider.kind is not None:
        return provider.kind
    if provider.finess is not None and provider.siret is None:
        return BillerKind.ESTABLISHMENT
    return BillerKind.SUPPLIER


def billing_deadline(kind: BillerKind, care: date, config: RulesConfig) -> date:
    """The first day on which care ending on ``care`` can no longer be billed."""
    if kind is BillerKind.ESTABLISHMENT:
        return add_months(care, config.billing_deadline_months)
    quarter_after = date(care.year, (care.month - 1) // 3 * 3 + 1, 1)
    return add_months(quarter_after, 3 + config.supplier_billing_deadline_months)
