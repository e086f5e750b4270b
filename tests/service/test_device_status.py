"""The real service's device lookups: the LPP table it was given, its version computed once."""

from __future__ import annotations

from datetime import date

from adapter.flow import SubmitFlow
from adapter.payers import ReferencePayers
from adapter.rules.lpp_loader import parse_lpp_table
from adapter.service.claims import StoreService
from adapter.store import Store

TABLE = (
    "code,label,valid_from,valid_to,tarif,category,kind,source\n"
    "1234567,Old,2020-01-01,2021-12-31,10.00,test,individual,x\n"
    "1234567,New,2022-01-01,,12.00,test,individual,x\n"
)


def test_the_service_reads_the_table_it_was_given(store: Store) -> None:
    service = StoreService(
        store, SubmitFlow(ReferencePayers.load()), lpp_table=parse_lpp_table(TABLE, source="t.csv")
    )

    assert service.device_status("1234567", date(2021, 6, 1)).label == "Old"  # type: ignore[union-attr]
    assert service.device_status("1234567", date(2019, 6, 1)) is None
    assert service.device_status("9900001", date(2024, 1, 1)) is None  # not the demo table
    found = service.device_status_by_id("lpp-1234567-2022-01-01", date(2024, 1, 1))
    assert found is not None
    assert found.tarif.amount == 12
    assert service.device_status_by_id("lpp-1234567-2021-01-01", date(2024, 1, 1)) is None
    assert service.reference_version.newest == date(2022, 1, 1)


def test_the_version_changes_with_the_rows_only(store: Store) -> None:
    flow = SubmitFlow(ReferencePayers.load())
    one = StoreService(store, flow, lpp_table=parse_lpp_table(TABLE, source="a.csv"))
    same = StoreService(store, flow, lpp_table=parse_lpp_table(TABLE, source="b.csv"))
    other = StoreService(
        store, flow, lpp_table=parse_lpp_table(TABLE.replace("12.00", "12.50"), source="a.csv")
    )

    assert one.reference_version == same.reference_version
    assert one.reference_version.digest != other.reference_version.digest
