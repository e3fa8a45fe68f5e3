"""A constructed copy of Nkom's yearly coverage workbook (`vedlegg_dekning_og_abonnement_1h2022.xlsx`), cut down.

The layout is the real 1H2022 workbook's (seen in evensrii/Telemark, see tests/fixtures/PROVENANCE.md «nkom/»):
sheets named Dekning_fbb_kommuner_husstander and Dekning_mob_kommuner_husstander, the title in A1 (merged A1:B1),
«Tettbygd og spredtbygd samlet» in A2, group titles in row 3 (merged over their columns, a spacer column between the
fixed-broadband groups), the column labels in row 4, one row per kommune from row 5 (UPPER-CASE name, fylke), and
every share a fraction in a cell formatted `0.0\\ %`. The fylke-level sheets come first, as in the real file.
Only a few kommuner are kept; their rows are the real 1H2022 rows as Nkom shows them (one decimal).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

FIXED_TITLE = "Dekning for fast bredbånd på kommunenivå"
MOBILE_TITLE = "Dekning for 4G og 5G på kommunenivå"
FIXED_SHEET = "Dekning_fbb_kommuner_husstander"
MOBILE_SHEET = "Dekning_mob_kommuner_husstander"
PERCENT = "0.0\\ %"
NAME = "vedlegg_dekning_og_abonnement_1h2022.xlsx"

TECHNOLOGIES = ["Fiber", "Kabel-TV-nett", "DSL", "FTB", "Fiber + kabel-TV-nett", "Fiber + kabel-TV-nett + DSL",
                "Fiber + kabel-TV-nett + FTB", "Fast bredbånd totalt"]
SPEEDS = ["≥ 30", "≥ 100", "≥ 1000", "≥ 1000/1000"]
# (group title, first column, labels); column A = Kommune, B = Fylke; O, T and Y are spacer columns.
FIXED_GROUPS: list[tuple[str, int, list[str]]] = [
    ("Teknologidekning", 3, TECHNOLOGIES),
    ("Hastighet - alle teknologier på fast bredbånd", 11, SPEEDS),
    ("Hastighet uten DSL", 16, SPEEDS),
    ("Hastighet i kablede nett", 21, SPEEDS),
    ("Hastighet for FTB", 26, ["≥ 30", "≥ 100"]),
]
MOBILE_GROUPS: list[tuple[str, int, list[str]]] = [
    ("4G", 3, ["≥ 30", "≥ 100"]),
    ("5G", 5, ["≥ 30", "≥ 100"]),
    ("4G + 5G", 7, ["≥ 30", "≥ 100"]),
    ("Tidligere års metode (- 110 dBm) (utendørsdekning)", 9, ["4G", "5G"]),
]

# The real 1H2022 rows (Dekning_fbb_kommuner_husstander.csv and Dekning_mob_kommuner_husstander.csv, percent, one
# decimal), in the columns C… of each sheet; None is the spacer column.
FIXED_ROWS: dict[tuple[str, str], list[str | None]] = {
    ("ARENDAL", "AGDER"): ["94.2", "21.8", "94.7", "85.2", "96.8", "99.7", "100.0", "100.0", "99.8", "96.8", "96.8",
                           "94.2", None, "99.8", "96.8", "96.8", "94.2", None, "98", "96.8", "96.8", "94.2", None, "85",
                           "0.0"],
    ("ASKER", "VIKEN"): ["83.0", "49.6", "91.3", "84.4", "94.7", "99.5", "99.2", "100.0", "99.2", "95.5", "94.7", "83.0",
                         None, "98.9", "95.5", "94.7", "83.0", None, "96", "94.7", "94.7", "83.0", None, "83", "40.9"],
    ("BÆRUM", "VIKEN"): ["73.4", "73.3", "92.8", "85.6", "98.5", "99.9", "100.0", "100.0", "100.0", "99.3", "98.5",
                         "73.4", None, "100.0", "99.3", "98.5", "73.4", None, "99", "98.5", "98.5", "73.4", None, "85",
                         "63.9"],
    ("VÅLER (VIKEN)", "VIKEN"): ["77.9", "17.1", "85.3", "70.1", "78.7", "95.7", "93.5", "99.3", "90.3", "78.8", "78.7",
                                 "77.9", None, "89.7", "78.8", "78.7", "77.9", None, "81", "78.7", "78.7", "77.9", None,
                                 "60", "0.1"],
}
MOBILE_ROWS: dict[tuple[str, str], list[str | None]] = {
    ("ARENDAL", "AGDER"): ["99.7", "93.0", "56.7", "15.1", "99.7", "93.1", "100.0", "66.3"],
    ("ASKER", "VIKEN"): ["99.9", "80.9", "82.9", "44.9", "99.9", "85.2", "100.0", "100.0"],
    ("BÆRUM", "VIKEN"): ["100.0", "91.8", "90.7", "86.0", "100.0", "96.8", "100.0", "100.0"],
    ("VÅLER (VIKEN)", "VIKEN"): ["97.7", "34.9", "63.1", "0.8", "97.7", "35.4", "100.0", "100.0"],
}
# What the import stores for Asker from these rows: L311 (≥ 100), M311 (≥ 1000), J311 (old-method 5G).
ASKER_VALUES = {"bredband_100mbit": 95.5, "fiber_1gb": 94.7, "dekning_5g": 100.0}

Edit = Callable[[Workbook], None]


@dataclass(frozen=True)
class Raw:
    """A cell written as it is (text such as «95,5 %» or «–», or a number without the percent format)."""

    value: Any


def _fraction(text: str) -> float:
    return float(Decimal(text) / 100)


def _table(sheet: Worksheet, title: str, note: str | None, groups: list[tuple[str, int, list[str]]],
           rows: dict[tuple[str, str], list[str | None]]) -> None:
    sheet["A1"] = title
    sheet.merge_cells("A1:B1")
    sheet["A2"] = "Tettbygd og spredtbygd samlet"
    if note is not None:
        sheet["A3"] = note
    sheet["A4"], sheet["B4"] = "Kommune", "Fylke"
    for group, first, labels in groups:
        sheet.cell(row=3, column=first, value=group)
        if len(labels) > 1:
            sheet.merge_cells(start_row=3, start_column=first, end_row=3, end_column=first + len(labels) - 1)
        for offset, label in enumerate(labels):
            sheet.cell(row=4, column=first + offset, value=label)
    for line, ((kommune, fylke), values) in enumerate(rows.items(), start=5):
        sheet.cell(row=line, column=1, value=kommune)
        sheet.cell(row=line, column=2, value=fylke)
        for offset, value in enumerate(values):
            if isinstance(value, Raw):
                sheet.cell(row=line, column=3 + offset, value=value.value)
            elif value:
                cell = sheet.cell(row=line, column=3 + offset, value=_fraction(value))
                cell.number_format = PERCENT


def build(
    *,
    fixed_rows: dict[tuple[str, str], list[str | None]] | None = None,
    mobile_rows: dict[tuple[str, str], list[str | None]] | None = None,
    fixed_groups: list[tuple[str, int, list[str]]] | None = None,
    mobile_groups: list[tuple[str, int, list[str]]] | None = None,
    fixed_title: str = FIXED_TITLE,
    mobile_title: str = MOBILE_TITLE,
    edit: Edit | None = None,
) -> bytes:
    """The workbook's bytes; the keyword arguments change one part of the real layout for a test."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Dekning_fbb_fylker_husstander"
    first["A1"] = "Dekning for fast bredbånd på fylkesnivå"
    first["A4"] = "Fylke"
    first["A5"] = "Viken"
    workbook.create_sheet("Dekning_mob_fylker_husstander")["A1"] = "Dekning for 4G og 5G på fylkesnivå"
    _table(workbook.create_sheet(FIXED_SHEET), fixed_title, "Mobildekning (4G og 5G) er ikke inkludert i disse tabellene",
           FIXED_GROUPS if fixed_groups is None else fixed_groups, FIXED_ROWS if fixed_rows is None else fixed_rows)
    _table(workbook.create_sheet(MOBILE_SHEET), mobile_title, None,
           MOBILE_GROUPS if mobile_groups is None else mobile_groups, MOBILE_ROWS if mobile_rows is None else mobile_rows)
    workbook.create_sheet("Abonnement")["A1"] = "Hastighet og antall abonnement på fylkesnivå"
    if edit is not None:
        edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def asker_line() -> int:
    """The sheet row of ASKER in the constructed tables."""
    return 5 + list(FIXED_ROWS).index(("ASKER", "VIKEN"))


def replaced(rows: dict[tuple[str, str], list[str | None]], key: tuple[str, str], index: int,
             value: Any) -> dict[tuple[str, str], list[Any]]:
    """A copy of `rows` with one value of one kommune replaced (index counts from column C)."""
    copy: dict[tuple[str, str], list[Any]] = {name: list(values) for name, values in rows.items()}
    copy[key][index] = value
    return copy
