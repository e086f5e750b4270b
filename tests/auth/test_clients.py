"""Tenancy: the clients file, its errors, and the submit and read predicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.auth import (
    DEV_CLIENT_ID,
    ClientRegistry,
    ClientsFileError,
    OrganisationForbidden,
    Principal,
    dev_registry,
    load_clients,
    parse_clients,
    registry_from,
)
from adapter.domain.values import AmcNumber, Finess, Siret

CLINIQUE_FINESS = "750000013"
OTHER_FINESS = "690000026"
SUPPLIER_SIRET = "12345678900015"
OTHER_SIRET = "98765432100015"
MUTUELLE_AMC = "75500001"
OTHER_AMC = "99887766"

CLIENTS_YAML = f"""
clients:
  - client_id: clinique-exemple
    name: Clinique Exemple, billing system
    finess: ["{CLINIQUE_FINESS}"]
  - client_id: prestataire-exemple
    siret: ["{SUPPLIER_SIRET}"]
  - client_id: groupe-exemple
    finess: ["{CLINIQUE_FINESS}"]
    siret: ["{SUPPLIER_SIRET}"]
  - client_id: mutuelle-exemple
    amc: ["{MUTUELLE_AMC}"]
  - client_id: supervision
    organisations: "*"
"""


def who(client_id: str) -> Principal:
    """A principal for ``client_id`` (scopes do not matter to tenancy)."""
    return Principal(client_id, frozenset())


@pytest.fixture
def registry() -> ClientRegistry:
    """The registry of the sample clients file."""
    return parse_clients(CLIENTS_YAML)


# -- loading --------------------------------------------------------------------------------------


def test_clients_file_is_loaded(tmp_path: Path) -> None:
    """A clients file is read from disk, identifiers normalised."""
    path = tmp_path / "clients.yaml"
    path.write_text(CLIENTS_YAML, encoding="utf-8")

    registry = load_clients(path)

    client = registry.get("clinique-exemple")
    assert len(registry) == 5
    assert client is not None
    assert client.name == "Clinique Exemple, billing system"
    assert client.finess == frozenset({CLINIQUE_FINESS})
    assert not client.everything
    assert not registry.development


def test_wildcard_clients_are_listed(registry: ClientRegistry) -> None:
    """Clients holding a '*' are reported so the service can log them."""
    assert registry.wildcard_clients == ("supervision",)


def test_no_clients_file_means_the_dev_registry() -> None:
    """Without a clients file, dev-client may act for every organisation and nobody else for any."""
    registry = registry_from(None)

    assert registry.development
    assert registry.may_submit_for(who(DEV_CLIENT_ID), OTHER_FINESS, OTHER_SIRET)
    assert registry.may_read(who(DEV_CLIENT_ID), None, None, OTHER_AMC, "someone-else")
    assert not registry.may_submit_for(who("clinique-exemple"), OTHER_FINESS, None)


def test_registry_from_a_path_loads_it(tmp_path: Path) -> None:
    """With a clients file configured, it is the registry."""
    path = tmp_path / "clients.yaml"
    path.write_text(CLIENTS_YAML, encoding="utf-8")

    assert registry_from(path).get("mutuelle-exemple") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('clients: [\n  - client_id: a\n    finess: ["750000013"\n', r"not valid YAML \(line"),
        ("- client_id: a\n", "exactly one key, 'clients'"),
        ("clients: []\n", "non-empty list"),
        ("clients:\n  - just-a-name\n", r"clients\[0\] must be a mapping"),
        ("clients:\n  - client_id: a\n    finness: ['750000013']\n", "unknown field.*finness"),
        ("clients:\n  - finess: ['750000013']\n", r"clients\[0\]: client_id must be"),
        ("clients:\n  - client_id: a\n", "client 'a': lists no organisation"),
        (
            "clients:\n  - client_id: a\n    finess: [750000013]\n",
            r"client 'a': finess\[0\]: write identifiers as quoted",
        ),
        (
            "clients:\n  - client_id: a\n    finess: ['75']\n",
            r"client 'a': finess\[0\] '75': a FINESS number",
        ),
        ("clients:\n  - client_id: a\n    siret: ['12345678900016']\n", r"siret\[0\] '12345678900016'"),
        ("clients:\n  - client_id: a\n    amc: ['not valid!']\n", r"amc\[0\]"),
        ("clients:\n  - client_id: a\n    finess: ['*']\n", 'finess cannot hold "\\*"; write organisations'),
        ("clients:\n  - client_id: a\n    amc: '*'\n", 'amc cannot hold "\\*"'),
        ("clients:\n  - client_id: a\n    amc: all\n", "amc must be a list of identifiers"),
        ("clients:\n  - client_id: a\n    organisations: all\n", 'organisations only takes "\\*"'),
        (
            "clients:\n  - client_id: a\n    organisations: '*'\n    amc: ['1']\n",
            "already covers finess, siret and amc",
        ),
        ("clients:\n  - client_id: a\n    name: 3\n    amc: ['1']\n", "name must be a string"),
        ("clients:\n  - {client_id: a, amc: ['1']}\n  - {client_id: a, amc: ['2']}\n", "'a' is listed twice"),
        (
            "clients:\n  - client_id: a\n    amc: ['1']\n    amc: ['2']\n",
            "line 4: the key 'amc' appears twice",
        ),
    ],
)
def test_clients_file_errors_are_named(text: str, message: str) -> None:
    """Each malformed clients file raises clients-file-invalid naming the file, client and field."""
    with pytest.raises(ClientsFileError, match=message) as caught:
        parse_clients(text, source="clients.yaml")

    assert caught.value.code == "clients-file-invalid"
    assert caught.value.message.startswith("clients.yaml: ")


def test_unreadable_clients_file_names_the_path(tmp_path: Path) -> None:
    """A missing clients file is a clients-file-invalid error naming the path."""
    with pytest.raises(ClientsFileError, match=r"absent\.yaml"):
        load_clients(tmp_path / "absent.yaml")


def test_clients_file_must_be_utf8(tmp_path: Path) -> None:
    """A clients file in another encoding is refused with a clear message."""
    path = tmp_path / "clients.yaml"
    path.write_bytes("clients:\n  - client_id: clinique-é\n".encode("latin-1"))

    with pytest.raises(ClientsFileError, match="not UTF-8"):
        load_clients(path)


def test_yaml_tags_are_not_executed() -> None:
    """Python-specific YAML tags are refused (safe loader), not constructed."""
    with pytest.raises(ClientsFileError, match="not valid YAML"):
        parse_clients("clients: !!python/object/apply:os.getcwd []\n")


# -- submitting -----------------------------------------------------------------------------------


def test_provider_client_may_submit_for_its_finess(registry: ClientRegistry) -> None:
    """A client bound to a FINESS may submit for it, as a string or a value object."""
    assert registry.may_submit_for(who("clinique-exemple"), CLINIQUE_FINESS, None)
    assert registry.may_submit_for(who("clinique-exemple"), Finess(CLINIQUE_FINESS.lower()), None)


def test_supplier_client_may_submit_for_its_siret(registry: ClientRegistry) -> None:
    """A client bound to a SIRET may submit for it, spaces ignored."""
    assert registry.may_submit_for(who("prestataire-exemple"), None, "123 456 789 00015")
    assert registry.may_submit_for(who("prestataire-exemple"), None, Siret(SUPPLIER_SIRET))


@pytest.mark.parametrize(
    ("client_id", "finess", "siret"),
    [
        ("clinique-exemple", OTHER_FINESS, None),
        ("prestataire-exemple", None, OTHER_SIRET),
        ("prestataire-exemple", OTHER_FINESS, SUPPLIER_SIRET),
        ("clinique-exemple", CLINIQUE_FINESS, SUPPLIER_SIRET),
        ("clinique-exemple", None, None),
        ("clinique-exemple", "garbage", None),
        ("mutuelle-exemple", CLINIQUE_FINESS, None),
        ("unknown-client", CLINIQUE_FINESS, None),
    ],
)
def test_submission_for_another_provider_is_refused(
    registry: ClientRegistry, client_id: str, finess: str | None, siret: str | None
) -> None:
    """Another org, an identifier the client does not hold, no identifier, or an unknown client: refused."""
    assert not registry.may_submit_for(who(client_id), finess, siret)


def test_client_holding_both_identifiers_may_submit_with_both(registry: ClientRegistry) -> None:
    """A provider identified by FINESS and SIRET needs a client registered for both."""
    assert registry.may_submit_for(who("groupe-exemple"), CLINIQUE_FINESS, SUPPLIER_SIRET)


def test_require_submit_for_raises_403(registry: ClientRegistry) -> None:
    """require_submit_for turns a refusal into organisation-forbidden (403)."""
    registry.require_submit_for(who("clinique-exemple"), CLINIQUE_FINESS, None)

    with pytest.raises(OrganisationForbidden) as caught:
        registry.require_submit_for(who("clinique-exemple"), OTHER_FINESS, None)

    assert caught.value.http_status == 403
    assert caught.value.www_authenticate is None


# -- reading --------------------------------------------------------------------------------------


def test_client_reads_its_own_submissions(registry: ClientRegistry) -> None:
    """A client may read what it submitted, whatever the provider."""
    assert registry.may_read(who("prestataire-exemple"), OTHER_FINESS, None, None, "prestataire-exemple")


def test_provider_reads_submissions_for_its_organisation(registry: ClientRegistry) -> None:
    """A client bound to the provider's FINESS or SIRET may read submissions made by others for it."""
    assert registry.may_read(who("clinique-exemple"), CLINIQUE_FINESS, SUPPLIER_SIRET, None, "groupe-exemple")
    assert registry.may_read(who("prestataire-exemple"), None, SUPPLIER_SIRET, None, "groupe-exemple")


def test_mutuelle_reads_responses_of_its_amc_leg(registry: ClientRegistry) -> None:
    """A mutuelle may read submissions whose AMC leg is its AMC number."""
    assert registry.may_read(who("mutuelle-exemple"), OTHER_FINESS, None, MUTUELLE_AMC, "clinique-exemple")
    assert registry.may_read(who("mutuelle-exemple"), OTHER_FINESS, None, AmcNumber(MUTUELLE_AMC), None)


def test_wildcard_client_reads_and_submits_for_everyone(registry: ClientRegistry) -> None:
    """organisations: '*' reads every submission and submits for any identified provider."""
    assert registry.may_read(who("supervision"), OTHER_FINESS, None, None, "clinique-exemple")
    assert registry.may_submit_for(who("supervision"), OTHER_FINESS, OTHER_SIRET)
    assert not registry.may_submit_for(who("supervision"), None, None)


@pytest.mark.parametrize(
    ("client_id", "finess", "siret", "amc", "submitted_by"),
    [
        ("clinique-exemple", OTHER_FINESS, None, MUTUELLE_AMC, "prestataire-exemple"),
        ("prestataire-exemple", OTHER_FINESS, OTHER_SIRET, None, "clinique-exemple"),
        ("mutuelle-exemple", CLINIQUE_FINESS, None, OTHER_AMC, "clinique-exemple"),
        ("mutuelle-exemple", CLINIQUE_FINESS, None, None, None),
        ("unknown-client", CLINIQUE_FINESS, None, None, "unknown-client"),
    ],
)
def test_cross_tenant_reads_are_refused(
    registry: ClientRegistry,
    client_id: str,
    finess: str | None,
    siret: str | None,
    amc: str | None,
    submitted_by: str | None,
) -> None:
    """Other providers' and other mutuelles' submissions are unreadable; unknown clients read nothing."""
    assert not registry.may_read(who(client_id), finess, siret, amc, submitted_by)


def test_dev_registry_is_only_dev_client() -> None:
    """The development registry knows exactly one client, dev-client, acting for everyone."""
    registry = dev_registry()
    client = registry.get(DEV_CLIENT_ID)

    assert len(registry) == 1
    assert client is not None
    assert client.everything
