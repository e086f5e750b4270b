"""Settings: where the service's configuration is read from the environment (prefix ``ADAPTER_``).

Built once at the composition root and passed down; only the command line's own options
(``adapter conformance --token`` from ``ADAPTER_CONFORMANCE_TOKEN``) read a variable elsewhere.

With no variable set, the adapter runs on the embedded default: SQLite under the user's state
directory (``$XDG_STATE_HOME/fhir-lpp-adapter``, by default ``~/.local/state/fhir-lpp-adapter``,
the same whatever the current directory),
the in-process reference payers, the demo reference data, and development tokens signed by
a key generated under the data directory. Every setting is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mappings.systems import DEFAULT_BASE, Canon

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """``$XDG_STATE_HOME/fhir-lpp-adapter`` (``~/.local/state/fhir-lpp-adapter`` without it): one
    place for every command, so that ``adapter dev-token`` signs with the key ``adapter serve``
    checks, from whatever directory either is started."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "fhir-lpp-adapter"


class Settings(BaseSettings):
    """Typed settings; build once at the composition root and pass explicitly."""

    model_config = SettingsConfigDict(env_prefix="ADAPTER_", frozen=True, extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="SQLite file, dev keys and other local state"
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    canonical_base: str = Field(default=DEFAULT_BASE, description="base of the project's own FHIR artefacts")
    lpp_aliases: tuple[str, ...] = Field(default=(), description="other URIs read as the LPP code system")
    lpp_table: Path | None = Field(default=None, description="LPP table CSV replacing the demo table")
    amc_contracts: Path | None = Field(
        default=None, description="AMC contract catalogue replacing the demo one"
    )
    rules_warning_findings: tuple[str, ...] | None = Field(
        default=None,
        description="integrity findings that only warn (every other one blocks its line); default: the engine's",  # noqa: E501
    )
    rules_near_duplicate_days: int = Field(
        default=3,
        ge=0,
        description="days within which the same code from the same provider is a near-duplicate",
    )
    rules_unusual_quantity_factor: int = Field(
        default=3, ge=1, description="a quantity above this many times the code's usual quantity is unusual"
    )
    rules_technical_forfait_tariffs: dict[str, Decimal] = Field(
        default_factory=dict,
        description="telemonitoring exploitant (SIRET or FINESS) → technical forfait per month at its active-file tier",  # noqa: E501
    )
    rules_billing_deadline_months: int = Field(
        default=12, ge=1, description="an establishment's billing deadline, in months after the care"
    )
    rules_supplier_billing_deadline_months: int = Field(
        default=24,
        ge=1,
        description="a supplier's, pharmacist's or other professional's billing deadline, in months after the quarter of the care",  # noqa: E501
    )
    rules_at_mp_above_tariff: Decimal = Field(
        default=Decimal(150),
        ge=100,
        description="AT/MP cover of LPP devices, in percent of the tariff, within the price",
    )
    rules_rental_units_at_own_tariff: bool = Field(
        default=True,
        description="price each unit of a rental at the tariff of its own date (off: the start date's tariff)",  # noqa: E501
    )
    rules_ame_rate: Decimal = Field(
        default=Decimal(100), ge=0, le=100, description="the AME's cover, in percent of the tariff"
    )
    max_body_bytes: int = Field(default=5_000_000, gt=0, description="largest accepted request body")
    max_depth: int = Field(default=64, gt=0, description="deepest accepted element nesting")
    submit_concurrency: int = Field(
        default=1, ge=0, description="submits one worker process runs at once (0: no limit)"
    )
    auth: Literal["jwt", "disabled"] = Field(
        default="jwt", description="'disabled' is for local experiments only"
    )
    jwks_file: Path | None = Field(default=None, description="JWKS with the token signers' public keys")
    jwks_url: str | None = Field(default=None, description="JWKS URL (fetched and cached)")
    jwt_issuer: str = Field(default="adapter-dev", description="required 'iss' of access tokens")
    jwt_audience: str = Field(default="adapter", description="required 'aud' of access tokens")
    clients_file: Path | None = Field(default=None, description="client → organisations it acts for (YAML)")
    dev_key_password: SecretStr | None = Field(default=None, description="encrypts the generated dev key")
    log_level: str = Field(default="INFO", description="logging level (DEBUG, INFO, WARNING, ERROR)")
    db_connect_timeout: float = Field(
        default=5.0, gt=0, description="seconds to open a database connection (PostgreSQL: at least 2)"
    )
    db_statement_timeout: float = Field(
        default=10.0, gt=0, description="seconds a PostgreSQL statement, and a whole transaction, may take"
    )
    db_pool_timeout: float = Field(
        default=5.0, gt=0, description="seconds to wait for a free pooled connection"
    )
    db_retry_after: int = Field(
        default=5, gt=0, description="Retry-After (seconds) of a 503 while the database is unavailable"
    )
    ready_timeout: float = Field(default=2.0, gt=0, description="seconds /readyz waits for the database")
    payer_routes: Path | None = Field(
        default=None,
        description="payer routing file: with it the AMO and AMC are remote (docs/payer-protocol.md)",
    )
    payer_budget: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="seconds $submit waits for remote payers before answering queued",
    )
    worker_embedded: bool = Field(
        default=True,
        description="with remote payers or delivery destinations, run the worker inside adapter serve",
    )
    worker_retry_seconds: float = Field(
        default=10.0, gt=0, description="seconds before the worker asks a payer that failed again"
    )
    worker_max_attempts: int = Field(
        default=20, gt=0, description="times the worker asks for a pended claim before dead-lettering it"
    )
    events_url: SecretStr | None = Field(
        default=None,
        description="AMQP URL (amqp:// or amqps://) of the broker every event is published to",
    )
    events_exchange: str = Field(
        default="fhir-lpp-adapter.events",
        min_length=1,
        max_length=255,
        description="the topic exchange the events are published to (routing key: the event type)",
    )
    delivery_max_attempts: int = Field(
        default=10, gt=0, description="sends of one delivery before it goes to the dead letters"
    )
    delivery_retry_seconds: float = Field(
        default=1.0, gt=0, description="seconds before a failed delivery is sent again (then doubling)"
    )
    delivery_retry_max_seconds: float = Field(
        default=300.0, gt=0, description="the longest wait between two sends of one delivery"
    )
    outbox_retention_days: int = Field(
        default=7,
        gt=0,
        description="days a processed outbox event, and a delivered delivery, is kept by the worker",
    )
    subscriptions: bool = Field(
        default=True, description="serve /Subscription and notify subscribers (the worker then always runs)"
    )
    subscription_allow_http: bool = Field(
        default=False, description="let subscriptions notify plain-http endpoints beyond loopback"
    )
    subscription_timeout: float = Field(
        default=5.0, gt=0, le=60, description="seconds one notification (or handshake) POST may take"
    )
    subscription_key_file: Path | None = Field(
        default=None, description="AES key sealing subscription secrets; default in data_dir"
    )
    public_base_url: str | None = Field(
        default=None, description="the adapter's public URL, for the references in notifications"
    )
    retention_days: int = Field(
        default=365, gt=0, description="days a submission's body is kept before `adapter purge` empties it"
    )
    http_header_timeout: float = Field(
        default=10.0, gt=0, description="seconds a client has to send a request's line and headers"
    )
    http_body_timeout: float = Field(
        default=30.0, gt=0, description="seconds a client has to send a whole body"
    )
    http_keepalive_timeout: int = Field(
        default=5, gt=0, description="seconds an idle keep-alive connection stays open"
    )
    http_limit_concurrency: int = Field(
        default=1000, gt=0, description="connections and requests one worker holds at once (then 503)"
    )

    @property
    def canon(self) -> Canon:
        return Canon(base=self.canonical_base, lpp_aliases=self.lpp_aliases)

    @property
    def effective_subscription_key_file(self) -> Path:
        return self.subscription_key_file or self.data_dir / "subscription-secrets.key"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'adapter.sqlite3').as_posix()}"
