"""Miljødirektoratet's workbook of municipal greenhouse-gas emissions: the kommune's rows summed per year.

The file is `utslippsstatistikk_alle_kommuner.xlsx`, sheet «Oversikt - detaljert»: one row per kommune ×
year × sector × emission source × gas, with the columns Fylke, Kommunenummer, Kommune, År, Sektor,
Utslippskilde, Klimagass and «Utslipp (tonn CO₂-ekvivalenter)» (layout as read by public scripts; see
README "Imports" and tests/fixtures/PROVENANCE.md for what is verified). The kommune's rows are found by
its code history in the catalogue (3203, 3025, 0220) or, without a number, by its name; every row of a
year is summed (Decimal, so no float drift) into the total direct emissions in tonn CO₂-ekvivalenter,
and handed back as ordinary import rows for `direkte_klimagassutslipp`, checked like any other import.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from monitor.catalogue.indicators import Catalogue
from monitor.core.errors import ImportFileError
from monitor.imports.read import (
    IMPORT_SHEET,
    Cell,
    ImportRow,
    Location,
    file_kind,
    parse_number,
    read_xlsx,
    xlsx_sheet_names,
)

SHEET = "Oversikt - detaljert"
SOURCE = "import:miljodir"
INDICATOR = "direkte_klimagassutslipp"
MAX_FILE_BYTES = 60 * 1024 * 1024  # the real workbook holds every kommune since 2009; its size is unverified
MAX_UNPACKED = 1024 * 1024 * 1024  # read-only openpyxl streams the sheet, so this bounds time, not memory
MAX_ROWS = 2_000_000
HEADER_ROWS = 10  # the header is looked for in the first rows (row 1 in every known version)
# Header names, compared after _norm (lower case, CO₂ → co2, single spaces).
YEAR, NUMBER, NAME, EMISSION = "år", "kommunenummer", "kommune", "utslipp (tonn co2-ekvivalenter)"
NAME_ALIASES = ("kommune", "kommunenavn")
NUMBER_ALIASES = ("kommunenummer", "kommunenr", "kommunenr.")
CATEGORY_COLUMNS = ("sektor", "utslippskilde", "klimagass")
TOTAL_WORDS = frozenset({"totalt", "total", "sum", "i alt", "alle"})


def looks_like_miljodir(path: Path, raw: bytes) -> bool:
    """True for a workbook with Miljødirektoratet's sheet and no «Import» sheet."""
    names = xlsx_sheet_names(path, raw, max_unpacked=MAX_UNPACKED)
    return SHEET in names and IMPORT_SHEET not in names


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2082", "2").strip().lower())


def _pick(path: Path, names: list[str]) -> str:
    if SHEET in names:
        return SHEET
    listed = ", ".join(f"«{name}»" for name in names)
    raise ImportFileError([
        f"{path}: fant ikke arket «{SHEET}» (arkene heter {listed}); er dette Miljødirektoratets "
        "utslippsstatistikk_alle_kommuner.xlsx?"
    ])


def read_rows(path: Path, raw: bytes, catalogue: Catalogue) -> list[ImportRow]:
    """The kommune's total per year as import rows for `direkte_klimagassutslipp`, located at its first row."""
    if file_kind(path, raw) != "xlsx":
        raise ImportFileError([f"{path}: Miljødirektoratets fil er en Excel-fil (.xlsx); denne er ikke det"])
    if INDICATOR not in catalogue.by_id:
        raise ImportFileError([f"{path}: katalogen har ikke indikatoren {INDICATOR}"])
    decimals = catalogue.by_id[INDICATOR].decimals
    municipality = catalogue.municipality
    codes = {entry.code for entry in municipality.codes}
    name = municipality.name.casefold()
    wanted = codes | {code.lstrip("0") for code in codes} | {name}

    def keep(line: int, cells: list[Cell]) -> bool:
        # Stream the sheet: hold only the header candidates and rows mentioning the kommune.
        return line <= HEADER_ROWS or any(cell.text.casefold() in wanted for cell in cells)

    # Hidden rows and columns are Miljødirektoratet's table as published (or a planner's filter on one kommune):
    # every row of the kommune is summed whether shown or not. A hidden «Oversikt - detaljert» is refused.
    sheet, table = read_xlsx(path, raw, _pick, keep=keep, max_rows=MAX_ROWS, max_unpacked=MAX_UNPACKED,
                             hidden_rows_allowed=True)
    location = Location(str(path), sheet)
    header_line, columns = _header(location, table)
    location = Location(str(path), sheet, {"indicator_id": columns.get(NUMBER, columns.get(NAME, 0)),
                                           "period": columns[YEAR], "value": columns[EMISSION]})

    def text(cells: list[Cell], column: str) -> Cell:
        index = columns.get(column)
        return cells[index] if index is not None and index < len(cells) else Cell("")

    totals: dict[int, Decimal] = {}
    first_line: dict[int, int] = {}
    codes_by_year: dict[int, set[str]] = {}
    problems: list[str] = []
    for line, cells in table:
        if line <= header_line:
            continue
        code = _code(text(cells, NUMBER).text) if NUMBER in columns else None
        if code is None and (NUMBER in columns and text(cells, NUMBER).text):
            continue  # another kommune with a number we do not read as a code
        if not (code in codes if code is not None else text(cells, NAME).text.casefold() == name):
            continue
        row_problems = [(index, cell.problem) for index, cell in enumerate(cells) if cell.problem]
        year_text = text(cells, YEAR).text
        if not re.fullmatch(r"[0-9]{4}", year_text):
            row_problems.append((columns[YEAR], f"året {year_text!r} er ikke et årstall (ÅÅÅÅ)"))
        amount, amount_problem = _amount(text(cells, EMISSION), decimals)
        if amount_problem is not None:
            row_problems.append((columns[EMISSION], f"utslippet {amount_problem}"))
        for column in CATEGORY_COLUMNS:
            if _norm(text(cells, column).text) in TOTAL_WORDS:
                row_problems.append((columns[column], f"«{text(cells, column).text}» ser ut som en sumrad; "
                                                      "arket skal ha én rad per sektor, utslippskilde og gass"))
        if row_problems:
            problems.extend(f"{location.at(line, index)}: {problem}" for index, problem in row_problems)
            continue
        assert amount is not None
        year = int(year_text)
        totals[year] = totals.get(year, Decimal(0)) + amount
        first_line.setdefault(year, line)
        codes_by_year.setdefault(year, set()).add(code or municipality.name)
    for year, found in sorted(codes_by_year.items()):
        if len(found) > 1:
            problems.append(
                f"{location.at(first_line[year], 'indicator_id')}: {municipality.name} står med flere kommunenumre for {year} "
                f"({', '.join(sorted(found))}); summen ville telle utslippene to ganger"
            )
    if problems:
        raise ImportFileError(problems)
    if not totals:
        wanted_text = ", ".join(entry.code for entry in municipality.codes)
        raise ImportFileError([
            f"{location.at(header_line + 1)}: fant ingen rader for {municipality.name} "
            f"(kommunenummer {wanted_text} eller navnet «{municipality.name}»)"
        ])
    region = municipality.current_code
    return [
        ImportRow(first_line[year], {"indicator_id": INDICATOR, "period": str(year), "value": format(total, "f"),
                                     "status": "", "region": region}, location,
                  numbers=frozenset({"value"}))  # an exact sum, not text to be read
        for year, total in sorted(totals.items())
    ]


def _header(location: Location, table: list[tuple[int, list[Cell]]]) -> tuple[int, dict[str, int]]:
    for line, cells in table:
        if line > HEADER_ROWS:
            break
        names = [_norm(cell.text) for cell in cells]
        if YEAR not in names:
            continue
        columns: dict[str, int] = {}
        for index, found in enumerate(names):
            for canonical, aliases in ((NUMBER, NUMBER_ALIASES), (NAME, NAME_ALIASES)):
                if found in aliases:
                    columns.setdefault(canonical, index)
            if found in (YEAR, EMISSION, *CATEGORY_COLUMNS):
                columns.setdefault(found, index)
        missing = [label for key, label in ((YEAR, "År"), (EMISSION, "Utslipp (tonn CO₂-ekvivalenter)")) if key not in columns]
        if NUMBER not in columns and NAME not in columns:
            missing.append("Kommunenummer eller Kommune")
        if missing:
            found_text = ", ".join(repr(cell.text) for cell in cells if cell.text)
            raise ImportFileError([f"{location.at(line)}: mangler kolonne(r) {', '.join(missing)} (fant {found_text})"])
        return line, columns
    raise ImportFileError([
        f"{location.at(1)}: fant ikke overskriftsraden (med «År» og «Utslipp (tonn CO₂-ekvivalenter)») "
        f"i de første {HEADER_ROWS} radene"
    ])


def _code(text: str) -> str | None:
    match = re.match(r"([0-9]{3,4})(?:[^0-9]|$)", text.strip())
    return match.group(1).zfill(4) if match else None


def _amount(cell: Cell, decimals: int) -> tuple[Decimal | None, str | None]:
    """(the amount, None) or (None, why not): a number cell as it is; text as monitor.imports.read.parse_number
    reads it (only 0–9, one separator, '12,345' refused as ambiguous unless the indicator has three decimals)."""
    try:
        return parse_number(cell.text, decimals=decimals, typed=cell.number), None
    except (ValueError, InvalidOperation) as exc:
        return None, str(exc)
