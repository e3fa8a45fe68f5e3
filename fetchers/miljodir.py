"""Miljødirektoratet's emissions workbook: the one reader of its layout, for the fetch and the manual import alike.

The file is `utslippsstatistikk_alle_kommuner.xlsx`, sheet «Oversikt - detaljert»: one row per kommune × year ×
sector × emission source × gas, with the columns Fylke, Kommunenummer, Kommune, År, Sektor, Utslippskilde, Klimagass
and «Utslipp (tonn CO₂-ekvivalenter)» (layout as read by public scripts; see tests/fixtures/PROVENANCE.md for what is
verified). The kommune's rows are found by its code history (3203, 3025, 0220) or, without a number column, by its
name; every row of a year is summed (Decimal, so no float drift) into the year's total direct emissions.

Layout knowledge lives here once: the sheet, the header row, the columns, which rows are the kommune's, sum rows and
two numbers for one year refused. How cells are read is the caller's: `monitor.imports.miljodir` reads a person's file
with the import reader (formulas, hidden sheets, Norwegian number text), `read_workbook` below reads the downloaded
file. Every problem is a `Problem` (row, column, bokmål text) the caller places in its own words.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import openpyxl

from monitor.core.fetchspec import Municipality

SHEET = "Oversikt - detaljert"
EMISSION_COLUMN = "Utslipp (tonn CO2-ekvivalenter)"
ZIP_MAGIC = b"PK\x03\x04"
MAX_FILE_BYTES = 60 * 1024 * 1024  # the real workbook holds every kommune since 2009; its size is unverified
MAX_UNPACKED = 1024 * 1024 * 1024  # read-only openpyxl streams the sheet, so this bounds time, not memory
MAX_ROWS = 2_000_000
HEADER_ROWS = 10  # the header is looked for in the first rows (row 1 in every known version)
# Header names, compared after norm() (lower case, CO₂ → co2, single spaces).
YEAR, NUMBER, NAME = "år", "kommunenummer", "kommune"
NAME_ALIASES = ("kommune", "kommunenavn")
NUMBER_ALIASES = ("kommunenummer", "kommunenr", "kommunenr.")
CATEGORY_COLUMNS = ("sektor", "utslippskilde", "klimagass")
TOTAL_WORDS = frozenset({"totalt", "total", "sum", "i alt", "alle"})
EMISSION = "emission"  # the key of the emission column in `Layout.columns`


class CellLike(Protocol):
    """A cell as text, or the reason it cannot be used; `number` for a number cell (not text)."""

    @property
    def text(self) -> str: ...

    @property
    def problem(self) -> str | None: ...

    @property
    def number(self) -> bool: ...


Table = Sequence[tuple[int, Sequence[CellLike]]]  # (sheet row, cells)
Amount = Callable[[CellLike], Decimal]  # a cell's amount; ValueError (bokmål) when it is not a number


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the workbook: its sheet row (None: the file as a whole), column index and bokmål text."""

    line: int | None
    column: int | None
    text: str


class WorkbookError(Exception):
    """The workbook cannot be read as Miljødirektoratet's: a changed layout or a broken file (every problem found)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.text for p in problems))


@dataclass(frozen=True)
class Layout:
    """The header row and where each known column is (canonical name → 0-based index; EMISSION for the amounts)."""

    line: int
    columns: dict[str, int]

    @property
    def id_column(self) -> int:
        """The column that identifies the kommune: its number, else its name."""
        return self.columns.get(NUMBER, self.columns.get(NAME, 0))


@dataclass(frozen=True)
class Totals:
    """The kommune's total per year, where each year's first row is, and how many rows were summed."""

    layout: Layout
    totals: dict[int, Decimal]
    first_line: dict[int, int]
    rows: int
    sheet: str = SHEET
    years: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "years", tuple(sorted(self.totals)))


@dataclass(frozen=True)
class WorkbookCell:
    """A cell of the downloaded workbook (CellLike)."""

    text: str
    problem: str | None = None
    number: bool = False


def norm(text: str) -> str:
    """A header as compared: lower case, CO₂ as CO2, single spaces."""
    return re.sub(r"\s+", " ", text.replace("\u2082", "2").strip().lower())


def shown(column: str) -> str:
    """A column name as people read it (CO₂)."""
    return column.replace("CO2", "CO\u2082")


def pick_sheet(names: list[str], sheet: str = SHEET) -> str:
    """The detail sheet among the workbook's sheets; WorkbookError (a changed layout) when it is not there."""
    if sheet in names:
        return sheet
    listed = ", ".join(f"«{name}»" for name in names)
    raise WorkbookError([Problem(None, None, f"fant ikke arket «{sheet}» (arkene heter {listed})")])


def wanted(municipality: Municipality) -> frozenset[str]:
    """What a cell of one of the kommune's rows may say: a code (with or without its leading 0) or the name."""
    codes = {entry.code for entry in municipality.codes}
    return frozenset(codes | {code.lstrip("0") for code in codes} | {municipality.name.casefold()})


def keep_row(municipality: Municipality) -> Callable[[int, Sequence[CellLike]], bool]:
    """For streaming the sheet: hold only the header candidates and the rows that mention the kommune."""
    words = wanted(municipality)
    return lambda line, cells: line <= HEADER_ROWS or any(cell.text.casefold() in words for cell in cells)


def find_layout(table: Table, column: str = EMISSION_COLUMN) -> Layout:
    """The header row (within the first HEADER_ROWS rows) and its columns; WorkbookError when a column is gone."""
    emission = norm(column)
    for line, cells in table:
        if line > HEADER_ROWS:
            break
        names = [norm(cell.text) for cell in cells]
        if YEAR not in names:
            continue
        columns: dict[str, int] = {}
        for index, found in enumerate(names):
            for canonical, aliases in ((NUMBER, NUMBER_ALIASES), (NAME, NAME_ALIASES)):
                if found in aliases:
                    columns.setdefault(canonical, index)
            if found in (YEAR, *CATEGORY_COLUMNS):
                columns.setdefault(found, index)
            if found == emission:
                columns.setdefault(EMISSION, index)
        missing = [label for key, label in ((YEAR, "År"), (EMISSION, shown(column))) if key not in columns]
        if NUMBER not in columns and NAME not in columns:
            missing.append("Kommunenummer eller Kommune")
        if missing:
            found_text = ", ".join(repr(cell.text) for cell in cells if cell.text)
            raise WorkbookError([Problem(line, None, f"mangler kolonne(r) {', '.join(missing)} (fant {found_text})")])
        return Layout(line, columns)
    raise WorkbookError([Problem(1, None, f"fant ikke overskriftsraden (med «År» og «{shown(column)}») "
                                          f"i de første {HEADER_ROWS} radene")])


def code_of(text: str) -> str | None:
    """A kommune number as four digits ("220" and "0220 Asker" → "0220"), or None."""
    match = re.match(r"([0-9]{3,4})(?:[^0-9]|$)", text.strip())
    return match.group(1).zfill(4) if match else None


def sum_rows(table: Table, municipality: Municipality, amount: Amount, column: str = EMISSION_COLUMN,
             sheet: str = SHEET) -> Totals:
    """The kommune's total per year from the sheet's rows; WorkbookError listing every bad row of the kommune."""
    layout = find_layout(table, column)
    columns = layout.columns
    codes = {entry.code for entry in municipality.codes}
    name = municipality.name.casefold()

    def cell(cells: Sequence[CellLike], key: str) -> CellLike | None:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def text(cells: Sequence[CellLike], key: str) -> str:
        found = cell(cells, key)
        return found.text if found is not None else ""

    totals: dict[int, Decimal] = {}
    first_line: dict[int, int] = {}
    codes_by_year: dict[int, set[str]] = {}
    problems: list[Problem] = []
    rows = 0
    for line, cells in table:
        if line <= layout.line:
            continue
        code = code_of(text(cells, NUMBER)) if NUMBER in columns else None
        if code is None and NUMBER in columns and text(cells, NUMBER):
            continue  # another kommune with a number we do not read as a code
        if not (code in codes if code is not None else text(cells, NAME).casefold() == name):
            continue
        found = [Problem(line, index, c.problem) for index, c in enumerate(cells) if c.problem]
        year_text = text(cells, YEAR)
        if not re.fullmatch(r"[0-9]{4}", year_text):
            found.append(Problem(line, columns[YEAR], f"året {year_text!r} er ikke et årstall (ÅÅÅÅ)"))
        value: Decimal | None = None
        emission = cell(cells, EMISSION) or WorkbookCell("")
        if emission.problem is None:
            try:
                value = amount(emission)
            except (ValueError, InvalidOperation) as exc:
                found.append(Problem(line, columns[EMISSION], f"utslippet {exc}"))
        for key in CATEGORY_COLUMNS:
            if norm(text(cells, key)) in TOTAL_WORDS:
                found.append(Problem(line, columns[key], f"«{text(cells, key)}» ser ut som en sumrad; arket skal ha "
                                                         "én rad per sektor, utslippskilde og gass"))
        if found:
            problems.extend(found)
            continue
        assert value is not None
        year = int(year_text)
        rows += 1
        totals[year] = totals.get(year, Decimal(0)) + value
        first_line.setdefault(year, line)
        codes_by_year.setdefault(year, set()).add(code or municipality.name)
    for year, seen in sorted(codes_by_year.items()):
        if len(seen) > 1:
            problems.append(Problem(
                first_line[year], layout.id_column,
                f"{municipality.name} står med flere kommunenumre for {year} ({', '.join(sorted(seen))}); summen ville "
                "telle utslippene to ganger",
            ))
    if problems:
        raise WorkbookError(problems)
    if not totals:
        listed = ", ".join(entry.code for entry in municipality.codes)
        raise WorkbookError([Problem(layout.line + 1, None, f"fant ingen rader for {municipality.name} "
                                                            f"(kommunenummer {listed} eller navnet «{municipality.name}»)")])
    return Totals(layout, totals, first_line, rows, sheet)


# -- the downloaded file ----------------------------------------------------------------------------


def typed_amount(cell: CellLike) -> Decimal:
    """A downloaded amount: Miljødirektoratet's amounts are number cells, so text is refused (no guessing at
    separators); `monitor import` reads a person's file with the import's number rule instead."""
    if not cell.number:
        raise ValueError(f"{cell.text!r} er ikke et tall")
    return Decimal(cell.text)


def read_workbook(raw: bytes, municipality: Municipality, *, sheet: str = SHEET, column: str = EMISSION_COLUMN,
                  max_unpacked: int = MAX_UNPACKED, max_rows: int = MAX_ROWS) -> Totals:
    """The kommune's totals from the downloaded workbook's bytes; WorkbookError for a broken file or a changed layout."""
    if not raw.startswith(ZIP_MAGIC):
        raise WorkbookError([Problem(None, None, "filen er ikke en Excel-arbeidsbok (.xlsx er en zip-fil; denne er ikke det)")])
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # BadZipFile, NotImplementedError, struct.error, … on a damaged archive
        raise WorkbookError([Problem(None, None, f"filen er ødelagt eller avkortet (ikke en gyldig zip-fil: {exc})")]) from exc
    if unpacked > max_unpacked:
        raise WorkbookError([Problem(None, None, f"filen pakkes ut til {unpacked} byte; grensen er {max_unpacked} byte")])
    keep = keep_row(municipality)
    table: list[tuple[int, Sequence[CellLike]]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
            try:
                name = pick_sheet(list(workbook.sheetnames), sheet)
                worksheet = workbook[name]
                worksheet.reset_dimensions()  # never trust the file's declared size
                for line, row in enumerate(worksheet.iter_rows(), start=1):
                    if line > max_rows + 1:
                        raise WorkbookError([Problem(line, None, f"arket har mer enn {max_rows} rader")])
                    cells = [_cell(one) for one in row]
                    if keep(line, cells):
                        table.append((line, cells))
            finally:
                workbook.close()
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises many kinds (KeyError, ParseError, ValueError, …) on a broken file
        raise WorkbookError([Problem(None, None, f"filen kan ikke leses som en Excel-arbeidsbok ({type(exc).__name__}: {exc})")]) from exc
    return sum_rows(table, municipality, typed_amount, column, sheet)


def _cell(cell: Any) -> WorkbookCell:
    value = cell.value
    kind = getattr(cell, "data_type", None)
    if kind == "f" or (value is not None and not isinstance(value, str | int | float | bool | date | time)):
        formula = value if isinstance(value, str) else "formel"
        return WorkbookCell("", f"cellen inneholder en formel ({formula}), ikke et tall")
    if kind == "e":
        return WorkbookCell("", f"cellen har Excel-feilverdien {value}")
    if value is None:
        return WorkbookCell("")
    if isinstance(value, bool):
        return WorkbookCell(str(value))
    if isinstance(value, datetime | date | time):
        return WorkbookCell(str(value), f"cellen er en dato ({value})")
    if isinstance(value, int | float):
        number = Decimal(repr(value))
        return WorkbookCell(format(number.normalize(), "f") if number.is_finite() else str(number), number=True)
    return WorkbookCell(str(value).strip())


def located(problem: Problem, sheet: str = SHEET) -> str:
    """A problem with its place in words: «arket «Oversikt - detaljert», celle H154: …»."""
    if problem.line is None:
        return problem.text
    column = "A" if problem.column is None else _letters(problem.column)
    return f"arket «{sheet}», celle {column}{problem.line}: {problem.text}"


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def describe(problems: Iterable[Problem], sheet: str = SHEET, limit: int = 3) -> str:
    """The first few problems in one line, and how many more there are."""
    listed = list(problems)
    text = "; ".join(located(p, sheet) for p in listed[:limit])
    return text + (f" (og {len(listed) - limit} til)" if len(listed) > limit else "")
