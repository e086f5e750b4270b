"""The solidarity schemes: complémentaire santé solidaire (CSS) and aide médicale de l'État
(AME), domain-fr §3.5.

- CSS: the beneficiary pays nothing for LPP devices (ameli, CSS page: dressings, glucose
  meters, wheelchairs, hearing aids, most glasses); the CSS pays the complementary part "up to
  100 % of the maximum tariffs" (complementaire-sante-solidaire.gouv.fr): above the AMO, up to
  the code's PLV where it has one (the 100 % Santé baskets), else up to its tariff. A price
  above the tariff on a code without a PLV is a dépassement the scheme forbids: flagged
  ``css-price-above-tariff`` (a warning by default; the CSS still pays only up to the tariff).
  A price above a PLV is already refused by the AMO (``price-above-plv``).
- AME: the caisse pays 100 % of the tariff (``AmoRates.ame``, ``adapter.rules.taux``) and no
  AMC takes part; a price above the tariff is the patient's (ameli: "dans la limite des tarifs").
"""

from __future__ import annotations

from decimal import Decimal

from adapter.domain.decision import Finding, Note
from adapter.domain.request import Line, ReimbursementRequest
from adapter.domain.values import Money
from adapter.rules.config import RulesConfig
from adapter.rules.expressions import item_expression
from adapter.rules.lpp import LppEntry
from adapter.rules.notes import reason

__all__ = ["css_findings", "css_share", "is_css"]

_ZERO = Money.zero()


def is_css(request: ReimbursementRequest) -> bool:
    return request.amc is not None and request.amc.css


def css_findings(line: Line, index: int, entry: LppEntry, config: RulesConfig) -> list[tuple[Finding, Note]]:
    """A CSS line billed above the tariff of a code without a PLV."""
    if entry.plv is not None or line.unit_price.amount <= entry.tarif.amount:
        return []
    code = "css-price-above-tariff"
    note = reason(code, price=line.unit_price, tarif=entry.tarif)
    finding = Finding(
        code=code,
        text=note.en,
        expression=item_expression(index, "unitPrice"),
        blocking=code not in config.warning_findings,
        sequence=line.sequence,
    )
    return [(finding, note)]


def css_share(
    price: Money, eligible: Money, amo_gross: Money, quantity: int, entry: LppEntry | None
) -> tuple[Money, str, str]:
    """What the CSS pays on a line the AMO accepted: up to the PLV (else the BR) less the AMO.

    Returns the amount and its wording in French and English.
    """
    if entry is not None and entry.plv is not None:
        limit = entry.plv.times(quantity)
        fr, en = f"CSS jusqu'au PLV {limit.fr()}", f"CSS up to the PLV {limit.en()}"
    else:
        limit = eligible
        fr, en = f"CSS jusqu'au tarif {limit.fr()}", f"CSS up to the tariff {limit.en()}"
    covered = limit if limit.amount < price.amount else price
    amount: Decimal = covered.amount - amo_gross.amount
    if amount <= 0:
        return _ZERO, fr, en
    return Money._cents_exact(amount), fr, en
