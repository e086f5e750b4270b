"""Read the AMC contract catalogue from YAML or JSON (format: ``docs/reference-data.md``).

The file is read as a YAML node tree (JSON is valid YAML) rather than as Python objects, so
that every error can point at the line, character and key path of the offending value, and
numbers are turned into ``Decimal`` from their text, never through ``float``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

import yaml

from adapter.domain.values import Gtin, LppCode, Money
from adapter.errors import InvalidValueError
from adapter.rules.contracts import Contract, ContractCatalogue, Guarantee, GuaranteeKind
from adapter.rules.loading import DEMO_CONTRACTS, ReferenceDataFormatError, read_source

__all__ = ["FORMAT_VERSION", "load_contracts", "parse_contracts"]

FORMAT_VERSION = 1

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_TRUE = ("true", "yes", "on")
_PERCENT_KINDS = (
    GuaranteeKind.PERCENT_BR_INCL_AMO,
    GuaranteeKind.PERCENT_BR_EXCL_AMO,
    GuaranteeKind.PERCENT_PRICE,
)


def load_contracts(path: str | Path | None = None) -> ContractCatalogue:
    """Load the catalogue at ``path`` (``ADAPTER_AMC_CONTRACTS``), or the packaged demo one."""
    name, text = read_source(path, DEMO_CONTRACTS)
    return parse_contracts(text, source=name)


def parse_contracts(text: str, *, source: str) -> ContractCatalogue:
    """Parse YAML or JSON text; ``source`` names the file in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, position = (mark.line + 1, mark.column + 1) if mark else (1, None)
        problem = error.problem or error.context or "malformed YAML"
        raise ReferenceDataFormatError(source, line, None, problem, position=position) from None
    except yaml.YAMLError as error:
        raise ReferenceDataFormatError(source, 1, None, str(error)) from None
    reader = _Reader(source)
    if root is None:
        raise ReferenceDataFormatError(source, 1, None, "the file is empty")
    top = reader.mapping(root, "", required=("version", "contracts"), optional=())
    version_node = top["version"]
    if reader.integer(version_node, "version") != FORMAT_VERSION:
        reader.fail(version_node, "version", f"only format version {FORMAT_VERSION} is known")
    contracts: list[Contract] = []
    ids: set[str] = set()
    for index, node in enumerate(reader.sequence(top["contracts"], "contracts")):
        contract = _contract(reader, node, f"contracts[{index}]")
        if contract.id in ids:
            reader.fail(node, f"contracts[{index}].id", f"contract {contract.id!r} appears twice")
        ids.add(contract.id)
        contracts.append(contract)
    if not contracts:
        reader.fail(top["contracts"], "contracts", "the catalogue has no contracts")
    return ContractCatalogue(contracts, source=source)


def _contract(reader: _Reader, node: yaml.Node, path: str) -> Contract:
    fields = reader.mapping(
        node, path, required=("id", "label", "responsable", "guarantees"), optional=("source",)
    )
    guarantees: list[Guarantee] = []
    seen: dict[str, str] = {}
    defaults = 0
    for index, item in enumerate(reader.sequence(fields["guarantees"], f"{path}.guarantees")):
        where = f"{path}.guarantees[{index}]"
        guarantee = _guarantee(reader, item, where)
        keys = [f"guarantee {guarantee.id!r}"]
        keys += [f"code {code}" for code in guarantee.codes]
        prefix = "non-listed category" if guarantee.non_listed else "category"
        keys += [f"{prefix} {category!r}" for category in guarantee.categories]
        keys += [f"product {product}" for product in guarantee.products]
        for key in keys:
            if key in seen:
                reader.fail(item, where, f"{key} is already covered by {seen[key]}")
            seen[key] = where
        defaults += guarantee.default
        if defaults > 1:
            reader.fail(item, f"{where}.default", "a contract has at most one default guarantee")
        guarantees.append(guarantee)
    source_node = fields.get("source")
    return Contract(
        id=reader.identifier(fields["id"], f"{path}.id"),
        label=reader.text(fields["label"], f"{path}.label"),
        responsable=reader.boolean(fields["responsable"], f"{path}.responsable"),
        guarantees=tuple(guarantees),
        source=reader.text(source_node, f"{path}.source") if source_node is not None else "",
    )


_GUARANTEE_OPTIONAL = (
    "codes",
    "categories",
    "default",
    "percent",
    "forfait_per_year",
    "supplement_per_unit",
    "max_per_unit",
    "renewal_months",
    "renewal_units",
    "renewal_per_ear",
    "non_listed",
    "products",
)


def _guarantee(reader: _Reader, node: yaml.Node, path: str) -> Guarantee:
    fields = reader.mapping(node, path, required=("id", "kind"), optional=_GUARANTEE_OPTIONAL)
    kind_node = fields["kind"]
    kind_text = reader.text(kind_node, f"{path}.kind")
    try:
        kind = GuaranteeKind(kind_text)
    except ValueError:
        known = ", ".join(kind.value for kind in GuaranteeKind)
        reader.fail(kind_node, f"{path}.kind", f"{kind_text!r} is not a guarantee kind ({known})")

    def present(key: str) -> bool:
        return key in fields

    def money(key: str) -> Money | None:
        return reader.money(fields[key], f"{path}.{key}") if present(key) else None

    def count(key: str) -> int | None:
        return reader.positive(fields[key], f"{path}.{key}") if present(key) else None

    percent = reader.percent(fields["percent"], f"{path}.percent") if present("percent") else None
    if (kind in _PERCENT_KINDS) != (percent is not None):
        where = fields.get("percent", node)
        reader.fail(
            where,
            f"{path}.percent",
            f"'percent' is required for, and only for, {' and '.join(_PERCENT_KINDS)}",
        )
    forfait = money("forfait_per_year")
    if (kind is GuaranteeKind.FORFAIT) != (forfait is not None):
        where = fields.get("forfait_per_year", node)
        reader.fail(
            where,
            f"{path}.forfait_per_year",
            "'forfait_per_year' is required for, and only for, forfait",
        )
    supplement = money("supplement_per_unit")
    if supplement is not None and kind is GuaranteeKind.FORFAIT:
        reader.fail(
            fields["supplement_per_unit"],
            f"{path}.supplement_per_unit",
            "a forfait takes no supplement",
        )
    renewal_months = count("renewal_months")
    renewal_units = count("renewal_units")
    if renewal_units is not None and renewal_months is None:
        reader.fail(fields["renewal_units"], f"{path}.renewal_units", "renewal_units needs renewal_months")
    renewal_per_ear = count("renewal_per_ear")
    if renewal_per_ear is not None and renewal_months is None:
        reader.fail(
            fields["renewal_per_ear"], f"{path}.renewal_per_ear", "renewal_per_ear needs renewal_months"
        )
    codes = (
        frozenset(
            reader.lpp_code(item, f"{path}.codes[{i}]")
            for i, item in enumerate(reader.sequence(fields["codes"], f"{path}.codes"))
        )
        if present("codes")
        else frozenset()
    )
    categories = (
        frozenset(
            reader.identifier(item, f"{path}.categories[{i}]")
            for i, item in enumerate(reader.sequence(fields["categories"], f"{path}.categories"))
        )
        if present("categories")
        else frozenset()
    )
    default = reader.boolean(fields["default"], f"{path}.default") if present("default") else False
    non_listed = (
        reader.boolean(fields["non_listed"], f"{path}.non_listed") if present("non_listed") else False
    )
    products = (
        frozenset(
            reader.gtin(item, f"{path}.products[{i}]")
            for i, item in enumerate(reader.sequence(fields["products"], f"{path}.products"))
        )
        if present("products")
        else frozenset()
    )
    if non_listed and (codes or default):
        reader.fail(
            node,
            path,
            "a non_listed guarantee names 'products' or 'categories', never LPP codes or a default",
        )
    if products and not non_listed:
        reader.fail(fields["products"], f"{path}.products", "'products' (GTINs) needs 'non_listed: true'")
    if not (codes or categories or default or products):
        reader.fail(node, path, "a guarantee needs 'codes', 'categories', 'products' or 'default: true'")
    return Guarantee(
        id=reader.identifier(fields["id"], f"{path}.id"),
        kind=kind,
        codes=codes,
        categories=categories,
        default=default,
        percent=percent,
        forfait_per_year=forfait,
        supplement_per_unit=supplement,
        max_per_unit=money("max_per_unit"),
        renewal_months=renewal_months,
        renewal_units=renewal_units or 1,
        renewal_per_ear=renewal_per_ear,
        non_listed=non_listed,
        products=products,
    )


class _Reader:
    """Typed access to YAML nodes; every refusal names file, line, character and key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, path: str, problem: str) -> NoReturn:
        mark = node.start_mark
        raise ReferenceDataFormatError(
            self.source, mark.line + 1, path or "(document)", problem, position=mark.column + 1
        )

    def mapping(
        self, node: yaml.Node, path: str, *, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, path, "expected a mapping of keys to values")
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{path}.{key}" if path else str(key)
            if key not in required and key not in optional:
                allowed = ", ".join((*required, *optional))
                self.fail(key_node, where, f"unknown key; expected some of {allowed}")
            if key in fields:
                self.fail(key_node, where, "the key appears twice")
            fields[key] = value_node
        for key in required:
            if key not in fields:
                self.fail(node, f"{path}.{key}" if path else key, "required key missing")
        return fields

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, path, "expected a list")
        return list(node.value)

    def _scalar(self, node: yaml.Node, path: str, tags: tuple[str, ...], what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            self.fail(node, path, f"expected {what}")
        return str(node.value)

    def text(self, node: yaml.Node, path: str) -> str:
        value = self._scalar(node, path, (_STR,), "a text").strip()
        if not value:
            self.fail(node, path, "the text is empty")
        return value

    def identifier(self, node: yaml.Node, path: str) -> str:
        value = self._scalar(node, path, (_STR, _INT), "an identifier")
        if not value or not all(c.isalnum() or c in "-_." for c in value):
            self.fail(node, path, f"{value!r} is not an identifier (letters, digits, '-', '_', '.')")
        return value

    def lpp_code(self, node: yaml.Node, path: str) -> LppCode:
        value = self._scalar(node, path, (_STR, _INT), "an LPP code")
        try:
            return LppCode(value)
        except InvalidValueError:
            self.fail(node, path, f"{value!r} is not an LPP code (7 digits or upper-case letters)")

    def gtin(self, node: yaml.Node, path: str) -> Gtin:
        value = self._scalar(node, path, (_STR, _INT), "a GTIN")
        try:
            return Gtin(value)
        except InvalidValueError:
            self.fail(
                node, path, f"{value!r} is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)"
            )

    def boolean(self, node: yaml.Node, path: str) -> bool:
        return self._scalar(node, path, (_BOOL,), "true or false").lower() in _TRUE

    def _decimal(self, node: yaml.Node, path: str, what: str) -> Decimal:
        raw = self._scalar(node, path, (_INT, _FLOAT), what)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.fail(node, path, f"{raw!r} is not {what}")
        if not value.is_finite() or value < 0:
            self.fail(node, path, f"{raw!r} is not {what}")
        return value

    def integer(self, node: yaml.Node, path: str) -> int:
        return int(self._scalar(node, path, (_INT,), "a whole number"), 10)

    def positive(self, node: yaml.Node, path: str) -> int:
        value = self.integer(node, path)
        if value < 1:
            self.fail(node, path, "expected a whole number of at least 1")
        return value

    def percent(self, node: yaml.Node, path: str) -> Decimal:
        value = self._decimal(node, path, "a non-negative percentage")
        if value > 1000:
            self.fail(node, path, "a percentage above 1000 is surely a typo")
        return value

    def money(self, node: yaml.Node, path: str) -> Money:
        value = self._decimal(node, path, "a non-negative amount in euros")
        if value != value.quantize(Decimal("0.01")):
            self.fail(node, path, "an amount has at most 2 decimals")
        return Money.exact(value)
