"""Every stored vintage of every indicator, one row each, for analysts: CSV (streamed) and XLSX.

`GET /api/observations.csv` and `monitor export observations` write these rows. The CSV follows the project's CSV
convention (`monitor.report.formats.csv_bytes`): UTF-8 with a BOM, semicolons, CRLF. The numbers are for machines:
a full stop before the decimals and no thousands separator ("-0.7", "1748", "12.345"). The status is the JSON-stat
symbol of `/api/jsonstat` (NO_VALUE, a value the source left empty, is an empty value with no status). Times are the
store's UTC stamps. Who imported a file is not here (it is a login name).

Rows come straight from the store's cursor, indicator by indicator in catalogue order, then by region, period and
the order the vintages became known: a national database of a million vintages is never held in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from monitor.catalogue.indicators import Catalogue
from monitor.report.dataset import cell_status
from monitor.report.formats import BOM
from monitor.store.database import Store

FIELDS = ("indicator_id", "name", "area", "region", "period", "value", "status", "source", "vintage", "retrieved_at",
          "source_updated")
CHUNK_ROWS = 2000  # rows per piece of a streamed CSV
SHEET_ROWS = 1_048_575  # Excel's rows per sheet, less the header row
SHEET_NAME = "Observasjoner"


def observation_rows(catalogue: Catalogue, store: Store, known_by: str | None = None) -> Iterator[tuple[Any, ...]]:
    """One row (FIELDS) per stored vintage of every active indicator, known by `known_by` (all when None).

    Call it inside `store.reading()` for one consistent snapshot of the database.
    """
    for indicator in catalogue.indicators:
        head = (indicator.id, indicator.name, indicator.area)
        for region, period, value, status, source, source_updated, retrieved_at, vintage in store.vintage_rows(
            indicator.id, known_by
        ):
            yield (*head, region, period, value, cell_status(status), source, vintage, retrieved_at, source_updated)


def machine_number(value: float | None) -> str:
    """A value as text a program reads back exactly: '-0.7', '1748' (not '1748.0'), '' for none."""
    if value is None:
        return ""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def csv_chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[bytes]:
    """The rows as CSV, in pieces of CHUNK_ROWS rows: the BOM and the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(FIELDS)
    value_at = FIELDS.index("value")
    count = 0
    for row in rows:
        line = list(row)  # csv writes None as ''; the value gets the machine's spelling
        line[value_at] = machine_number(line[value_at])
        writer.writerow(line)
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv(catalogue: Catalogue, store: Store, out: Path, known_by: str | None = None) -> int:
    """Every row as CSV into `out`; the number of rows."""
    count = 0

    def counted() -> Iterator[tuple[Any, ...]]:
        nonlocal count
        for row in observation_rows(catalogue, store, known_by):
            count += 1
            yield row

    with store.reading(), out.open("wb") as handle:
        for chunk in csv_chunks(counted()):
            handle.write(chunk)
    return count


def write_xlsx(catalogue: Catalogue, store: Store, out: Path, known_by: str | None = None) -> int:
    """Every row as XLSX into `out` (values as numbers; a new sheet every SHEET_ROWS rows); the number of rows.

    openpyxl's write-only mode streams the sheets to temporary files, so memory stays flat however many rows.
    """
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    sheets = 0
    count = 0
    sheet = None
    with store.reading():
        for row in observation_rows(catalogue, store, known_by):
            if count % SHEET_ROWS == 0:
                sheets += 1
                sheet = workbook.create_sheet(SHEET_NAME if sheets == 1 else f"{SHEET_NAME} {sheets}")
                sheet.freeze_panes = "A2"
                sheet.append(_header(sheet, bold))
            assert sheet is not None
            sheet.append(row)
            count += 1
    if sheet is None:  # no data: a sheet with the header alone
        sheet = workbook.create_sheet(SHEET_NAME)
        sheet.append(_header(sheet, bold))
    workbook.save(out)
    return count


def _header(sheet: Any, bold: Font) -> list[WriteOnlyCell]:
    cells = [WriteOnlyCell(sheet, value=name) for name in FIELDS]
    for cell in cells:
        cell.font = bold
    return cells
