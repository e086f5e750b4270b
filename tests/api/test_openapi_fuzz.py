"""schemathesis against the app's own OpenAPI description, offline (the schema is read from the
app object), on the real service with JWT authentication and a development token.

Every operation gets generated requests, valid and invalid: no answer may be a 5xx, every
answer must conform to the description (status, content type, headers, body schema), every
request the description allows must be accepted (``_format``, ``_count`` and ``_offset`` once
allowed values that were refused) and every request it forbids refused. ``$submit`` is spared
the last two: a FHIR Bundle's rules do not fit in a JSON schema, so most generated Bundles are
rightly refused; the same goes for ``$inquire``, ``CoverageEligibilityRequest/$submit`` and
``DeviceRequest/$validate``. The number of examples is bounded and
derandomised: a few seconds.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from adapter.auth import mint_dev_token
from adapter.bootstrap import build_app
from adapter.settings import Settings

EXAMPLES = 60
SUBMIT = "/Claim/$submit"
#: Operations whose body is a FHIR resource (a Bundle, Parameters…): a JSON schema cannot say which
#: ones the service accepts.
BUNDLE_BODIES = (
    SUBMIT,
    "/Claim/$inquire",
    "/Claim/$cancel",
    "/CoverageEligibilityRequest/$submit",
    "/DeviceRequest/$validate",
)


# schemathesis builds its tests when the module is collected, from a schema it holds then
# (its lazy ``from_fixture`` loader does not run under this pytest): the app is built here, on
# a throwaway data directory that the module's teardown removes.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="adapter-openapi-"))
_SETTINGS = Settings(data_dir=_DATA_DIR, log_level="ERROR")
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    schema = schemathesis.openapi.from_asgi("/openapi.json", build_app(_SETTINGS))


@schema.auth()
class DevToken:
    """A valid development token on every request, so that schemathesis knows the requests
    are authenticated and its auth checks see the real 401s for others."""

    def get(self, case: Any, context: Any) -> str:
        return mint_dev_token(
            _SETTINGS.data_dir,
            client_id="dev-client",
            scopes=["system/Claim.write", "system/ClaimResponse.read"],
            now=datetime.now(UTC),
            issuer=_SETTINGS.jwt_issuer,
            audience=_SETTINGS.jwt_audience,
        )

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module", autouse=True)
def _remove_data_dir() -> Iterator[None]:
    yield
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_does_what_its_description_says(case: Any) -> None:
    excluded = [checks.positive_data_acceptance] if case.operation.path in BUNDLE_BODIES else []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        case.call_and_validate(excluded_checks=excluded)
