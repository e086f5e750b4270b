"""Tenancy: which organisations each API client may act for, loaded from a YAML clients file.

A client (the token's ``client_id``, else ``sub``) is bound to providers by FINESS and/or SIRET
(it may submit for them and read their submissions) and to mutuelles by AMC number (it may
read the responses whose AMC leg is theirs). ``organisations: "*"`` instead of the lists lets a
client act for every organisation (the development client). Clients the registry does not know
have no rights at all. Each registered client is an ``adapter.access.Caller``: the one caller
type, whose rules (``may_submit``, ``may_read``) live in ``adapter.access``.

File format (identifiers are quoted strings, so YAML keeps their leading zeros)::

    clients:
      - client_id: clinique-exemple-facturation
        name: Clinique Exemple, billing system        # optional, for people
        finess: ["750712184"]
        siret: ["12345678900015"]
      - client_id: mutuelle-exemple
        amc: ["75500001"]
      - client_id: dev-client
        organisations: "*"
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path

import yaml

from adapter.access import Caller, may_read, may_submit
from adapter.auth.failures import ClientsFileError, OrganisationForbidden
from adapter.auth.tokens import Principal
from adapter.domain.values import AmcNumber, Finess, Siret
from adapter.errors import InvalidValueError

__all__ = [
    "DEV_CLIENT_ID",
    "ClientRegistry",
    "dev_registry",
    "load_clients",
    "parse_clients",
    "registry_from",
]

#: The client that may act for every organisation when no clients file is configured.
DEV_CLIENT_ID = "dev-client"
WILDCARD = "*"
_FIELDS = ("client_id", "name", "finess", "siret", "amc", "organisations")


def _normalise(value: object, factory: Callable[[str], Finess | Siret | AmcNumber]) -> str | None:
    """The canonical form of an identifier, or ``None`` when absent or malformed (never matches)."""
    if isinstance(value, Finess | Siret | AmcNumber):
        return value.value
    if not isinstance(value, str):
        return None
    try:
        return factory(value).value
    except InvalidValueError:
        return None


class ClientRegistry:
    """The clients and their organisations; answers the service's tenancy questions.

    ``development`` is true for the built-in registry used when no clients file is configured;
    the API logs that loudly at start-up, as it does for every client in ``wildcard_clients``.
    """

    def __init__(self, clients: Iterable[Caller], *, development: bool = False) -> None:
        self._clients: dict[str, Caller] = {}
        for client in clients:
            if client.client_id in self._clients:
                raise ValueError(f"client {client.client_id!r} is registered twice")
            self._clients[client.client_id] = client
        self.development = development

    def __len__(self) -> int:
        return len(self._clients)

    def get(self, client_id: str) -> Caller | None:
        """The registered client, or ``None``: an unknown client has no rights."""
        return self._clients.get(client_id)

    @property
    def wildcard_clients(self) -> tuple[str, ...]:
        """The clients allowed to act for every organisation (``organisations: "*"``)."""
        return tuple(sorted(cid for cid, client in self._clients.items() if client.everything))

    def may_submit_for(
        self, principal: Principal, finess: str | Finess | None, siret: str | Siret | None
    ) -> bool:
        """``access.may_submit`` for the principal's client; an unknown client may not submit.

        A malformed identifier never matches (and a provider with none is refused)."""
        client = self.get(principal.client_id)
        if client is None:
            return False
        canonical_finess = None if finess is None else _normalise(finess, Finess) or "\x00malformed"
        canonical_siret = None if siret is None else _normalise(siret, Siret) or "\x00malformed"
        return may_submit(client, canonical_finess, canonical_siret)

    def may_read(
        self,
        principal: Principal,
        provider_finess: str | Finess | None,
        provider_siret: str | Siret | None,
        amc_number: str | AmcNumber | None,
        submitted_by_client_id: str | None,
    ) -> bool:
        """``access.may_read`` for the principal's client; an unknown client reads nothing."""
        client = self.get(principal.client_id)
        return client is not None and may_read(
            client,
            {
                "client_id": submitted_by_client_id,
                "provider_finess": _normalise(provider_finess, Finess),
                "provider_siret": _normalise(provider_siret, Siret),
                "amc_number": _normalise(amc_number, AmcNumber),
            },
        )

    def require_submit_for(
        self, principal: Principal, finess: str | Finess | None, siret: str | Siret | None
    ) -> None:
        """Raise ``OrganisationForbidden`` (HTTP 403) unless :meth:`may_submit_for` holds."""
        if not self.may_submit_for(principal, finess, siret):
            raise OrganisationForbidden("this client is not registered to submit for this provider")


def dev_registry() -> ClientRegistry:
    """The registry used when no clients file is configured: ``dev-client`` acts for everyone."""
    client = Caller(client_id=DEV_CLIENT_ID, name="development client", everything=True)
    return ClientRegistry([client], development=True)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise ClientsFileError(f"line {mark.line + 1}: the key {key!r} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _identifiers(
    value: object, kind: str, factory: Callable[[str], Finess | Siret | AmcNumber], where: str
) -> frozenset[str]:
    if value is None:
        return frozenset()
    if value == WILDCARD or (isinstance(value, list) and WILDCARD in value):
        raise ClientsFileError(
            f'{where}: {kind} cannot hold "*"; write organisations: "*" to act for every organisation'
        )
    if not isinstance(value, list):
        raise ClientsFileError(f"{where}: {kind} must be a list of identifiers")
    values: set[str] = set()
    for index, item in enumerate(value):
        at = f"{where}: {kind}[{index}]"
        if not isinstance(item, str):
            raise ClientsFileError(
                f"{at}: write identifiers as quoted strings (YAML reads bare digits as a number)"
            )
        try:
            values.add(factory(item).value)
        except InvalidValueError as exc:
            raise ClientsFileError(f"{at} {item!r}: {exc.message}") from None
    return frozenset(values)


def _client(entry: object, index: int, source: str) -> Caller:
    where = f"{source}: clients[{index}]"
    if not isinstance(entry, Mapping):
        raise ClientsFileError(f"{where} must be a mapping with client_id, finess, siret, amc")
    unknown = sorted(str(key) for key in entry if key not in _FIELDS)
    if unknown:
        expected = ", ".join(_FIELDS)
        raise ClientsFileError(f"{where}: unknown field(s) {', '.join(unknown)} (expected {expected})")
    client_id = entry.get("client_id")
    if not isinstance(client_id, str) or not client_id or client_id != client_id.strip():
        raise ClientsFileError(f"{where}: client_id must be a non-empty string without surrounding spaces")
    where = f"{source}: client {client_id!r}"
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise ClientsFileError(f"{where}: name must be a string")
    finess = _identifiers(entry.get("finess"), "finess", Finess, where)
    siret = _identifiers(entry.get("siret"), "siret", Siret, where)
    amc = _identifiers(entry.get("amc"), "amc", AmcNumber, where)
    organisations = entry.get("organisations")
    if organisations is not None:
        if organisations != WILDCARD:
            raise ClientsFileError(f'{where}: organisations only takes "*" (every organisation)')
        if finess or siret or amc:
            raise ClientsFileError(f'{where}: organisations: "*" already covers finess, siret and amc')
        return Caller(client_id=client_id, name=name, everything=True)
    if not (finess or siret or amc):
        raise ClientsFileError(f"{where}: lists no organisation (finess, siret or amc)")
    return Caller(client_id=client_id, name=name, finess=finess, siret=siret, amc=amc)


def parse_clients(text: str, *, source: str = "clients file") -> ClientRegistry:
    """Parse a clients file; ``ClientsFileError`` names ``source``, the client and the field."""
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ClientsFileError as exc:
        raise ClientsFileError(f"{source}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ClientsFileError(f"{source}: not valid YAML{at}") from None
    if not isinstance(document, Mapping) or set(document) != {"clients"}:
        raise ClientsFileError(f"{source}: the file must hold exactly one key, 'clients', with a list")
    entries = document["clients"]
    if not isinstance(entries, list) or not entries:
        raise ClientsFileError(f"{source}: 'clients' must be a non-empty list")
    clients: dict[str, Caller] = {}
    for index, entry in enumerate(entries):
        client = _client(entry, index, source)
        if client.client_id in clients:
            raise ClientsFileError(f"{source}: client {client.client_id!r} is listed twice")
        clients[client.client_id] = client
    return ClientRegistry(clients.values())


def load_clients(path: Path) -> ClientRegistry:
    """Read and parse a clients file (UTF-8 YAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientsFileError(f"{path}: cannot read the clients file ({exc.strerror})") from exc
    except UnicodeDecodeError:
        raise ClientsFileError(f"{path}: the clients file is not UTF-8") from None
    return parse_clients(text, source=str(path))


def registry_from(clients_file: Path | None) -> ClientRegistry:
    """The configured registry, or the development one when no clients file is configured."""
    if clients_file is None:
        return dev_registry()
    return load_clients(clients_file)
