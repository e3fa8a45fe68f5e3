"""Nkom's yearly coverage workbook: the kommune's bredband_100mbit, fiber_1gb and dekning_5g, read by its name.

Nkom publishes the workbook of its half-year measurement once a year (e.g. `vedlegg_dekning_og_abonnement_1h2022.xlsx`).
Two of its tables are read, found by their titles (not by file or sheet name):

- «Dekning for fast bredbånd på kommunenivå»: `bredband_100mbit` is «≥ 100» and `fiber_1gb` is «≥ 1000», both under
  «Hastighet - alle teknologier på fast bredbånd»;
- «Dekning for 4G og 5G på kommunenivå»: `dekning_5g` is «5G» under «Tidligere års metode (- 110 dBm)».

Each table has title rows, a row of group titles (merged across their columns) and a row of column labels with
«Kommune» and «Fylke»; the header is found by its text. The kommune's row is the one whose name is the catalogue's
municipality, compared without case (Nkom writes ASKER, or ASKER (FYLKE) where it tells equal names apart); a
workbook from before the kommune's 2020 merger is refused (its ASKER is the old kommune). The period is the year of the
half-year («1h2022» → 2022), taken from the tables' title rows or else from Nkom's file name. The three values are
handed back as ordinary import rows, checked and stored together (or not at all) by monitor.imports.indicators.
Why these columns and this year: docs/sources.md «Nkom»; the real layout: tests/fixtures/PROVENANCE.md «nkom».
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from decimal import InvalidOperation
from pathlib import Path

from openpyxl.xml.functions import fromstring

from monitor.catalogue.indicators import Catalogue
from monitor.core.errors import ImportFileError
from monitor.core.fetchspec import Municipality
from monitor.imports.read import Cell, ImportRow, Location, Table, file_kind, parse_number, read_xlsx, xlsx_sheet_names

SOURCE = "import:nkom"
HEADER_ROWS = 10  # the title rows and the two header rows are rows 1–4 in the 1H2022 workbook
NO_VALUE = frozenset({"", "-", "\u2013", "\u2014", ":", ".", ".."})  # no value, never 0
HALF_YEAR = re.compile(r"(?<![0-9a-z])([12])\s*h\s*(20[0-9]{2})(?![0-9])|([12])\.\s*halvår\s*(20[0-9]{2})", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    """One value read from a table: the column labelled `label` under the group whose title starts with `group`."""

    indicator: str
    group: str
    label: str

    @property
    def shown(self) -> str:
        return f"«{self.label}» under «{self.group}»"


@dataclass(frozen=True)
class TableSpec:
    title: str
    columns: tuple[Column, ...]


FIXED = TableSpec("Dekning for fast bredbånd på kommunenivå", (
    Column("bredband_100mbit", "Hastighet - alle teknologier på fast bredbånd", "≥ 100"),
    Column("fiber_1gb", "Hastighet - alle teknologier på fast bredbånd", "≥ 1000"),
))
MOBILE = TableSpec("Dekning for 4G og 5G på kommunenivå", (
    Column("dekning_5g", "Tidligere års metode (- 110 dBm)", "5G"),
))
TABLES = (FIXED, MOBILE)
INDICATORS = tuple(column.indicator for table in TABLES for column in table.columns)


def _norm(text: str) -> str:
    """Lower case, dashes as '-', no whitespace: «≥ 100» = «≥100», «- 110 dBm» = «-110 dBm»."""
    return re.sub(r"\s+", "", re.sub(r"[\u2010-\u2015\u2212]", "-", text).casefold())


def _top_rows(path: Path, raw: bytes, sheet: str) -> Table:
    _name, table = read_xlsx(path, raw, lambda _path, _names: sheet, keep=lambda line, _cells: line <= HEADER_ROWS,
                             hidden_rows_allowed=True)
    return table


def _hidden_sheets(raw: bytes) -> set[str]:
    """The hidden and very hidden sheets, from the workbook's xl/workbook.xml (read_xlsx refuses to read them)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            root = fromstring(archive.read("xl/workbook.xml"))
    except Exception:  # an unusual package: read_xlsx still refuses a hidden sheet when it is picked
        return set()
    return {element.get("name", "") for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "sheet"
            and element.get("state") in ("hidden", "veryHidden")}


def _sheets_by_title(path: Path, raw: bytes) -> dict[str, list[str]]:
    """For each of the two tables, the visible sheets whose first rows carry its title (hidden sheets are not read)."""
    found: dict[str, list[str]] = {spec.title: [] for spec in TABLES}
    hidden = _hidden_sheets(raw)
    for sheet in [name for name in xlsx_sheet_names(path, raw) if name not in hidden]:
        texts = {_norm(cell.text) for _line, cells in _top_rows(path, raw, sheet) for cell in cells if cell.text}
        for spec in TABLES:
            if _norm(spec.title) in texts:
                found[spec.title].append(sheet)
    return found


def looks_like_nkom(path: Path, raw: bytes) -> bool:
    """True for a workbook with one of Nkom's two kommune tables (by title)."""
    return any(_sheets_by_title(path, raw).values())


@dataclass(frozen=True)
class _Found:
    """The kommune's row of one table: where it is, its cells, and the title rows (for the half-year)."""

    sheet: str
    line: int
    cells: list[Cell]
    columns: dict[str, int]  # indicator id → 0-based column
    name_column: int
    titles: list[str]


def read_rows(path: Path, raw: bytes, catalogue: Catalogue) -> list[ImportRow]:
    """The kommune's three values as import rows for one period; ImportFileError naming what is missing."""
    if file_kind(path, raw) != "xlsx":
        raise ImportFileError([f"{path}: Nkoms dekningsstatistikk er en Excel-fil (.xlsx); denne er ikke det"])
    missing = [ident for ident in INDICATORS if ident not in catalogue.by_id]
    if missing:
        raise ImportFileError([f"{path}: katalogen har ikke indikatoren(e) {', '.join(missing)}"])
    municipality = catalogue.municipality
    sheets = _sheets_by_title(path, raw)
    problems: list[str] = []
    found: dict[str, _Found] = {}
    for spec in TABLES:
        where = sheets[spec.title]
        if not where:
            names = xlsx_sheet_names(path, raw)
            hidden = _hidden_sheets(raw)
            listed = ", ".join(f"«{name}»" for name in names if name not in hidden)
            if hidden:
                shown = ", ".join(f"«{name}»" for name in names if name in hidden)
                problems.append(f"{path}: fant ikke tabellen «{spec.title}» i de synlige arkene ({listed}); arket "
                                f"{shown} er skjult og leses ikke – står tabellen der, vis arket og kontroller tallene")
            else:
                problems.append(f"{path}: fant ikke tabellen «{spec.title}» i arbeidsboken (arkene heter {listed}); "
                                "er dette Nkoms årlige fil om dekning og abonnement (vedlegg_dekning_og_abonnement_…xlsx)?")
        elif len(where) > 1:
            problems.append(f"{path}: tabellen «{spec.title}» står i flere ark ({', '.join(where)}); "
                            "fjern kopiene så bare Nkoms eget ark er igjen")
        else:
            result = _read_table(path, raw, where[0], spec, municipality)
            if isinstance(result, str):
                problems.append(result)
            else:
                found[spec.title] = result
    if problems:
        raise ImportFileError(problems)
    year = _year(path, [text for table in found.values() for text in table.titles])
    since = _territory_since(municipality)
    if since is not None and year < since:
        raise ImportFileError([
            f"{path}: arbeidsboken gjelder {year}, før kommunesammenslåingen i {since}; raden {municipality.name.upper()} "
            f"er da den gamle kommunen ({municipality.code_for(year)}), ikke dagens {municipality.name}, og importeres ikke"
        ])
    return _rows(path, catalogue, found, year)


def _territory_since(municipality: Municipality) -> int | None:
    """The first year of today's kommune: the catalogue's code history starts with the code before the merger
    (Asker: 0220 until 2019); the later codes (3025, 3203) are renumberings of the same kommune."""
    return municipality.codes[1].first_year if len(municipality.codes) > 1 else None


def _read_table(path: Path, raw: bytes, sheet: str, spec: TableSpec, municipality: Municipality) -> _Found | str:
    """The kommune's row of one table, or the one sentence saying what is missing."""
    wanted = _norm(municipality.name)
    name_pattern = re.compile(re.escape(wanted) + r"\(.+\)")  # «VÅLER (VIKEN)»: Nkom's way to tell names apart

    def is_kommune(text: str) -> bool:
        return _norm(text) == wanted or name_pattern.fullmatch(_norm(text)) is not None

    def keep(line: int, cells: list[Cell]) -> bool:
        return line <= HEADER_ROWS or any(is_kommune(cell.text) for cell in cells)

    # Hidden rows or columns among what is read (the header rows, the kommune's row) are refused, as in every import.
    _name, table = read_xlsx(path, raw, lambda _path, _names: sheet, keep=keep)
    location = Location(str(path), sheet)
    named = f"tabellen «{spec.title}» (arket «{sheet}»)"
    header = next(((line, cells) for line, cells in table if line <= HEADER_ROWS
                   and {"kommune", "fylke"} <= {_norm(cell.text) for cell in cells}), None)
    if header is None:
        return f"{location.at(1)}: fant ikke overskriftsraden med «Kommune» og «Fylke» i de første {HEADER_ROWS} radene av {named}"
    header_line, header_cells = header
    labels = [_norm(cell.text) for cell in header_cells]
    group_cells = next((cells for line, cells in table if line == header_line - 1), [])
    groups: list[str] = []
    current = ""
    for index, label in enumerate(labels):
        title = group_cells[index].text if index < len(group_cells) else ""
        current = title if title else (current if label else "")  # a merged group title spans its labelled columns
        groups.append(_norm(current))
    columns: dict[str, int] = {}
    for column in spec.columns:
        hits = [index for index, label in enumerate(labels)
                if label == _norm(column.label) and groups[index].startswith(_norm(column.group))]
        if len(hits) != 1:
            how = "mangler kolonnen" if not hits else "har mer enn én kolonne"
            return f"{location.at(header_line)}: {named} {how} {column.shown} ({column.indicator}); har Nkom endret tabellen?"
        columns[column.indicator] = hits[0]
    name_column = labels.index("kommune")
    fylke_column = labels.index("fylke")
    rows = [(line, cells) for line, cells in table if line > header_line
            and name_column < len(cells) and is_kommune(cells[name_column].text)]
    if not rows:
        return (f"{location.at(header_line + 1)}: {named} har ingen rad for {municipality.name} "
                f"(«{municipality.name.upper()}» i kolonnen «Kommune»)")
    if len(rows) > 1:
        shown = ", ".join(f"rad {line} {cells[fylke_column].text if fylke_column < len(cells) else ''}".rstrip()
                          for line, cells in rows)
        return f"{location.at(rows[0][0])}: {municipality.name} står på flere rader i {named} ({shown}); bare én rad kan leses"
    titles = [cell.text for line, cells in table if line < header_line for cell in cells if cell.text]
    line, cells = rows[0]
    return _Found(sheet, line, cells, columns, name_column, titles)


def _year(path: Path, titles: list[str]) -> int:
    """The year of the measurement half-year: from the title rows, or else from Nkom's file name («…_1h2022.xlsx»)."""
    in_titles = {_half_year(text) for text in titles} - {None}
    in_name = _half_year(path.name)
    if len(in_titles) > 1:
        raise ImportFileError([f"{path}: tabelltitlene nevner flere halvår ({', '.join(sorted(map(str, in_titles)))}); "
                               "importer én måling om gangen"])
    if in_titles:
        year = next(iter(in_titles))
        assert year is not None
        if in_name is not None and in_name != year:
            raise ImportFileError([f"{path}: tabelltitlene gjelder {year}, men filnavnet {in_name}; gi filen riktig navn"])
        return year
    if in_name is None:
        raise ImportFileError([
            f"{path}: fant ikke hvilket halvår målingen gjelder (verken tabelltitlene eller filnavnet har f.eks. «1h2022»); "
            "gi filen Nkoms eget navn, som vedlegg_dekning_og_abonnement_1h2022.xlsx, og importer den på nytt"
        ])
    return in_name


def _half_year(text: str) -> int | None:
    match = HALF_YEAR.search(text)
    if match is None:
        return None
    return int(match.group(2) or match.group(4))


def _value(cell: Cell, decimals: int) -> tuple[str, str | None]:
    """(the value in percent as text, or "" for no value; None) or ("", why it cannot be read)."""
    if cell.problem is not None:
        return "", cell.problem
    text = cell.text.strip()
    if text in NO_VALUE:
        return "", None
    if cell.number:
        if not cell.percent:
            return "", (f"cellen har tallet {text} uten prosentformat; Nkoms tabell viser prosent (f.eks. 95,5 %) "
                        "– er kolonnen endret?")
        return text, None
    if not text.endswith("%"):
        return "", f"verdien {text!r} er ikke en prosent (Nkom skriver f.eks. «95,5 %»)"
    try:
        return format(parse_number(text[:-1].strip(), decimals=decimals), "f"), None
    except (ValueError, InvalidOperation) as exc:
        return "", str(exc)


def _rows(path: Path, catalogue: Catalogue, found: dict[str, _Found], year: int) -> list[ImportRow]:
    rows: list[ImportRow] = []
    problems: list[str] = []
    for spec in TABLES:
        table = found[spec.title]
        for column in spec.columns:
            index = table.columns[column.indicator]
            location = Location(str(path), table.sheet, {"indicator_id": table.name_column, "period": table.name_column,
                                                         "value": index})
            cell = table.cells[index] if index < len(table.cells) else Cell("")
            value, problem = _value(cell, catalogue.by_id[column.indicator].decimals)
            if problem is not None:
                problems.append(f"{location.at(table.line, 'value')}: {column.indicator}: {problem}")
                continue
            cells = {"indicator_id": column.indicator, "period": str(year), "value": value, "status": "",
                     "region": catalogue.municipality.current_code}
            rows.append(ImportRow(table.line, cells, location, numbers=frozenset({"value"}) if value else frozenset()))
    if problems:
        raise ImportFileError(problems)
    if not any(row.cells["value"] for row in rows):
        raise ImportFileError([f"{path}: Nkoms tabeller har ingen verdi for {catalogue.municipality.name} i {year} "
                               "i noen av de tre kolonnene; ingenting å importere"])
    return rows

