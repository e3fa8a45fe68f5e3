"""Miljødirektoratet's workbook of municipal greenhouse-gas emissions, brought as a file: the kommune's rows summed per
year, handed back as ordinary import rows for `direkte_klimagassutslipp`, checked like any other import.

The workbook's layout (sheet «Oversikt - detaljert», header, columns, which rows are the kommune's, sum rows) is read
by fetchers.miljodir, the one parser that the scheduled download (the source «miljodir») uses too; this module reads
the person's file with the import reader (formulas, hidden sheets and Norwegian number text refused or read as every
import is) and places each problem at its cell (`fil.xlsx:'Oversikt - detaljert'!H154`). The sheet and the emission
column are the catalogue's (`fetch.series.*.sheet`/`column` of the indicator), or Miljødirektoratet's known ones.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fetchers import miljodir as workbook
from monitor.catalogue.indicators import Catalogue
from monitor.core.errors import ImportFileError
from monitor.core.fetchspec import MiljodirFetch
from monitor.imports.read import IMPORT_SHEET, ImportRow, Location, file_kind, parse_number, read_xlsx, xlsx_sheet_names

SHEET = workbook.SHEET
SOURCE = "import:miljodir"
INDICATOR = "direkte_klimagassutslipp"
MAX_FILE_BYTES = workbook.MAX_FILE_BYTES
MAX_UNPACKED = workbook.MAX_UNPACKED
MAX_ROWS = workbook.MAX_ROWS


def looks_like_miljodir(path: Path, raw: bytes) -> bool:
    """True for a workbook with Miljødirektoratet's sheet and no «Import» sheet."""
    names = xlsx_sheet_names(path, raw, max_unpacked=MAX_UNPACKED)
    return SHEET in names and IMPORT_SHEET not in names


def _layout(catalogue: Catalogue) -> tuple[str, str]:
    """(sheet, emission column): the indicator's fetch block's, or Miljødirektoratet's known ones."""
    fetch = catalogue.by_id[INDICATOR].fetch
    if isinstance(fetch, MiljodirFetch):
        series = next(iter(fetch.series.values()))
        return series.sheet, series.column
    return SHEET, workbook.EMISSION_COLUMN


def read_rows(path: Path, raw: bytes, catalogue: Catalogue) -> list[ImportRow]:
    """The kommune's total per year as import rows for `direkte_klimagassutslipp`, located at its first row."""
    if file_kind(path, raw) != "xlsx":
        raise ImportFileError([f"{path}: Miljødirektoratets fil er en Excel-fil (.xlsx); denne er ikke det"])
    if INDICATOR not in catalogue.by_id:
        raise ImportFileError([f"{path}: katalogen har ikke indikatoren {INDICATOR}"])
    decimals = catalogue.by_id[INDICATOR].decimals
    municipality = catalogue.municipality
    sheet_name, column = _layout(catalogue)

    def pick(found_in: Path, names: list[str]) -> str:
        try:
            return workbook.pick_sheet(names, sheet_name)
        except workbook.WorkbookError as exc:
            raise ImportFileError([f"{found_in}: {exc}; er dette Miljødirektoratets utslippsstatistikk_alle_kommuner.xlsx?"]) from exc

    def amount(cell: workbook.CellLike) -> Decimal:
        # a number cell as it is; text as monitor.imports.read.parse_number reads it (only 0–9, one separator,
        # '12,345' refused as ambiguous unless the indicator has three decimals)
        return parse_number(cell.text, decimals=decimals, typed=cell.number)

    # Hidden rows and columns are Miljødirektoratet's table as published (or a planner's filter on one kommune):
    # every row of the kommune is summed whether shown or not. A hidden «Oversikt - detaljert» is refused.
    sheet, table = read_xlsx(path, raw, pick, keep=workbook.keep_row(municipality), max_rows=MAX_ROWS,
                             max_unpacked=MAX_UNPACKED, hidden_rows_allowed=True)
    where = Location(str(path), sheet)
    try:
        found = workbook.sum_rows(table, municipality, amount, column, sheet)
    except workbook.WorkbookError as exc:
        raise ImportFileError([where.at(p.line or 1, p.column) + f": {p.text}" for p in exc.problems]) from exc
    columns = found.layout.columns
    location = Location(str(path), sheet, {"indicator_id": found.layout.id_column, "period": columns[workbook.YEAR],
                                           "value": columns[workbook.EMISSION]})
    region = municipality.current_code
    return [
        ImportRow(found.first_line[year], {"indicator_id": INDICATOR, "period": str(year), "value": format(total, "f"),
                                           "status": "", "region": region}, location,
                  numbers=frozenset({"value"}))  # an exact sum, not text to be read
        for year, total in sorted(found.totals.items())
    ]
