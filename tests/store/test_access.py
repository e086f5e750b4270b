"""One read rule: ``adapter.access.may_read`` and the store's SQL filter agree everywhere.

Every combination of tenant kinds (everything; a client id; none, one or two FINESS; a SIRET
or none; an AMC number or none) meets rows of every shape (either client, a FINESS, a SIRET,
both or none, an AMC leg or none): the rows the SQL filter returns are exactly those the
Python check allows.
"""

from __future__ import annotations

import itertools
import uuid

from adapter.access import Caller, may_read
from adapter.store import Store
from tests.support.submissions import submission

FINESS = ("750712184", "130783293")
SIRET = "73282932000074"
AMC = "MUT0002"


def _rows() -> list[dict[str, str | None]]:
    shapes = itertools.product(
        ("client-a", "client-b"), (None, *FINESS), (None, SIRET), (None, AMC, "MUT0009")
    )
    return [
        {"client_id": client, "provider_finess": finess, "provider_siret": siret, "amc_number": amc}
        for client, finess, siret, amc in shapes
    ]


def _callers() -> list[Caller]:
    callers = [Caller(client_id="client-a", everything=True)]
    for client, finess, siret, amc in itertools.product(
        ("client-a", "client-z"),
        (frozenset(), frozenset(FINESS[:1]), frozenset(FINESS)),
        (frozenset(), frozenset({SIRET})),
        (frozenset(), frozenset({AMC})),
    ):
        callers.append(Caller(client_id=client, finess=finess, siret=siret, amc=amc))
    return callers


def test_the_sql_filter_and_the_python_check_agree_on_every_combination(store: Store) -> None:
    rows = _rows()
    with store.write() as tx:
        for n, row in enumerate(rows, start=1):
            tx.insert_submission(
                submission(n, amc_response_id=None if row["amc_number"] is None else f"amc-{n}", **row)
            )
    ids = {str(uuid.UUID(int=n)): row for n, row in enumerate(rows, start=1)}
    callers = _callers()
    assert len(callers) == 25
    for caller in callers:
        with store.read() as tx:
            found, total = tx.search(caller=caller, limit=1000)
        expected = {row_id for row_id, row in ids.items() if may_read(caller, row)}
        assert {row.id for row in found} == expected, caller
        assert total == len(expected)
    # the combinations cover both answers
    assert any(not may_read(caller, row) for caller in callers for row in rows)
    assert any(may_read(caller, row) and not caller.everything for caller in callers for row in rows)
