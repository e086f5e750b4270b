"""Bad input never becomes a 500: every one-element change to a valid submission, and random
combinations of them in JSON and XML, is either adjudicated or refused with stable codes and
the FHIRPath of what is wrong.

These found real faults: a number where FHIR wants a date (pydantic's lax mode read it as a
Unix time), a Reference with no literal ``reference``, an identifier with no value, a
prescription naming no device, an amount beyond the decimal context, a date in year 9999.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.access import Caller
from adapter.errors import CATALOGUE, AdapterError, InputError, UsageError
from adapter.flow import SubmitFlow
from adapter.intake import Format, read_submission
from adapter.payers import ReferencePayers
from adapter.service.claims import StoreService
from adapter.store import Store
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
EVERYONE = Caller(client_id="dev-client", everything=True)
DELETE = object()

MUTATIONS: dict[str, Any] = {
    "deleted": DELETE,
    "an empty object": {},
    "an empty array": [],
    "an array of an empty object": [{}],
    "null": None,
    "an empty string": "",
    "a 31-digit integer": 10**30,
    "1E+400": Decimal("1E+400"),
    "0.001": Decimal("0.001"),
    "the last day of year 9999": "9999-12-31",
    "the first day of year 1": "0001-01-01",
    "a word": "x",
    "-5": -5,
    "true": True,
}
# Issues about the root itself have no element to name.
ROOT_CODES = frozenset({"resource-type-missing", "resource-type-unknown", "resource-type-wrong"})


def _valid(name: str) -> dict[str, Any]:
    return dict(jsonio.loads((FIXTURES / name).read_bytes()))


def _paths(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _mutated(bundle: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(bundle)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return changed


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreService]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('robustness') / 'adapter.sqlite3'}")
    yield StoreService(store, SubmitFlow(ReferencePayers.load()))
    store.dispose()


def _fault(service: StoreService, data: bytes, fmt: Format) -> str | None:
    """What is wrong with how the adapter handled ``data``, or None when it answered properly."""
    try:
        read_submission(data, fmt)
    except InputError as exc:
        for issue in exc.issues:
            if issue.code not in CATALOGUE:
                return f"issue code {issue.code!r} is not in the catalogue"
            if not issue.expression and issue.code not in ROOT_CODES:
                return f"issue {issue.code!r} ({issue.message}) names no element"
        return None
    try:
        service.submit(data, fmt, caller=EVERYONE, now=NOW)
    except AdapterError as exc:
        status = getattr(exc, "http_status", None)
        if not isinstance(status, int) or not 400 <= status < 500:
            return f"{type(exc).__name__} without a 4xx status: {exc}"
    except Exception as exc:  # anything else is the fault this test looks for
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_every_element_of_a_valid_submission_changed_alone(service: StoreService, mutation: str) -> None:
    """Each element of the purchase scenario replaced by (or without) the value named: accepted,
    or refused with catalogued issues that name their element; never an unexpected exception."""
    bundle = _valid("01-purchase-standard.json")
    faults = []
    for number, path in enumerate(_paths(bundle)):
        changed = _mutated(bundle, path, MUTATIONS[mutation])
        if isinstance(changed.get("identifier"), dict):  # a fresh key: adjudicated, not replayed
            changed["identifier"]["value"] = f"robustness-{mutation}-{number}"
        fault = _fault(service, jsonio.dumps(changed), Format.JSON)
        if fault is not None:
            faults.append(f"{'.'.join(map(str, path))}: {fault}")
    assert faults == []


_NAMES = sorted(p.name for p in FIXTURES.glob("*.json") if not p.name.endswith(".meta.json"))


@st.composite
def _changed_submission(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    bundle = _valid(draw(st.sampled_from(_NAMES)))
    done = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(bundle))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        mutation = draw(st.sampled_from(list(MUTATIONS)))
        bundle = _mutated(bundle, path, MUTATIONS[mutation])
        done.append(f"{'.'.join(map(str, path))} → {mutation}")
    return bundle, done


_SEEN: list[int] = [0]


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(changed=_changed_submission(), xml=st.booleans())
def test_random_changes_in_json_and_xml(
    service: StoreService, changed: tuple[dict[str, Any], list[str]], xml: bool
) -> None:
    """Up to three changes anywhere in any valid scenario, sent as JSON or XML (when the change
    can be written in XML at all): never an unexpected exception."""
    bundle, done = changed
    _SEEN[0] += 1
    if isinstance(bundle.get("identifier"), dict):
        bundle["identifier"]["value"] = f"random-{_SEEN[0]}"
    if xml:
        try:
            data, fmt = dump_xml(bundle), Format.XML
        except (UsageError, TypeError, ValueError):  # FHIR XML cannot carry this change
            data, fmt = jsonio.dumps(bundle), Format.JSON
    else:
        data, fmt = jsonio.dumps(bundle), Format.JSON
    assert _fault(service, data, fmt) is None, done
