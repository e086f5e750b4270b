"""The payer routing file: which remote AMO or AMC answers for a claim, where, and how to sign in.

AMO organismes are matched by the longest prefix of their nine digits (régime, then caisse),
AMC numbers exactly. Credentials are a bearer token read from a file or an environment
variable (never written in the routing file itself), or mutual TLS (a client certificate
and key, and the CA that signs the payer's certificate). Format (YAML)::

    amo:
      - organismes: ["01"]                       # régime 01 (régime général), every caisse
        url: https://amo.example/lpp-payer       # the protocol's base URL
        bearer_token_file: /etc/adapter/amo.token
    amc:
      - amc_numbers: ["MUTEX00001"]
        url: https://mutuelle.example/lpp-payer
        delivery_url: https://mutuelle.example/lpp-payer/amc/deliveries  # the decisions, pushed
        tls: {cert: /etc/adapter/amc.pem, key: /etc/adapter/amc.key, ca: /etc/adapter/amc-ca.pem}
    timeouts: {connect: 2.0, read: 5.0}          # seconds, per attempt
    retries: {attempts: 4, initial: 0.2, max: 5.0, budget: 8.0}
    breaker: {failures: 5, reset_after: 30.0}    # per endpoint

An AMC entry's ``delivery_url`` is where the adapter delivers the decisions on its claims
(docs/delivery.md), with the entry's credentials; an AMC entry may have a ``delivery_url`` and no
``url``, and a file with no AMO entry and no AMC ``url`` keeps the payers in process and only
delivers. Every problem is a :class:`RoutesError` naming the file and the entry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from adapter.errors import AdapterError

__all__ = [
    "Breaker",
    "Endpoint",
    "PayerRoutes",
    "Retries",
    "RoutesError",
    "Timeouts",
    "Tls",
    "load_routes",
    "parse_routes",
]


class RoutesError(AdapterError):
    code = "payer-routes-invalid"


@dataclass(frozen=True, slots=True)
class Tls:
    cert: Path
    key: Path
    ca: Path | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One remote payer: ``name`` labels its breaker, metrics and logs (never its credentials)."""

    name: str
    url: str
    bearer_token: str | None = field(default=None, repr=False)
    tls: Tls | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 2.0
    read: float = 5.0


@dataclass(frozen=True, slots=True)
class Retries:
    """Attempts per exchange, the exponential wait (with jitter) between them, and the time
    budget of the whole exchange, waits included."""

    attempts: int = 4
    initial: float = 0.2
    max: float = 5.0
    budget: float = 8.0


@dataclass(frozen=True, slots=True)
class Breaker:
    """Consecutive failures that open an endpoint's circuit, and when it is tried again."""

    failures: int = 5
    reset_after: float = 30.0


@dataclass(frozen=True, slots=True)
class PayerRoutes:
    amo: tuple[tuple[str, Endpoint], ...] = ()
    amc: Mapping[str, Endpoint] = field(default_factory=dict)
    timeouts: Timeouts = Timeouts()
    #: AMC number → the mutuelle's delivery endpoint (``delivery_url``, the route's credentials).
    deliveries: Mapping[str, Endpoint] = field(default_factory=dict)
    retries: Retries = Retries()
    breaker: Breaker = Breaker()

    def amo_for(self, organisme: str) -> Endpoint | None:
        """The AMO endpoint whose prefix is the longest one ``organisme`` starts with."""
        best: tuple[str, Endpoint] | None = None
        for prefix, endpoint in self.amo:
            if organisme.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, endpoint)
        return None if best is None else best[1]

    def amc_for(self, amc_number: str) -> Endpoint | None:
        return self.amc.get(amc_number)

    def delivery_for(self, amc_number: str) -> Endpoint | None:
        """Where the decisions on ``amc_number``'s claims are delivered, if anywhere."""
        return self.deliveries.get(amc_number)

    @property
    def remote_payers(self) -> bool:
        """Whether any payer is remote: a file with delivery routes only keeps them in process."""
        return bool(self.amo or self.amc)

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        seen: dict[str, Endpoint] = {}
        for endpoint in (*(endpoint for _, endpoint in self.amo), *self.amc.values()):
            seen.setdefault(endpoint.name, endpoint)
        return tuple(seen.values())


_ENTRY_KEYS = {"url", "name", "bearer_token_file", "bearer_token_env", "tls"}


def _http_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _number(
    section: Mapping[str, Any], key: str, default: float, where: str, *, integer: bool = False
) -> Any:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise RoutesError(f"{where}.{key} must be a positive number")
    if integer and not isinstance(value, int):
        raise RoutesError(f"{where}.{key} must be a whole number")
    return value


def _section(document: Mapping[str, Any], key: str, where: str, allowed: set[str]) -> Mapping[str, Any]:
    section = document.get(key) or {}
    if not isinstance(section, Mapping):
        raise RoutesError(f"{where}: {key} must be a mapping")
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise RoutesError(f"{where}: {key}.{unknown[0]} is not a setting")
    return section


def _endpoint(
    entry: Mapping[str, Any], keys: set[str], where: str, default_name: str, *, url_optional: bool = False
) -> Endpoint:
    unknown = sorted(set(entry) - _ENTRY_KEYS - keys)
    if unknown:
        raise RoutesError(f"{where}: unknown field {unknown[0]!r}")
    url = entry.get("url", "" if url_optional else None)
    if not (url == "" and url_optional) and not _http_url(url):
        raise RoutesError(f"{where}: url must be an http:// or https:// URL")
    url = str(url)
    name = entry.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise RoutesError(f"{where}: name must be a non-empty string")
    token: str | None = None
    if "bearer_token_file" in entry:
        try:
            token = Path(str(entry["bearer_token_file"])).read_text("utf-8").strip()
        except OSError as exc:
            raise RoutesError(f"{where}: cannot read bearer_token_file ({exc.strerror})") from None
    elif "bearer_token_env" in entry:
        token = os.environ.get(str(entry["bearer_token_env"]))
        if not token:
            raise RoutesError(
                f"{where}: the variable {entry['bearer_token_env']} named by bearer_token_env is empty"
            )
    tls: Tls | None = None
    if "tls" in entry:
        raw = entry["tls"]
        if (
            not isinstance(raw, Mapping)
            or not {"cert", "key"} <= set(raw)
            or set(raw) - {"cert", "key", "ca"}
        ):
            raise RoutesError(f"{where}: tls takes cert, key and optionally ca")
        tls = Tls(
            cert=Path(str(raw["cert"])),
            key=Path(str(raw["key"])),
            ca=Path(str(raw["ca"])) if "ca" in raw else None,
        )
    if token is not None and tls is not None:
        raise RoutesError(f"{where}: give a bearer token or tls, not both")
    return Endpoint(name=name, url=url.rstrip("/"), bearer_token=token, tls=tls)


def _codes(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    values = entry.get(key)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise RoutesError(f"{where}: {key} must be a non-empty list of quoted strings")
    return values


def parse_routes(text: str, *, source: str = "routing file") -> PayerRoutes:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise RoutesError(f"{source}: not valid YAML") from None
    if not isinstance(document, Mapping):
        raise RoutesError(f"{source}: the file must be a mapping with amo and amc lists")
    unknown = sorted(set(document) - {"amo", "amc", "timeouts", "retries", "breaker"})
    if unknown:
        raise RoutesError(f"{source}: {unknown[0]!r} is not a section")
    amo: list[tuple[str, Endpoint]] = []
    for index, entry in enumerate(document.get("amo") or []):
        where = f"{source}: amo[{index}]"
        if not isinstance(entry, Mapping):
            raise RoutesError(f"{where} must be a mapping")
        endpoint = _endpoint(entry, {"organismes"}, where, f"amo-{index}")
        for prefix in _codes(entry, "organismes", where):
            if not prefix.isdigit() or len(prefix) > 9:
                raise RoutesError(f"{where}: organisme prefix {prefix!r} is not 1 to 9 digits")
            if any(prefix == known for known, _ in amo):
                raise RoutesError(f"{where}: organisme prefix {prefix!r} is routed twice")
            amo.append((prefix, endpoint))
    amc: dict[str, Endpoint] = {}
    deliveries: dict[str, Endpoint] = {}
    for index, entry in enumerate(document.get("amc") or []):
        where = f"{source}: amc[{index}]"
        if not isinstance(entry, Mapping):
            raise RoutesError(f"{where} must be a mapping")
        delivery_url = entry.get("delivery_url")
        if delivery_url is not None and not _http_url(delivery_url):
            raise RoutesError(f"{where}: delivery_url must be an http:// or https:// URL")
        endpoint = _endpoint(
            entry,
            {"amc_numbers", "delivery_url"},
            where,
            f"amc-{index}",
            url_optional=delivery_url is not None,
        )
        for number in _codes(entry, "amc_numbers", where):
            if number in amc or number in deliveries:
                raise RoutesError(f"{where}: AMC number {number!r} is routed twice")
            if endpoint.url:
                amc[number] = endpoint
            if delivery_url is not None:
                deliveries[number] = replace(endpoint, url=str(delivery_url))
    timeouts = _section(document, "timeouts", source, {"connect", "read"})
    retries = _section(document, "retries", source, {"attempts", "initial", "max", "budget"})
    breaker = _section(document, "breaker", source, {"failures", "reset_after"})
    where = f"{source}: "
    return PayerRoutes(
        amo=tuple(amo),
        amc=amc,
        deliveries=deliveries,
        timeouts=Timeouts(
            connect=_number(timeouts, "connect", 2.0, f"{where}timeouts"),
            read=_number(timeouts, "read", 5.0, f"{where}timeouts"),
        ),
        retries=Retries(
            attempts=_number(retries, "attempts", 4, f"{where}retries", integer=True),
            initial=_number(retries, "initial", 0.2, f"{where}retries"),
            max=_number(retries, "max", 5.0, f"{where}retries"),
            budget=_number(retries, "budget", 8.0, f"{where}retries"),
        ),
        breaker=Breaker(
            failures=_number(breaker, "failures", 5, f"{where}breaker", integer=True),
            reset_after=_number(breaker, "reset_after", 30.0, f"{where}breaker"),
        ),
    )


def load_routes(path: Path) -> PayerRoutes:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutesError(f"{path}: cannot read the routing file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RoutesError(f"{path}: the routing file is not UTF-8") from None
    return parse_routes(text, source=str(path))
