"""The AMC contract catalogue: what each mutuelle contract guarantees, per code or category.

Guarantee kinds follow how French contracts word them (domain-fr §3.2): a percent of the
BR including the AMO's share, a percent of the BR on top of it, the ticket modérateur plus a
yearly euro forfait, frais réels, or the ticket modérateur only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from adapter.domain.values import Gtin, LppCode, Money

__all__ = ["Contract", "ContractCatalogue", "Guarantee", "GuaranteeKind"]


class GuaranteeKind(StrEnum):
    PERCENT_BR_INCL_AMO = "percent-br-incl-amo"
    PERCENT_BR_EXCL_AMO = "percent-br-excl-amo"
    FORFAIT = "forfait"
    FRAIS_REELS = "frais-reels"
    TICKET_MODERATEUR = "ticket-moderateur"
    PERCENT_PRICE = "percent-price"


@dataclass(frozen=True, slots=True, kw_only=True)
class Guarantee:
    """One guarantee of a contract and the lines it applies to.

    It matches ``codes``, else ``categories`` (LPP table categories), else it is the
    contract's ``default``. ``supplement_per_unit`` adds euros per unit to the cap ("100 % BR
    + 500 €" per ear); ``max_per_unit`` caps the AMC payment per unit; ``forfait_per_year``
    is the calendar-year budget of a ``forfait`` guarantee; ``renewal_units`` units are
    paid per ``renewal_months``, beyond which only the contrat-responsable floor is paid;
    ``renewal_per_ear`` of them per ear for a line that names its ear (hearing aids).

    A ``non_listed`` guarantee covers only devices off the LPP (identified by GTIN), by
    ``products`` or by ``categories`` (Claim.item.category), and nothing on the LPP.
    """

    id: str
    kind: GuaranteeKind
    codes: frozenset[LppCode] = frozenset()
    categories: frozenset[str] = frozenset()
    default: bool = False
    percent: Decimal | None = None
    forfait_per_year: Money | None = None
    supplement_per_unit: Money | None = None
    max_per_unit: Money | None = None
    renewal_months: int | None = None
    renewal_units: int = 1
    renewal_per_ear: int | None = None
    non_listed: bool = False
    products: frozenset[Gtin] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """A mutuelle contract; ``responsable`` contracts must pay the ticket modérateur."""

    id: str
    label: str
    responsable: bool
    guarantees: tuple[Guarantee, ...]
    source: str = ""

    def guarantee_for(self, code: LppCode, category: str) -> Guarantee | None:
        """The guarantee for a line: by code first, then by category, then the default."""
        by_category: Guarantee | None = None
        default: Guarantee | None = None
        for guarantee in self.guarantees:
            if guarantee.non_listed:
                continue
            if code in guarantee.codes:
                return guarantee
            if by_category is None and category in guarantee.categories:
                by_category = guarantee
            if default is None and guarantee.default:
                default = guarantee
        return by_category or default


class ContractCatalogue:
    """The loaded contracts, by id."""

    __slots__ = ("_contracts", "_guarantees", "source")

    def __init__(self, contracts: Iterable[Contract], *, source: str = "") -> None:
        self._contracts: dict[str, Contract] = {}
        for contract in contracts:
            if contract.id in self._contracts:
                raise ValueError(f"contract {contract.id!r} is defined twice")
            self._contracts[contract.id] = contract
        self._guarantees = {contract.id: _GuaranteeIndex(contract) for contract in self._contracts.values()}
        self.source = source

    def get(self, contract_id: str) -> Contract | None:
        return self._contracts.get(contract_id)

    def guarantee_for(self, contract: Contract, code: LppCode, category: str) -> Guarantee | None:
        """``contract.guarantee_for(code, category)``, from an index built at load time
        when ``contract`` is one of this catalogue's."""
        if self._contracts.get(contract.id) is contract:
            return self._guarantees[contract.id].lookup(code, category)
        return contract.guarantee_for(code, category)

    def non_listed_guarantee(self, contract: Contract, product: Gtin, category: str) -> Guarantee | None:
        """The guarantee for a device off the LPP: by product first, then by category."""
        by_category: Guarantee | None = None
        for guarantee in contract.guarantees:
            if not guarantee.non_listed:
                continue
            if product in guarantee.products:
                return guarantee
            if by_category is None and category in guarantee.categories:
                by_category = guarantee
        return by_category

    def __contains__(self, contract_id: object) -> bool:
        return contract_id in self._contracts

    def __iter__(self) -> Iterator[Contract]:
        return iter(self._contracts.values())

    def __len__(self) -> int:
        return len(self._contracts)


class _GuaranteeIndex:
    """A contract's guarantees by code and by category, with the same precedence as
    :meth:`Contract.guarantee_for` (code, then category, then default; first one wins)."""

    __slots__ = ("_by_category", "_by_code", "_default")

    def __init__(self, contract: Contract) -> None:
        self._by_code: dict[str, Guarantee] = {}
        self._by_category: dict[str, Guarantee] = {}
        self._default: Guarantee | None = None
        for guarantee in contract.guarantees:
            if guarantee.non_listed:
                continue
            for code in guarantee.codes:
                self._by_code.setdefault(code.value, guarantee)
            for category in guarantee.categories:
                self._by_category.setdefault(category, guarantee)
            if self._default is None and guarantee.default:
                self._default = guarantee

    def lookup(self, code: LppCode, category: str) -> Guarantee | None:
        return self._by_code.get(code.value) or self._by_category.get(category) or self._default
