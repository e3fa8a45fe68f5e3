"""Reading import files into located rows: CSV as Norwegian Excel saves it, and XLSX (openpyxl, formulas refused).

Only the file's shape is checked here (size, encoding, header, cells); what the rows say is checked in
`monitor.imports.indicators`. Every problem is an ImportFileError line naming the file and the line (CSV) or the
sheet and cell (XLSX, e.g. `fil.xlsx:Import!C12`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import iterparse

from monitor.core.errors import ImportFileError
from monitor.core.usertext import csv_reason

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_XLSX_UNPACKED = 100 * 1024 * 1024  # a zip bomb is refused before openpyxl unpacks it
MAX_ROWS = 100_000
REQUIRED_COLUMNS = ("indicator_id", "period", "value")
OPTIONAL_COLUMNS = ("region", "status", "note")
# Written by `monitor template` for the planner's eyes; accepted and ignored on import.
INFO_COLUMNS = ("name", "unit", "allowed_range", "frequency", "last_value")
FREE_COLUMNS = frozenset(INFO_COLUMNS) | {"note"}  # read as text, never checked
IMPORT_SHEET = "Import"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls


@dataclass(frozen=True)
class Location:
    """Where a file's rows come from: the file and, for XLSX, the sheet; turns (line, column) into text."""

    file: str
    sheet: str | None = None
    columns: dict[str, int] = field(default_factory=dict)  # header name → 0-based column

    @property
    def row_word(self) -> str:
        """How a row is called in messages: 'linje' in a CSV file, 'rad' in a sheet."""
        return "linje" if self.sheet is None else "rad"

    def at(self, line: int, column: str | int | None = None) -> str:
        """`file:12` for CSV; `file:Sheet!C12` for XLSX (column A when none is given)."""
        if self.sheet is None:
            return f"{self.file}:{line}"
        index = self.columns.get(column, 0) if isinstance(column, str) else (column or 0)
        sheet = self.sheet if re.fullmatch(r"\w+", self.sheet) else "'" + self.sheet.replace("'", "''") + "'"
        return f"{self.file}:{sheet}!{get_column_letter(index + 1)}{line}"


@dataclass(frozen=True)
class Cell:
    """A cell as text, or the reason it cannot be used (a formula, an error value, a date)."""

    text: str
    problem: str | None = None
    data_only: bool = False  # the problem matters only in a data column (a date in `note` is fine)
    number: bool = False  # an XLSX number cell (not text): its decimal point cannot be a thousands separator
    percent: bool = False  # a number cell with a percent format, read ×100 (0.955 shown as 95,5 % is 95.5)


Table = list[tuple[int, list[Cell]]]  # (line or sheet row, cells)


@dataclass(frozen=True)
class ImportRow:
    """One data row with the line (or sheet row) it came from, and any shape problem found while reading."""

    line: int
    cells: dict[str, str]
    location: Location
    problems: tuple[tuple[str | int, str], ...] = ()  # (column name or index, message)
    numbers: frozenset[str] = frozenset()  # columns whose cell was a number in the workbook, not text

    def where(self, column: str | int | None = None) -> str:
        """The row's location, pointing at a column when given."""
        return self.location.at(self.line, column)


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, refusing what cannot be read and what is larger than `limit`."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ImportFileError([f"{path}: filen er på {size} byte; grensen er {limit} byte"])
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError([f"{path}: kan ikke lese filen: {exc.strerror or exc}"]) from exc
    check_size(path, raw, limit)
    return raw


def check_size(path: Path, raw: bytes, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse a file larger than `limit` bytes."""
    if len(raw) > limit:
        raise ImportFileError([f"{path}: filen er på {len(raw)} byte; grensen er {limit} byte"])


def file_kind(path: Path, raw: bytes) -> str:
    """'xlsx' or 'csv', by the file's content (an XLSX is a zip), not by its name."""
    if raw.startswith(ZIP_MAGIC):
        return "xlsx"
    if raw.startswith(OLE2_MAGIC):
        raise ImportFileError([f"{path}: filen er i det gamle Excel-formatet (.xls); lagre den som .xlsx eller CSV"])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise ImportFileError([f"{path}: filen heter .xlsx, men er ikke en gyldig Excel-fil (ikke en zip-fil); er den ødelagt?"])
    return "csv"


def read_import_rows(path: Path, raw: bytes) -> list[ImportRow]:
    """The rows of a CSV or XLSX import file (columns indicator_id, period, value [, region, status, note])."""
    if file_kind(path, raw) == "xlsx":
        sheet, table = read_xlsx(path, raw, _pick_import_sheet)
        return _rows_from_table(path, table, sheet)
    return _rows_from_table(path, _csv_table(path, raw), None)


def _pick_import_sheet(path: Path, names: list[str]) -> str:
    if IMPORT_SHEET in names:
        return IMPORT_SHEET
    if len(names) == 1:
        return names[0]
    listed = ", ".join(f"«{name}»" for name in names)
    raise ImportFileError([
        f"{path}: fant ikke arket «{IMPORT_SHEET}» (arkene heter {listed}); radene skal stå i arket «{IMPORT_SHEET}» "
        "med overskriftsraden i rad 1"
    ])


# -- CSV ------------------------------------------------------------------------------------------


def _csv_table(path: Path, raw: bytes) -> Table:
    text = _decode(path, raw)
    if not text.strip():
        raise ImportFileError([f"{path}:1: filen er tom; forventet overskriftsraden {';'.join(REQUIRED_COLUMNS)}"])
    first_line = re.split(r"\r\n|\r|\n", text.lstrip("\r\n"), maxsplit=1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    table: Table = []
    try:
        for cells in reader:
            if reader.line_num > MAX_ROWS + 1:
                raise ImportFileError([f"{path}:{reader.line_num}: filen har mer enn {MAX_ROWS} rader; del den opp"])
            table.append((reader.line_num, [Cell(cell.strip()) for cell in cells]))
    except csv.Error as exc:
        logging.getLogger(__name__).info("%s:%d: csv: %s", path, reader.line_num + 1, exc)  # csv's own words
        raise ImportFileError([f"{path}:{reader.line_num + 1}: ugyldig CSV: {csv_reason(exc)}"]) from exc
    return table


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError([
            f"{path}: filen er lagret som UTF-16 («Unicode-tekst»); lagre den som «CSV UTF-8» eller «CSV (semikolonseparert)»"
        ])
    if b"\x00" in raw:
        raise ImportFileError([f"{path}: filen inneholder binære data (NUL-tegn); er det en CSV-fil? Lagre som CSV eller .xlsx"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Norwegian Excel's "CSV (semikolonseparert)" writes Windows-1252.
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise ImportFileError([
                f"{path}:{line}: ukjent tegnkoding (verken UTF-8 eller Windows-1252; byte {raw[exc.start]:#04x}); "
                "lagre filen som «CSV UTF-8»"
            ]) from exc
    control = re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise ImportFileError([
            f"{path}:{line}: filen inneholder styretegn ({control.group()!r}); den ser ut som en binærfil, ikke CSV"
        ])
    return text


# -- XLSX -----------------------------------------------------------------------------------------


def _check_zip(path: Path, raw: bytes, limit: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # zipfile raises BadZipFile, NotImplementedError, struct.error, … on a damaged archive
        raise ImportFileError([f"{path}: XLSX-filen er ødelagt eller avkortet (ikke en gyldig zip-fil: {exc})"]) from exc
    if unpacked > limit:
        raise ImportFileError([f"{path}: XLSX-filen pakkes ut til {unpacked} byte; grensen er {limit} byte"])


def xlsx_sheet_names(path: Path, raw: bytes, max_unpacked: int = MAX_XLSX_UNPACKED) -> list[str]:
    """The sheet names of an XLSX file (no sheet is read)."""
    names: list[str] = []

    def remember(_path: Path, found: list[str]) -> str:
        names.extend(found)
        return ""

    read_xlsx(path, raw, remember, max_unpacked=max_unpacked)
    return names


def read_xlsx(
    path: Path,
    raw: bytes,
    pick: Callable[[Path, list[str]], str],
    *,
    keep: Callable[[int, list[Cell]], bool] | None = None,
    max_rows: int = MAX_ROWS,
    max_unpacked: int = MAX_XLSX_UNPACKED,
    hidden_rows_allowed: bool = False,
) -> tuple[str, Table]:
    """Read one sheet (chosen by `pick` from the sheet names; "" reads none) as located cells.

    The workbook is opened read-only with data_only=False, so a formula is seen as a formula and can
    be refused by name of its cell instead of silently using a cached (or missing) result. `keep`
    streams a large sheet: only the rows it accepts are held in memory. A hidden (or very hidden) sheet is
    refused: whoever opens the file in Excel does not see what would be imported. Hidden rows and columns
    with content are refused too, unless `hidden_rows_allowed` (a publisher's table read as a whole).
    """
    _check_zip(path, raw, max_unpacked)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
            try:
                name = pick(path, list(workbook.sheetnames))
                if not name:
                    return "", []
                sheet = workbook[name]
                _refuse_hidden_sheet(path, name, getattr(sheet, "sheet_state", "visible"))
                sheet.reset_dimensions()  # never trust the file's declared size
                table: Table = []
                for line, row in enumerate(sheet.iter_rows(), start=1):
                    if line > max_rows + 1:
                        raise ImportFileError([f"{path}:{name}!A{line}: arket har mer enn {max_rows} rader; del det opp"])
                    cells = [_xlsx_cell(cell) for cell in row]
                    if keep is None or keep(line, cells):
                        table.append((line, cells))
                if not hidden_rows_allowed:
                    _refuse_hidden_content(Location(str(path), name), table, *_hidden_rows_and_columns(sheet))
                return name, table
            finally:
                workbook.close()
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds (KeyError, ParseError, ValueError, …) on a broken file
        raise ImportFileError([
            f"{path}: kan ikke lese XLSX-filen; den er ødelagt eller ikke laget av Excel ({type(exc).__name__}: {exc})"
        ]) from exc


def _refuse_hidden_sheet(path: Path, name: str, state: str | None) -> None:
    if state in (None, "visible"):
        return
    if state == "veryHidden":
        how = "helt skjult («very hidden»)"
        show = "vis arket (i VBA-redigeringen, Alt+F11: arkets egenskap Visible = -1 xlSheetVisible)"
    else:
        how, show = "skjult", "vis arket (høyreklikk på en arkfane → Vis …)"
    raise ImportFileError([
        f"{Location(str(path), name).at(1)}: arket «{name}» er {how}, så den som åpner filen i Excel ser ikke tallene "
        f"som ville blitt importert; {show}, kontroller tallene og lagre filen på nytt"
    ])


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true")


def _is_zero(value: str | None) -> bool:
    try:
        return value is not None and float(value) == 0
    except ValueError:
        return False


def _hidden_rows_and_columns(sheet: Any) -> tuple[set[int], list[tuple[int, int]]]:
    """The sheet's hidden rows (1-based) and hidden column ranges (1-based, inclusive), read from its XML.

    Read-only openpyxl does not keep row and column dimensions, so the sheet is streamed once more for the
    `<row hidden>` and `<col hidden>` attributes (a height or width of 0 hides too).
    """
    rows: set[int] = set()
    columns: list[tuple[int, int]] = []
    line = 0
    with sheet._get_source() as source:  # the sheet's XML in the workbook's zip
        for _event, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "row":
                number = element.get("r")
                line = int(float(number)) if number else line + 1
                if _is_true(element.get("hidden")) or _is_zero(element.get("ht")):
                    rows.add(line)
                element.clear()
            elif tag == "col":
                if _is_true(element.get("hidden")) or _is_zero(element.get("width")):
                    columns.append((int(element.get("min", "0")), int(element.get("max", element.get("min", "0")))))
                element.clear()
    return rows, columns


def _refuse_hidden_content(location: Location, table: Table, hidden_rows: set[int], hidden_columns: list[tuple[int, int]]) -> None:
    """Refuse hidden rows and columns that hold anything: the planner does not see what would be imported."""
    problems: list[str] = []
    seen_columns: set[int] = set()
    for line, cells in table:
        filled = [index for index, cell in enumerate(cells) if cell.text or cell.problem]
        if not filled:
            continue
        if line in hidden_rows:
            problems.append(
                f"{location.at(line, filled[0])}: rad {line} er skjult i Excel, men har innhold som ville blitt importert; "
                "vis raden (merk radene rundt → høyreklikk → Vis, eller fjern filteret) og kontroller den"
            )
        for index in filled:
            if index not in seen_columns and any(low <= index + 1 <= high for low, high in hidden_columns):
                seen_columns.add(index)
                letter = get_column_letter(index + 1)
                problems.append(
                    f"{location.at(line, index)}: kolonne {letter} er skjult i Excel, men har innhold som ville blitt "
                    f"importert; vis kolonnen (merk kolonnene rundt → høyreklikk → Vis) og kontroller den"
                )
    if problems:
        raise ImportFileError(problems)


def _xlsx_cell(cell: Any) -> Cell:
    value = cell.value
    kind = getattr(cell, "data_type", None)
    if kind == "f" or (value is not None and not isinstance(value, str | int | float | bool | date | time)):
        formula = value if isinstance(value, str) else getattr(value, "text", None) or "formel"
        return Cell("", f"cellen inneholder en formel ({formula}); skriv inn selve verdien (lim inn som «Verdier»)")
    if kind == "e":
        return Cell("", f"cellen har Excel-feilverdien {value}")
    if value is None:
        return Cell("")
    if isinstance(value, bool):
        return Cell("SANN" if value else "USANN")
    if isinstance(value, datetime | date | time):
        shown = value.strftime("%d.%m.%Y") if isinstance(value, datetime | date) else str(value)
        return Cell(shown, f"cellen er en dato eller et klokkeslett ({shown}); Excel gjør f.eks. «1.5» om til 1. mai – "
                           "formater cellen som tall eller tekst og skriv verdien på nytt", data_only=True)
    if isinstance(value, int | float):
        number = Decimal(repr(value))
        percent = _scales_by_100(getattr(cell, "number_format", None) or "")
        if percent:
            number *= 100  # "15,1 %" typed into Excel is stored as 0.151; import what the planner sees
        return Cell(_plain_decimal(number), number=True, percent=percent)
    return Cell(str(value).strip())


def _scales_by_100(number_format: str) -> bool:
    """True for a percent format (0.0%); a quoted or escaped % (0.0" %", 0.0\\%) is only a sign."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", number_format)


def _plain_decimal(number: Decimal) -> str:
    return format(number.normalize(), "f") if number.is_finite() else str(number)


# -- numbers --------------------------------------------------------------------------------------


def foreign_digit(text: str) -> str | None:
    """The first character that counts as a digit but is not one of 0–9 (٣, １, ², ½), or None."""
    return next((char for char in text if not char.isascii() and char.isnumeric()), None)


def foreign_digit_problem(text: str) -> str | None:
    """Why `text` cannot be read as digits when it holds a digit other than 0–9 (float() and re's \\d accept them)."""
    char = foreign_digit(text)
    if char is None:
        return None
    return f"{text!r} har tegnet «{char}» (U+{ord(char):04X}), som ikke er et av sifrene 0–9; skriv det med vanlige sifre"


def parse_number(text: str, *, decimals: int = 0, typed: bool = False) -> Decimal:
    """A number as people type it in Norway: '15,1', '1 748', '-0,7', '12.5'. ValueError (bokmål) otherwise.

    A lone separator followed by exactly three digits after one to three leading digits ('1.748', '1,748') is
    a thousands separator to some and a decimal sign to others, so it is refused unless the indicator shows three
    decimals (`decimals` >= 3) or the value was a number cell in the workbook (`typed`), which has no such doubt.
    Only the digits 0–9 are digits.
    """
    foreign = foreign_digit_problem(text)
    if foreign is not None:
        raise ValueError(foreign)
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace("\u2212", "-")
    if cleaned.count(",") + cleaned.count(".") > 1:
        raise ValueError(f"{text!r} er ikke et tall (bruk ett desimaltegn og ikke tusenskilletegn)")
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", cleaned):
        raise ValueError(f"{text!r} er ikke et tall")
    doubt = re.fullmatch(r"([-+]?)([1-9][0-9]{0,2})\.([0-9]{3})", cleaned)
    if doubt is not None and not typed and decimals < 3:
        sign, whole, part = doubt.groups()
        sign = sign.replace("+", "")
        raise ValueError(
            f"{text!r} kan leses som {sign}{whole}{part} (skilletegnet som tusenskille) eller {sign}{whole},{part} "
            f"(som desimaltegn); skriv {sign}{whole}{part} for tusentallet eller {sign}{whole},{part}0 for desimaltallet"
        )
    return Decimal(cleaned)


# -- rows -----------------------------------------------------------------------------------------


def _rows_from_table(path: Path, table: Table, sheet: str | None) -> list[ImportRow]:
    content = [(line, cells) for line, cells in table if any(cell.text or cell.problem for cell in cells)]
    if not content:
        where = f"{path}:1" if sheet is None else f"{path}:{sheet}!A1"
        raise ImportFileError([f"{where}: filen er tom; forventet overskriftsraden {';'.join(REQUIRED_COLUMNS)}"])
    header_line, header_cells = content[0]
    base = Location(str(path), sheet)
    if sheet is not None and header_line != 1:
        raise ImportFileError([f"{base.at(1)}: rad 1 er tom; overskriftsraden ({';'.join(REQUIRED_COLUMNS)}) skal stå i rad 1"])
    header = _header(base, header_line, header_cells)
    location = Location(str(path), sheet, {name: index for index, name in enumerate(header) if name})
    rows: list[ImportRow] = []
    for line, cells in content[1:]:
        problems: list[tuple[str | int, str]] = [
            (index, cell.problem) for index, cell in enumerate(cells)
            if cell.problem is not None and not (cell.data_only and index < len(header) and header[index] in FREE_COLUMNS)
        ]
        extra = [index for index, cell in enumerate(cells) if index >= len(header) and (cell.text or cell.problem)]
        if extra:
            problems.append((extra[0], f"{len(cells) if sheet is None else extra[-1] + 1} celler, men overskriftsraden har {len(header)}"))
        values = {name: cells[index].text if index < len(cells) else "" for index, name in enumerate(header) if name}
        numbers = frozenset(name for index, name in enumerate(header) if name and index < len(cells) and cells[index].number)
        rows.append(ImportRow(line, values, location, tuple(problems), numbers))
    if not rows:
        raise ImportFileError([f"{base.at(header_line + 1)}: filen har overskriftsrad, men ingen datarader"])
    return rows


def _header(base: Location, line: int, cells: list[Cell]) -> list[str]:
    for index, cell in enumerate(cells):
        if cell.problem is not None:
            raise ImportFileError([f"{base.at(line, index)}: overskriftsraden: {cell.problem}"])
    names = [cell.text.strip().lower() for cell in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty header cells (Excel often leaves them)
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + INFO_COLUMNS
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    unknown = [column for column in names if column not in known]
    duplicated = len({n for n in names if n}) != len([n for n in names if n])
    if missing or unknown or duplicated:
        parts = []
        if missing:
            parts.append(f"mangler kolonne(r) {', '.join(missing)}")
        if unknown:
            parts.append(f"ukjent kolonne(r) {', '.join(repr(c) for c in unknown)}")
        if duplicated:
            parts.append("en kolonne står to ganger")
        expected = ";".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        raise ImportFileError([f"{base.at(line)}: feil overskriftsrad: {'; '.join(parts)} (forventet {expected})"])
    return names
