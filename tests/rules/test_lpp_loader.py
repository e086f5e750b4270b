"""Loading the LPP table from CSV: the demo table, tariffs by date, and errors naming file, line, column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapter.domain import LppCode, Money
from adapter.errors import ReferenceDataError
from adapter.rules import CodeKind, ReferenceDataFormatError, Telemonitoring, load_lpp_table, parse_lpp_table

HEADER = "code,label,valid_from,valid_to,tarif,plv,titre,category,kind,source"
ROW = "9900001,Demo device (demo),2023-01-01,,100.00,,I,demo-device,individual,invented"


def parse(*rows: str, header: str = HEADER) -> None:
    parse_lpp_table("\n".join((header, *rows)) + "\n", source="table.csv")


def test_demo_table_loads_by_default() -> None:
    """Without a path the packaged demo table loads, with the codes and amounts of domain-fr.md."""
    table = load_lpp_table()

    assert table.source == "lpp-demo.csv"
    expected = {
        "1101720": ("43.59", None),
        "1356390": ("5.27", "5.27"),
        "1241763": ("12.35", None),
        "6285133": ("1030.00", None),
        "1612544": ("50.00", "50.00"),
    }
    for code, (tarif, plv) in expected.items():
        row = table.rows(LppCode(code))[-1]
        assert str(row.tarif.amount) == tarif
        assert (str(row.plv.amount) if row.plv else None) == plv


def test_demo_table_marks_invented_codes_and_cites_sources() -> None:
    """Every demo row names its source, and every invented code says "demo" in its label."""
    for row in load_lpp_table():
        assert row.source
        if "code invented" in row.source or row.source.startswith("invented"):
            assert "demo" in row.label.lower(), row.code


def test_demo_table_attributes() -> None:
    """The demo rows carry the kinds, groups, caps, classes and forfait kinds the rules need."""
    table = load_lpp_table()
    compresses = table.lookup(LppCode("1326761"), date(2026, 1, 1))
    aid = table.lookup(LppCode("9900103"), date(2026, 1, 1))
    forfait = table.lookup(LppCode("9900301"), date(2026, 1, 1))

    assert compresses is not None
    assert (compresses.kind, compresses.deactivated(date(2021, 7, 1))) == (CodeKind.GENERIC, True)
    assert aid is not None
    assert (aid.cap_group, aid.renewal_months, aid.renewal_quantity, aid.sante100, aid.age_min) == (
        "hearing-aid",
        48,
        2,
        "II",
        20,
    )
    assert forfait is not None
    assert forfait.telemonitoring is Telemonitoring.OPERATOR
    assert table.lookup(LppCode("9900501"), date(2026, 1, 1)).entente_prealable  # type: ignore[union-attr]


def test_successive_tariffs_are_chosen_by_date() -> None:
    """Two rows for one code: each date finds the row in force, none before the first."""
    table = load_lpp_table()
    code = LppCode("9900001")

    assert table.lookup(code, date(2019, 12, 31)) is None
    assert table.lookup(code, date(2022, 12, 31)).tarif == Money.of("90.00")  # type: ignore[union-attr]
    assert table.lookup(code, date(2023, 1, 1)).tarif == Money.of("100.00")  # type: ignore[union-attr]


def test_table_loads_from_a_path(tmp_path: Path) -> None:
    """A path (ADAPTER_LPP_TABLE) replaces the demo table."""
    path = tmp_path / "lpp.csv"
    path.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")

    table = load_lpp_table(path)

    assert len(table) == 1
    assert table.source == str(path)


def test_missing_file_is_a_reference_data_error(tmp_path: Path) -> None:
    """An unreadable path is refused with the path in the message."""
    with pytest.raises(ReferenceDataError, match=r"absent\.csv"):
        load_lpp_table(tmp_path / "absent.csv")


def test_error_from_a_file_names_the_file(tmp_path: Path) -> None:
    """A malformed file loaded from disk is named in the error."""
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + ROW.replace("100.00", '"100,00"') + "\n", encoding="utf-8")

    with pytest.raises(ReferenceDataFormatError) as caught:
        load_lpp_table(path)

    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}, line 2, column 'tarif'")


ROW_ERRORS = [
    (ROW.replace("100.00", '"100,00"'), "tarif", "not an amount"),
    (ROW.replace("100.00", "100.005"), "tarif", "at most 2 decimals"),
    (ROW.replace("100.00", "-1.00"), "tarif", "non-negative"),
    (ROW.replace("2023-01-01", "1/1/2023"), "valid_from", "YYYY-MM-DD"),
    (ROW.replace("9900001", "99-0001"), "code", "not an LPP code"),
    (ROW.replace("individual", "brand"), "kind", "'individual' or 'generic'"),
    (ROW.replace(",I,", ",VI,"), "titre", "not an LPP titre"),
    (ROW.replace("demo-device", "Demo Device"), "category", "lower-case identifier"),
    (ROW.replace(",100.00,,", ",100.00,90.00,"), "plv", "below the tarif"),
    (ROW.replace("2023-01-01,,", "2023-01-01,2022-01-01,"), "valid_to", "ends before it starts"),
    (ROW.replace("Demo device (demo)", ""), "label", "a value is required"),
]


@pytest.mark.parametrize(("row", "column", "problem"), ROW_ERRORS)
def test_malformed_cell_names_line_and_column(row: str, column: str, problem: str) -> None:
    """A malformed cell refuses the table, naming the file, the line and the column."""
    with pytest.raises(ReferenceDataFormatError) as caught:
        parse(ROW.replace("9900001", "9900009"), row)

    error = caught.value
    assert (error.source, error.line, error.column) == ("table.csv", 3, column)
    assert problem in error.problem
    assert str(error).startswith(f"table.csv, line 3, column '{column}'")


OPTIONAL = "code,label,valid_from,tarif,category,kind,source,{extra}"
OPTIONAL_ERRORS = [
    ("entente_prealable", "maybe", "'yes' or 'no'"),
    ("max_per_year", "two", "whole number"),
    ("max_per_delivery", "0", "at least 1"),
    ("sante100", "III", "100 % Santé class"),
    ("telemonitoring", "patient", "'operator' or 'technical'"),
    ("deactivated_on", "2021-07-01", "only generic codes"),
    ("renewal_quantity", "2", "needs renewal_months"),
]


@pytest.mark.parametrize(("column", "value", "problem"), OPTIONAL_ERRORS)
def test_malformed_optional_cell_names_its_column(column: str, value: str, problem: str) -> None:
    """Optional columns are checked too, and named when wrong."""
    with pytest.raises(ReferenceDataFormatError) as caught:
        parse(
            f"9900001,Demo (demo),2023-01-01,100.00,demo-device,individual,invented,{value}",
            header=OPTIONAL.format(extra=column),
        )

    assert (caught.value.line, caught.value.column) == (2, column)
    assert problem in caught.value.problem


def test_age_bounds_must_be_ordered() -> None:
    """age_max below age_min is refused on the age_max column."""
    with pytest.raises(ReferenceDataFormatError) as caught:
        parse(
            "9900001,Demo (demo),2023-01-01,100.00,demo-device,individual,invented,20,19",
            header="code,label,valid_from,tarif,category,kind,source,age_min,age_max",
        )

    assert (caught.value.line, caught.value.column) == (2, "age_max")


def test_overlapping_validity_names_both_lines() -> None:
    """Two rows of one code valid on the same day are refused at the second, naming the first."""
    with pytest.raises(ReferenceDataFormatError) as caught:
        parse(ROW, ROW.replace("2023-01-01", "2024-01-01"))

    assert (caught.value.line, caught.value.column) == (3, "valid_from")
    assert "line 2" in caught.value.problem


@pytest.mark.parametrize(
    ("header", "column", "problem"),
    [
        (HEADER + ",colour", "colour", "unknown column (position 11)"),
        (HEADER + ",label", "label", "appears twice"),
        (HEADER.replace(",tarif", ""), "tarif", "required column missing"),
    ],
)
def test_bad_header_is_refused_on_line_one(header: str, column: str, problem: str) -> None:
    """Unknown, repeated or missing columns are refused on line 1, named."""
    with pytest.raises(ReferenceDataFormatError) as caught:
        parse(ROW, header=header)

    assert (caught.value.line, caught.value.column) == (1, column)
    assert problem in caught.value.problem


def test_row_with_the_wrong_number_of_cells() -> None:
    """A row with a cell too many is refused on its line."""
    with pytest.raises(
        ReferenceDataFormatError, match=r"table.csv, line 2: 11 cells where the header has 10"
    ):
        parse(ROW + ",extra")


@pytest.mark.parametrize("text", ["", HEADER + "\n"], ids=["empty", "header-only"])
def test_empty_table_is_refused(text: str) -> None:
    """A file without rows is refused."""
    with pytest.raises(ReferenceDataFormatError, match=r"table\.csv, line 1"):
        parse_lpp_table(text, source="table.csv")


def test_blank_lines_and_quoted_cells_are_accepted() -> None:
    """Blank lines are skipped and a quoted label may hold commas."""
    row = '9900001,"Device, with comma (demo)",2023-01-01,,100.00,,I,demo-device,individual,invented'
    table = parse_lpp_table(f"{HEADER}\n\n{row}\n", source="table.csv")

    assert [row.label for row in table] == ["Device, with comma (demo)"]


def test_optional_trailing_cells_may_be_left_out() -> None:
    """Rows written before the per-ear and rental-unit columns keep their cells; a required
    column cannot be left out that way."""
    header = HEADER + ",renewal_months,renewal_per_ear,rental_unit"
    table = parse_lpp_table(
        "\n".join((header, ROW, ROW.replace("9900001", "9900002") + ",48,1,week")) + "\n", source="t.csv"
    )

    old, new = table.rows(LppCode("9900001"))[0], table.rows(LppCode("9900002"))[0]
    assert (old.renewal_per_ear, old.rental_unit) == (None, None)
    assert (new.renewal_months, new.renewal_per_ear, new.rental_unit) == (48, 1, "week")
    with pytest.raises(ReferenceDataFormatError, match="9 cells where the header has 10"):
        parse(ROW.rsplit(",", 1)[0])


@pytest.mark.parametrize(
    ("cells", "column", "problem"),
    [
        (",,1,", "renewal_per_ear", "renewal_per_ear needs renewal_months"),
        (",,,day", "rental_unit", "is not a rental unit"),
    ],
)
def test_per_ear_and_rental_unit_cells_are_checked(cells: str, column: str, problem: str) -> None:
    header = HEADER + ",renewal_months,renewal_per_ear,rental_unit"
    with pytest.raises(ReferenceDataFormatError, match=rf"column '{column}'.*{problem}"):
        parse(ROW + cells, header=header)
