"""The real service's device lookups: the LPP table it was given, its version computed once."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from adapter.bootstrap import build_app
from adapter.flow import SubmitFlow
from adapter.payers import ReferencePayers
from adapter.rules.lpp_loader import parse_lpp_table
from adapter.service.claims import StoreService
from adapter.settings import Settings
from adapter.store import Store
from mappings.systems import Canon

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


def test_the_real_app_answers_from_the_configured_table(tmp_path: Path) -> None:
    """Composition root → service → API: the table of ADAPTER_LPP_TABLE, with its validators."""
    table = tmp_path / "lpp.csv"
    table.write_text(TABLE, encoding="utf-8")
    settings = Settings(data_dir=tmp_path, auth="disabled", log_level="ERROR", lpp_table=table)
    with TestClient(build_app(settings)) as client:
        found = client.get("/ChargeItemDefinition?code=1234567&date=2021-06-01")
        again = client.get(
            "/ChargeItemDefinition?code=1234567&date=2021-06-01",
            headers={"If-None-Match": found.headers["etag"]},
        )
        lookup = client.get(f"/CodeSystem/$lookup?system={Canon().lpp}&code=1234567&date=2022-06-01")
        demo = client.get("/ChargeItemDefinition?code=9900001")

    assert found.status_code == 200
    assert found.json()["entry"][0]["resource"]["title"] == "Old"
    assert found.headers["last-modified"] == "Sat, 01 Jan 2022 00:00:00 GMT"
    assert again.status_code == 304
    assert lookup.json()["parameter"][1] == {"name": "display", "valueString": "New"}
    assert demo.json()["total"] == 0
