"""The store-backed service: idempotent submit, tenancy, reads and search, on every backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from adapter.access import Caller
from adapter.auth import OrganisationForbidden
from adapter.errors import ConflictError, ParseError
from adapter.flow import SubmitFlow
from adapter.intake import Format, read_submission
from adapter.payers import ReferencePayers
from adapter.service import Answer
from adapter.service.claims import StoreService
from adapter.store import Store, StoredSubmission, engine
from adapter.store.tx import Tx
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "valid"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
EVERYONE = Caller(client_id="dev-client", everything=True)


@pytest.fixture
def service(store: Store) -> StoreService:
    """A service on the demo reference data and the store under test."""
    return StoreService(store, SubmitFlow(ReferencePayers.load()))


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_submit_adjudicates_and_replays_byte_for_byte(service: StoreService) -> None:
    """The same Bundle twice gives the stored answer, identical bytes, adjudicated once."""
    data = fixture("01-purchase-standard")
    first = service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)
    second = service.submit(data, Format.JSON, caller=EVERYONE, now=NOW.replace(hour=9))

    assert (first.replayed, second.replayed) == (False, True)
    assert second.json == first.json
    amounts = [
        [
            t["amount"]["value"]
            for t in e["resource"]["total"]
            if t["category"]["coding"][0]["code"] == "benefit"
        ]
        for e in first.resource["entry"]
    ]
    assert [str(a[0]) for a in amounts] == ["60.00", "90.00"]
    with service.store.read() as tx:
        _, total = tx.search(caller=EVERYONE, limit=10)
    assert total == 1


def test_xml_of_the_same_bundle_replays(service: StoreService) -> None:
    """Idempotency compares content, not bytes: the XML twin replays the JSON submission."""
    data = fixture("01-purchase-standard")
    first = service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)
    again = service.submit(dump_xml(jsonio.loads(data)), Format.XML, caller=EVERYONE, now=NOW)

    assert again.replayed
    assert again.json == first.json


def test_same_key_different_content_is_a_conflict(service: StoreService) -> None:
    """A reused Bundle.identifier with other content is refused and changes nothing."""
    data = fixture("01-purchase-standard")
    service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)
    bundle = jsonio.loads(data)
    bundle["timestamp"] = "2026-05-30T10:00:00+02:00"

    with pytest.raises(ConflictError):
        service.submit(jsonio.dumps(bundle), Format.JSON, caller=EVERYONE, now=NOW)
    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 1


def test_invalid_input_is_refused_before_any_storage(service: StoreService) -> None:
    """Bad bytes raise the intake error and store nothing."""
    with pytest.raises(ParseError):
        service.submit(b"{", Format.JSON, caller=EVERYONE, now=NOW)
    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 0


def test_tenancy_on_submit_and_reads(service: StoreService) -> None:
    """A client may bill only for its organisations and reads only what concerns it."""
    data = fixture("01-purchase-standard")
    bundle = jsonio.loads(data)
    provider = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Organization")
    identifier = provider["identifier"][0]["value"]
    hospital = Caller(client_id="hospital", finess=frozenset({identifier}), siret=frozenset({identifier}))
    stranger = Caller(client_id="stranger", finess=frozenset({"999999999"}))

    with pytest.raises(OrganisationForbidden):
        service.submit(data, Format.JSON, caller=stranger, now=NOW)
    answer = service.submit(data, Format.JSON, caller=hospital, now=NOW)
    amo_id = answer.resource["entry"][0]["resource"]["id"]
    amc_number = answer.resource["entry"][1]["resource"]["insurer"]["identifier"]["value"]
    mutuelle = Caller(client_id="mutuelle", amc=frozenset({amc_number}))

    assert service.claim_response(amo_id, caller=hospital) is not None
    assert service.claim_response(amo_id, caller=mutuelle) is not None
    assert service.claim_response(amo_id, caller=stranger) is None
    claim_id = answer.resource["entry"][0]["resource"]["request"]["reference"].split("/")[1]
    stored = service.claim(claim_id, caller=hospital)
    assert stored is not None
    assert stored.raw == data
    assert service.claim(claim_id, caller=stranger) is None


def _submit_in_order(service: StoreService, names: tuple[str, ...]) -> list[list[str]]:
    """Submit fixtures a minute apart; each claim's ClaimResponse ids (AMO, then AMC)."""
    ids = []
    for minute, name in enumerate(names):
        answer = service.submit(fixture(name), Format.JSON, caller=EVERYONE, now=NOW.replace(minute=minute))
        ids.append(
            [
                e["resource"]["id"]
                for e in answer.resource["entry"]
                if e["resource"]["resourceType"] == "ClaimResponse"
            ]
        )
    return ids


def test_search_pages_hold_count_claim_responses_at_most(service: StoreService) -> None:
    """_count is a hard maximum: pages of 3 over 7 ClaimResponses hold 3, 3 and 1, splitting a
    claim's AMO and AMC answers where they fall, and the offsets chain both ways."""
    claims = _submit_in_order(
        service, ("01-purchase-standard", "02-rental-bed", "03-two-lines", "08-no-mutuelle")
    )
    newest_first = [cr for ids in reversed(claims) for cr in ids]
    everything = service.search_claim_responses(caller=EVERYONE, count=100)
    assert everything.total == len(everything.resources) == 7
    assert [r["id"] for r in everything.resources] == newest_first

    pages: list[list[str]] = []
    offsets: list[tuple[int | None, int | None]] = []
    offset: int | None = 0
    while offset is not None:
        page = service.search_claim_responses(caller=EVERYONE, count=3, offset=offset)
        assert page.total == 7
        pages.append([r["id"] for r in page.resources])
        offsets.append((page.previous_offset, page.next_offset))
        offset = page.next_offset
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [cr for p in pages for cr in p] == newest_first
    assert offsets == [(None, 3), (0, 6), (3, None)]
    assert all(r["meta"]["versionId"] == "1" for r in everything.resources)

    mutuelle = service.search_claim_responses(caller=EVERYONE, insurer="MUTEX00001", count=2, offset=1)
    assert {r["insurer"]["identifier"]["value"] for r in mutuelle.resources} == {"MUTEX00001"}
    assert (len(mutuelle.resources), mutuelle.total, mutuelle.next_offset) == (2, 3, None)
    assert [r["id"] for r in mutuelle.resources] == [ids[1] for ids in reversed(claims[:3])][1:]


def test_search_sorts_by_created_either_way(service: StoreService) -> None:
    """_sort=created is oldest first, -created (the default) newest first; AMO before AMC in a claim."""
    claims = _submit_in_order(service, ("01-purchase-standard", "08-no-mutuelle", "02-rental-bed"))

    oldest = service.search_claim_responses(caller=EVERYONE, sort="created", count=4, offset=1)
    newest = service.search_claim_responses(caller=EVERYONE, sort="-created")
    updated = service.search_claim_responses(caller=EVERYONE, sort="_lastUpdated")

    assert [r["id"] for r in oldest.resources] == [cr for ids in claims for cr in ids][1:5]
    assert [r["id"] for r in newest.resources] == [cr for ids in reversed(claims) for cr in ids]
    assert [r["id"] for r in updated.resources] == [cr for ids in claims for cr in ids]


def test_claim_and_bundle_reads_and_claim_search(service: StoreService) -> None:
    """The Claim and its Bundle under the stored Claim's id, version 1; Claims searched by the
    Bundle.identifier they came in."""
    data = fixture("01-purchase-standard")
    answer = service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)
    claim_id = answer.resource["entry"][0]["resource"]["request"]["reference"].removeprefix("Claim/")
    submitted = jsonio.loads(data)

    claim = service.claim_resource(claim_id, caller=EVERYONE)
    bundle = service.submitted_bundle(claim_id, caller=EVERYONE)
    found = service.search_claims(
        caller=EVERYONE, identifier=(submitted["identifier"]["system"], submitted["identifier"]["value"])
    )
    elsewhere = service.search_claims(caller=EVERYONE, identifier=("https://other.example", "x"))

    assert claim is not None
    assert bundle is not None
    assert (claim.version, claim.last_updated) == (1, NOW)
    assert claim.resource["meta"] == {"versionId": "1", "lastUpdated": NOW.isoformat()}
    assert {k: v for k, v in claim.resource.items() if k not in ("id", "meta")} == {
        k: v for k, v in submitted["entry"][0]["resource"].items() if k not in ("id", "meta")
    }
    assert bundle.resource["id"] == claim.resource["id"] == claim_id
    assert bundle.resource["entry"] == submitted["entry"]
    assert ([c["id"] for c in found.resources], found.total, elsewhere.total) == ([claim_id], 1, 0)


def test_racing_threads_adjudicate_once(service: StoreService) -> None:
    """Eight threads submitting one Bundle: one adjudication, seven replays, one answer."""
    data = fixture("06-alsace-moselle")
    answers: list[Answer] = []

    def send() -> None:
        answers.append(service.submit(data, Format.JSON, caller=EVERYONE, now=NOW))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.replayed for a in answers) == [False] + [True] * 7
    assert len({a.json for a in answers}) == 1
    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 1


def _kill_pooled_connections(store: Store) -> int:
    """Terminate, from another session, the server process of the connection the pool holds."""
    with store.engine.connect() as pooled:
        pid = pooled.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    admin = create_engine(store.engine.url, poolclass=NullPool)
    try:
        with admin.connect() as other:
            assert other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})").scalar() is True
            other.rollback()
    finally:
        admin.dispose()
    return int(pid)


@pytest.fixture
def own_service(store: Store) -> Iterator[StoreService]:
    """A service on its own store (its own pool, one connection) over the database under test,
    so that a connection killed here never reaches another test."""
    own = Store.open(store.engine.url.render_as_string(hide_password=False), migrate=False)
    yield StoreService(own, SubmitFlow(ReferencePayers.load()))
    own.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_submit_survives_a_connection_the_server_dropped(
    own_service: StoreService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection in steady use is not pinged; when its server process is gone, the
    submit fails on it, then runs once more on a fresh connection and is stored once."""
    service = own_service
    monkeypatch.setattr(engine, "IDLE_PING_SECONDS", 3600.0)
    service.submit(fixture("01-purchase-standard"), Format.JSON, caller=EVERYONE, now=NOW)
    dead = _kill_pooled_connections(service.store)

    answer = service.submit(fixture("02-rental-bed"), Format.JSON, caller=EVERYONE, now=NOW)

    assert not answer.replayed
    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 2
        assert tx._connection.connection.dbapi_connection.info.backend_pid != dead  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_idle_pooled_connection_is_pinged_and_replaced_when_dead(
    own_service: StoreService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After idleness the pool pings before use, so even a read finds a live connection."""
    service = own_service
    service.submit(fixture("01-purchase-standard"), Format.JSON, caller=EVERYONE, now=NOW)
    dead = _kill_pooled_connections(service.store)
    monkeypatch.setattr(engine, "IDLE_PING_SECONDS", 0.0)

    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 1
        assert tx._connection.connection.dbapi_connection.info.backend_pid != dead  # type: ignore[union-attr]


def _twin(data: bytes) -> bytes:
    """The same Bundle under another Bundle.identifier: the same delivery billed twice."""
    bundle = jsonio.loads(data)
    bundle["identifier"]["value"] += "-TWIN"
    return jsonio.dumps(bundle)


def _recording_adjudications(service: StoreService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the submission key of each adjudication the flow runs for the service."""
    keys: list[str] = []
    original = service.flow.adjudicate

    def adjudicate(submission: Any, **kwargs: Any) -> Any:
        keys.append(submission.request.submission.value)
        return original(submission, **kwargs)

    monkeypatch.setattr(service.flow, "adjudicate", adjudicate)
    return keys


def test_the_payers_run_inside_the_transaction_and_a_replay_adjudicates_nothing(
    service: StoreService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No read transaction before the write one; one adjudication, none for the replay."""
    reads: list[int] = []
    real_read = service.store.read

    def read() -> Any:
        reads.append(1)
        return real_read()

    monkeypatch.setattr(service.store, "read", read)
    adjudications = _recording_adjudications(service, monkeypatch)
    answer = service.submit(fixture("01-purchase-standard"), Format.JSON, caller=EVERYONE, now=NOW)

    key = jsonio.loads(fixture("01-purchase-standard"))["identifier"]["value"]
    assert adjudications == [key]
    assert reads == []
    assert b"duplicate-delivery" not in answer.json
    replay = service.submit(fixture("01-purchase-standard"), Format.JSON, caller=EVERYONE, now=NOW)
    assert replay.replayed
    assert adjudications == [key]


def test_the_same_delivery_under_another_key_is_a_duplicate_of_the_stored_one(service: StoreService) -> None:
    """The payers read the history the transaction sees: a twin billed after the claim is flagged."""
    data = fixture("01-purchase-standard")
    service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)

    twin = service.submit(_twin(data), Format.JSON, caller=EVERYONE, now=NOW)

    assert b"duplicate-delivery" in twin.json
    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 2


def test_a_key_stored_behind_the_locks_back_is_replayed(
    service: StoreService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The submission's INSERT goes with the COMMIT, relying on the key's lock. Should a writer
    that ignores the locks have stored the key meanwhile, the commit fails on the unique key,
    the transaction rolls back whole, and the stored answer is replayed."""
    data = fixture("01-purchase-standard")
    first = service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)
    nir = read_submission(data).request.beneficiary.nir
    with service.store.read() as tx:
        delivered = len(tx.history.deliveries(nir))
    blind = 1  # the transaction's look-up misses it
    calls: list[str] = []
    real = Tx.find_submission

    def find(tx: Tx, client_id: str, system: str, value: str) -> StoredSubmission | None:
        calls.append(value)
        return None if len(calls) <= blind else real(tx, client_id, system, value)

    monkeypatch.setattr(Tx, "find_submission", find)
    again = service.submit(data, Format.JSON, caller=EVERYONE, now=NOW)

    assert again.replayed
    assert again.json == first.json
    assert len(calls) == blind + 1
    with service.store.read() as tx:
        assert tx.search(caller=EVERYONE, limit=0)[1] == 1
        assert len(tx.history.deliveries(nir)) == delivered > 0  # the rolled-back records are gone


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_postgresql_submit_is_two_round_trips(service: StoreService, sent: list[str]) -> None:
    """BEGIN, the locks, the key's look-up and the beneficiary's history and ledger in one batch;
    the writes and the COMMIT in the other. The driver asks the server to answer twice (a
    driver-issued BEGIN or COMMIT would each wait on its own). Reading the preloaded ledger
    after the AMO queued its delivery records sends nothing."""
    service.submit(fixture("01-purchase-standard"), Format.JSON, caller=EVERYONE, now=NOW)

    assert sent.count("SYNC") == 2
    assert sent.count("BATCH") == 2
    first, second = "\n".join(sent).split("BATCH\n")[1:]
    assert first.startswith("BEGIN\nSELECT pg_advisory_xact_lock")
    assert first.count("FROM delivery_records") == first.count("FROM ledger_entries") == 1
    assert "INSERT" not in first
    assert first.endswith("SYNC\n")
    assert "INSERT INTO delivery_records" in second
    assert "INSERT INTO submissions" in second
    assert second.endswith("COMMIT\nSYNC")
