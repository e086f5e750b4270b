"""Devices off the LPP: the AMO refuses them, a mutuelle may pay under a guarantee of its own.

A device that is not on the LPP (art. L.165-1 CSS) is billed with its GS1 GTIN instead of an
LPP code (``Line.product``). The AMO pays nothing and says why; the AMC then applies the
contract's ``non_listed`` guarantee for the product, or for its category
(``Line.category``, ``non-listed`` when the Claim gives none): a yearly forfait, a percent
of the price, frais réels. The contrat-responsable floors and ceilings concern reimbursable
care only, so they do not apply; the ledger records what a forfait consumed.
"""

from __future__ import annotations

from adapter.domain.decision import LineDecision, Note
from adapter.domain.request import Line, ReimbursementRequest
from adapter.domain.values import Money
from adapter.rules.amc_share import line_share
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import Contract, ContractCatalogue
from adapter.rules.ledger import Ledger, LedgerEntry
from adapter.rules.notes import Refusal, amc_note, refusal, rejected_line_note

__all__ = ["NON_LISTED_CATEGORY", "non_listed_line", "not_listed_refusal"]

NON_LISTED_CATEGORY = "non-listed"
"""The category of a device off the LPP when Claim.item.category names none."""

_ZERO = Money.zero()


def not_listed_refusal(line: Line) -> Refusal:
    """The AMO's refusal of a device off the LPP, naming the product."""
    return refusal("amo-not-listed", product=str(line.product))


def non_listed_line(
    request: ReimbursementRequest,
    catalogue: ContractCatalogue,
    contract: Contract,
    line: Line,
    book: Ledger,
    config: RulesConfig,
) -> tuple[LineDecision, Note, LedgerEntry | None]:
    """The AMC decision on a device off the LPP, its note, and the ledger entry to store."""
    product = line.product
    assert product is not None  # noqa: S101 - the engine sends only lines off the LPP here
    day = line.reference_date
    price = line.net
    category = line.category or NON_LISTED_CATEGORY
    guarantee = catalogue.non_listed_guarantee(contract, product, category)
    if guarantee is None:
        refused = refusal("amc-no-guarantee", contract=contract.id, code=product.value)
        decision = LineDecision(
            sequence=line.sequence,
            submitted=price,
            eligible=_ZERO,
            benefit=_ZERO,
            reste_a_charge=price,
            rejections=(refused.rejection(),),
        )
        return decision, rejected_line_note(line.sequence, [refused.reason]), None
    forfait_left = _ZERO
    if guarantee.forfait_per_year is not None:
        forfait_left = book.remaining(contract.id, guarantee.id, day.year, guarantee.forfait_per_year)
    renewal_spent = False
    if guarantee.renewal_months is not None:
        paid = book.units_within(contract.id, guarantee.id, day, guarantee.renewal_months)
        renewal_spent = paid + line.quantity > guarantee.renewal_units
    amount, consumed, basis_fr, basis_en = line_share(
        price,
        _ZERO,
        _ZERO,
        _ZERO,
        line.quantity,
        line.unit_price,
        entry=None,
        guarantee=guarantee,
        responsable=False,
        forfait_left=forfait_left,
        renewal_spent=renewal_spent,
        config=config,
    )
    rac = price - amount
    decision = LineDecision(
        sequence=line.sequence, submitted=price, eligible=_ZERO, benefit=amount, reste_a_charge=rac
    )
    note = amc_note(
        line.sequence,
        f"dispositif hors LPP, non remboursé par l'AMO ; garantie {basis_fr}",
        f"device off the LPP, not reimbursed by the AMO; guarantee {basis_en}",
        benefit=amount,
        rac=rac,
    )
    used: LedgerEntry | None = None
    if amount.amount and not renewal_spent and (consumed.amount or guarantee.renewal_months is not None):
        used = LedgerEntry(
            nir=request.beneficiary.nir,
            contract_id=contract.id,
            guarantee_id=guarantee.id,
            day=day,
            consumed=consumed,
            units=line.quantity,
            submission=request.submission.value,
        )
    return decision, note, used
