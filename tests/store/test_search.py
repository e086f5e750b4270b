"""Search: each criterion, paging with a total, newest first, and visibility filtered in SQL."""

from __future__ import annotations

import pytest

from adapter.access import Caller
from adapter.errors import UsageError
from adapter.store import Store
from tests.support.submissions import KEY_SYSTEM, OTHER_PATIENT, submission

ALL = Caller(client_id="ops", everything=True)


@pytest.fixture
def filled(store: Store) -> Store:
    """Five submissions from two clients, two hospitals, a SIRET provider, two AMCs."""
    rows = [
        submission(1),
        submission(2, patient_nir=OTHER_PATIENT.value),
        submission(3, client_id="hospital-b", provider_finess="130783293", amc_number="MUT0002"),
        submission(
            4,
            client_id="supplier-c",
            provider_finess=None,
            provider_siret="73282932000074",
            amc_number=None,
            amc_response_id=None,
            amo_organisme="021341234",
        ),
        submission(5, claim_identifier_system=None, claim_identifier_value=None),
    ]
    with store.write() as tx:
        for row in rows:
            tx.insert_submission(row)
    return store


def _ids(store: Store, caller: Caller = ALL, **criteria: object) -> tuple[list[int], int]:
    with store.read() as tx:
        found, total = tx.search(caller=caller, **criteria)  # type: ignore[arg-type]
    return [int(row.id.replace("-", ""), 16) for row in found], total


def test_without_criteria_everything_comes_newest_first(filled: Store) -> None:
    """No criterion lists every visible submission, latest received first."""
    assert _ids(filled) == ([5, 4, 3, 2, 1], 5)


def test_claim_matches_the_claim_identifier_or_the_bundle_identifier(filled: Store) -> None:
    """The claim criterion accepts the Claim's identifier and the submission key."""
    assert _ids(filled, claim=("https://hospital.example/claims", "CLM-0003")) == ([3], 1)
    assert _ids(filled, claim=(KEY_SYSTEM, "SUB-0005")) == ([5], 1)
    assert _ids(filled, claim=("https://other.example/claims", "CLM-0003")) == ([], 0)


def test_claim_id_patient_and_insurer(filled: Store) -> None:
    """claim_id is the submission id; insurer matches the AMO organisme or the AMC number."""
    assert _ids(filled, claim_id=submission(2).id) == ([2], 1)
    assert _ids(filled, patient_nir=OTHER_PATIENT.value) == ([2], 1)
    assert _ids(filled, insurer="021341234") == ([4], 1)
    assert _ids(filled, insurer="MUT0002") == ([3], 1)
    assert _ids(filled, insurer="011751234") == ([5, 3, 2, 1], 4)


def test_criteria_combine_with_and(filled: Store) -> None:
    """Two criteria narrow the result to rows matching both."""
    assert _ids(filled, insurer="MUT0001", patient_nir=OTHER_PATIENT.value) == ([2], 1)
    assert _ids(filled, insurer="MUT0002", patient_nir=OTHER_PATIENT.value) == ([], 0)


def test_paging_keeps_the_total(filled: Store) -> None:
    """offset/limit slice the ordered result; the total counts every match; limit 0 only counts."""
    assert _ids(filled, offset=0, limit=2) == ([5, 4], 5)
    assert _ids(filled, offset=2, limit=2) == ([3, 2], 5)
    assert _ids(filled, offset=4, limit=2) == ([1], 5)
    assert _ids(filled, offset=9, limit=2) == ([], 5)
    assert _ids(filled, limit=0) == ([], 5)


def test_bad_paging_is_a_usage_error(filled: Store) -> None:
    """A negative offset or limit is refused."""
    with pytest.raises(UsageError):
        _ids(filled, offset=-1)
    with pytest.raises(UsageError):
        _ids(filled, limit=-1)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (Caller(client_id="hospital-a"), [5, 2, 1]),
        (Caller(client_id="nobody", finess=frozenset({"130783293"})), [3]),
        (Caller(client_id="nobody", siret=frozenset({"73282932000074"})), [4]),
        (Caller(client_id="nobody", amc=frozenset({"MUT0002"})), [3]),
        (Caller(client_id="supplier-c", amc=frozenset({"MUT0002"})), [4, 3]),
        (Caller(client_id="nobody"), []),
        (Caller(client_id="nobody", everything=True), [5, 4, 3, 2, 1]),
    ],
)
def test_visibility_rules(filled: Store, caller: Caller, expected: list[int]) -> None:
    """A row is visible to its client, to its provider's FINESS or SIRET, to its AMC, or to everything."""
    assert _ids(filled, caller) == (expected, len(expected))


def test_visibility_also_bounds_the_total_under_criteria(filled: Store) -> None:
    """A caller never learns how many hidden rows match: the total counts visible rows only."""
    mine = Caller(client_id="hospital-b")
    assert _ids(filled, mine, insurer="011751234") == ([3], 1)
