"""Submissions: stored and read back exactly, unique per idempotency key, all or nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapter.access import Caller
from adapter.errors import StoreConflict, UsageError
from adapter.store import Store, StoredSubmission
from tests.support.submissions import KEY_SYSTEM, submission, with_key

PARIS = timezone(timedelta(hours=1))


def test_a_submission_round_trips_field_for_field(store: Store) -> None:
    """Every field written comes back equal, bytes byte for byte."""
    new = submission(1, raw=b"\x00\xff<Bundle/>", response_json='{"note":"réglé €"}'.encode())
    with store.write() as tx:
        tx.insert_submission(new)
    with store.read() as tx:
        found = tx.find_submission(new.client_id, new.key_system, new.key_value)
    assert isinstance(found, StoredSubmission)
    assert asdict(found) == asdict(new)
    assert found.response_json == '{"note":"réglé €"}'.encode()


def test_lookups_by_id_and_by_either_response_id(store: Store) -> None:
    """A submission is found by its id and by its AMO or AMC ClaimResponse id; unknown ids give None."""
    new = submission(2)
    with store.write() as tx:
        tx.insert_submission(new)
    with store.read() as tx:
        assert tx.submission_by_id(new.id) is not None
        by_amo = tx.submission_by_response_id("amo-2")
        by_amc = tx.submission_by_response_id("amc-2")
        assert by_amo is not None
        assert by_amo.id == new.id
        assert by_amc is not None
        assert by_amc.id == new.id
        assert tx.submission_by_id("00000000-0000-0000-0000-00000000dead") is None
        assert tx.submission_by_response_id("amo-404") is None
        assert tx.find_submission("hospital-a", KEY_SYSTEM, "SUB-404") is None


def test_datetimes_come_back_timezone_aware_in_utc(store: Store) -> None:
    """A Paris-time received_at comes back as the same instant, in UTC."""
    received = datetime(2026, 7, 14, 23, 45, 30, 123456, tzinfo=PARIS)
    with store.write() as tx:
        tx.insert_submission(submission(3, received_at=received))
    with store.read() as tx:
        found = tx.submission_by_id(submission(3).id)
    assert found is not None
    assert found.received_at == received
    assert found.received_at.tzinfo is UTC
    assert found.stored_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    """A submission without a time zone cannot even be built."""
    with pytest.raises(UsageError):
        submission(4, received_at=datetime(2026, 3, 10, 9, 30))  # noqa: DTZ001


def test_a_reused_key_fails_the_commit_and_stores_nothing_of_it(store: Store) -> None:
    """A second insert under a stored key fails the whole transaction with StoreConflict (the
    store's own error, not the driver's); the first row stays, nothing else of it is kept."""
    first = submission(5)
    with store.write() as tx:
        tx.insert_submission(first)
    second = submission(6, key_value=first.key_value)

    def write_both() -> None:
        with store.write() as tx:
            tx.insert_submission(submission(7))
            tx.insert_submission(second)

    with pytest.raises(StoreConflict):
        write_both()
    with store.read() as tx:
        found = tx.find_submission(first.client_id, first.key_system, first.key_value)
        _, total = tx.search(caller=Caller(client_id="ops", everything=True))
    assert found is not None
    assert found.id == first.id
    assert total == 1


def test_a_reused_response_id_under_a_new_key_is_a_store_conflict(store: Store) -> None:
    """Response ids are unique too: a clash under another key fails the commit."""
    with store.write() as tx:
        tx.insert_submission(submission(8))
    clash = with_key(submission(9, amo_response_id="amo-8"), "SUB-CLASH")
    with pytest.raises(StoreConflict), store.write() as tx:
        tx.insert_submission(clash)


def test_an_exception_rolls_everything_back(store: Store) -> None:
    """Nothing written in a transaction that raised is visible afterwards."""
    new = submission(10)

    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with store.write() as tx:
            tx.insert_submission(new)
            tx.audit(
                action="submit",
                outcome="ok",
                client_id="c",
                submission_id=new.id,
                request_id=None,
                at=new.stored_at,
            )
            tx.enqueue(topic="submission.stored", payload={"id": new.id}, at=new.stored_at)
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    with store.read() as tx:
        assert tx.find_submission(new.client_id, new.key_system, new.key_value) is None
    with store.write() as tx:
        assert tx.claim_outbox("w", limit=10, now=new.stored_at) == []


def test_a_read_transaction_refuses_writes(store: Store) -> None:
    """Writes through a Tx from read() are usage errors."""
    with store.read() as tx:
        with pytest.raises(UsageError):
            tx.insert_submission(submission(11))
        with pytest.raises(UsageError):
            tx.enqueue(topic="t", payload={}, at=submission(11).stored_at)


def test_the_repr_hides_payloads_and_the_nir() -> None:
    """A logged record shows neither the NIR nor the raw body."""
    text = repr(submission(13))
    assert submission(13).patient_nir not in text
    assert "Bundle" not in text
