"""Parser for the Handlingsprogram 2024–2027 seed text: area tables, metadata, retired rows, baseline cells."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from monitor.catalogue.indicators import Catalogue

YEARS: tuple[int, ...] = (2019, 2020, 2021, 2022)
PLACEHOLDER_TEXTS = ("Indikator under utvikling", "Rapporteres kvalitativt")
STATUS_TEXTS: dict[str, Literal["not_measured", "pending"]] = {"Ikke målt": "not_measured", "Tall kommer": "pending"}
CSV_HEADER = ("indicator_id", "period", "value", "status", "printed")

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# " <sup>2</sup> " around a tag: the text conversion added the spaces. The space after the closing tag
# is kept only when a whole word follows ("m <sup>2</sup> i formålsbygg"); before punctuation or a
# unit letter glued to punctuation ("CO <sub>2</sub> e/BTA", "CO <sup>2</sup> -ekv", " )") it goes.
_SCRIPT = re.compile(r"\s*<(sup|sub)>\s*(\d+)\s*</\1>(?:\s+(?![^\W\d_]+\s))?")
_TAG = re.compile(r"</?[a-z]+>")
_REMARK = re.compile(r"\s*(?:\(\s*<i>(.*?)</i>\s*\)|<i>\s*\((.*?)\)\s*</i>)")
_HEADER = re.compile(r"^Indikator\t2019\t2020\t2021\t2022$")
_NUMBER = re.compile(r"^(-?(?:\d{1,3}(?: \d{3})+|\d+))(?:,(\d+))?(?: (\D.*))?$")


class SeedError(ValueError):
    """The seed text does not have the expected shape; the message names the line."""


@dataclass(frozen=True)
class DelmalRow:
    text: str
    line: int


@dataclass(frozen=True)
class IndicatorRow:
    name: str
    remark: str | None
    cells: tuple[str, str, str, str]  # 2019–2022, normalised
    delmal: str
    line: int


@dataclass(frozen=True)
class PlaceholderRow:
    text: str
    delmal: str
    line: int


Row = DelmalRow | IndicatorRow | PlaceholderRow


@dataclass(frozen=True)
class AreaTable:
    heading: str  # the section heading above the table, e.g. "Økonomi"
    title: str  # the table's title row, e.g. "ØKONOMI"
    hovedmal: str
    rows: tuple[Row, ...]
    line: int  # line of the title row (1-based)

    @property
    def indicators(self) -> list[IndicatorRow]:
        return [row for row in self.rows if isinstance(row, IndicatorRow)]

    @property
    def placeholders(self) -> list[PlaceholderRow]:
        return [row for row in self.rows if isinstance(row, PlaceholderRow)]


@dataclass(frozen=True)
class MetadataRow:
    area: str  # as printed above the metadata block, e.g. "Handling mot klimaendringer"
    delmal: str
    name: str
    remark: str | None
    kilde: str
    frekvens: str
    merknader: str
    line: int


@dataclass(frozen=True)
class RetiredRow:
    name: str
    comment: str | None
    line: int


@dataclass(frozen=True)
class Cell:
    value: float | None
    status: Literal["not_measured", "pending"] | None
    decimals: int | None
    suffix: str | None


def normalise(text: str) -> str:
    """Turn sup/sub tags into ²/₂ (dropping the spaces the conversion added), drop other tags, strip."""
    text = _SCRIPT.sub(lambda m: m.group(2).translate(_SUP if m.group(1) == "sup" else _SUB), text)
    return _TAG.sub("", text).strip()


def split_name(raw: str) -> tuple[str, str | None]:
    """Split an indicator cell into (normalised name, italic remark or None)."""
    match = _REMARK.search(raw)
    if match is None:
        return normalise(raw), None
    remark = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    return normalise(raw[: match.start()] + raw[match.end() :]), remark


def parse_cell(raw: str) -> Cell:
    """Parse a printed value such as "15,1 %", "1 748", "Ikke målt" into a Cell."""
    text = normalise(raw)
    if text in STATUS_TEXTS:
        return Cell(value=None, status=STATUS_TEXTS[text], decimals=None, suffix=None)
    match = _NUMBER.match(text)
    if match is None:
        raise SeedError(f"kan ikke lese cellen {raw!r}")
    whole, fraction, suffix = match.groups()
    value = float(whole.replace(" ", "") + ("." + fraction if fraction else ""))
    return Cell(value=value, status=None, decimals=len(fraction or ""), suffix=suffix)


def _cells(line: str) -> list[str]:
    return line.split("\t")


def _only_first(cells: list[str]) -> bool:
    return bool(cells[0].strip()) and not any(cell.strip() for cell in cells[1:])


def parse_area_tables(text: str) -> list[AreaTable]:
    """The eight satsingsområde tables, found by their "Indikator 2019 2020 2021 2022" header."""
    lines = text.splitlines()
    tables: list[AreaTable] = []
    heading = ""
    for index, line in enumerate(lines):
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if not _HEADER.match(_TAG.sub("", line)):
            continue
        if index < 2:
            raise SeedError(f"line {index + 1}: table header without title and hovedmål rows")
        title, hovedmal = (_cells(lines[index - k]) for k in (2, 1))
        if not (_only_first(title) and _only_first(hovedmal)):
            raise SeedError(f"linje {index - 1}: ventet en tittelrad og en hovedmålrad over overskriften")
        rows: list[Row] = []
        delmal = ""
        for number, row_line in enumerate(lines[index + 1 :], start=index + 2):
            if row_line.startswith("#"):
                break
            if not row_line.strip():
                continue  # stray blank lines inside a table
            cells = _cells(row_line)
            first = normalise(cells[0])
            if len(cells) != 5:
                raise SeedError(f"linje {number}: ventet 5 tabulatordelte celler, fant {len(cells)}")
            if _only_first(cells) and first in PLACEHOLDER_TEXTS:
                rows.append(PlaceholderRow(text=first, delmal=delmal, line=number))
            elif _only_first(cells) and cells[0].startswith("<b>"):
                delmal = first
                rows.append(DelmalRow(text=first, line=number))
            elif all(cell.strip() for cell in cells):
                name, remark = split_name(cells[0])
                y2019, y2020, y2021, y2022 = (normalise(cell) for cell in cells[1:])
                rows.append(IndicatorRow(name, remark, (y2019, y2020, y2021, y2022), delmal, number))
            else:
                raise SeedError(f"line {number}: neither a delmål, a placeholder nor an indicator row")
        tables.append(AreaTable(heading, normalise(title[0]), normalise(hovedmal[0]), tuple(rows), index - 1))
    return tables


def _section(lines: list[str], start_marker: str, end_marker: str | None) -> tuple[int, int]:
    starts = [i for i, line in enumerate(lines) if line.strip() == start_marker]
    if len(starts) != 1:
        raise SeedError(f"ventet nøyaktig én linje {start_marker!r}, fant {len(starts)}")
    end = len(lines)
    if end_marker is not None:
        ends = [i for i, line in enumerate(lines) if i > starts[0] and line.strip() == end_marker]
        if not ends:
            raise SeedError(f"no line {end_marker!r} after {start_marker!r}")
        end = ends[0]
    return starts[0] + 1, end


def _is_rule(cells: list[str]) -> bool:
    return all(set(cell.strip()) <= {"-"} for cell in cells)


def parse_metadata(text: str) -> list[MetadataRow]:
    """The rows of "Metadata om indikatorene" (Indikator | Kilde | Frekvens | Merknader)."""
    lines = text.splitlines()
    start, end = _section(lines, "## Metadata om indikatorene", "Indikatorer som utgår fra 2024")
    rows: list[MetadataRow] = []
    area: str | None = None
    delmal = ""
    for index in range(start, end):
        cells, number = _cells(lines[index]), index + 1
        if not lines[index].strip() or (len(cells) == 1 and area is None) or _is_rule(cells):
            continue  # blank line, introductory paragraph, or a stray "--\t---" rule row
        if len(cells) != 4:
            raise SeedError(f"linje {number}: ventet 4 tabulatordelte celler, fant {len(cells)}")
        first = normalise(cells[0])
        if first == "Indikator":
            continue
        if _only_first(cells):
            following = next((line for line in lines[index + 1 : end] if line.strip()), "")
            if normalise(_cells(following)[0]) == "Indikator":
                area, delmal = first, ""
            else:
                delmal = first
            continue
        if area is None or not cells[1].strip():
            raise SeedError(f"line {number}: indicator row outside an area or without Kilde")
        name, remark = split_name(cells[0])
        rows.append(
            MetadataRow(
                area, delmal, name, remark,
                kilde=normalise(cells[1]), frekvens=normalise(cells[2]), merknader=normalise(cells[3]), line=number,
            )
        )
    return rows


def parse_retired(text: str) -> list[RetiredRow]:
    """The rows of "Indikatorer som utgår fra 2024" (Indikator | Kommentar), to the end of the file."""
    lines = text.splitlines()
    start, end = _section(lines, "Indikatorer som utgår fra 2024", None)
    rows: list[RetiredRow] = []
    for index in range(start, end):
        if lines[index].startswith("#"):
            break
        cells = _cells(lines[index])
        if not lines[index].strip() or normalise(cells[0]) == "Indikator":
            continue
        if len(cells) != 2:
            raise SeedError(f"linje {index + 1}: ventet 2 tabulatordelte celler, fant {len(cells)}")
        comment = normalise(cells[1])
        rows.append(RetiredRow(normalise(cells[0]), comment or None, index + 1))
    return rows


def build_baseline_rows(text: str, catalogue: Catalogue) -> list[dict[str, object]]:
    """One row per catalogue indicator and year 2019–2022, matched to the seed by area, name and position."""
    seed_rows = [(table, row) for table in parse_area_tables(text) for row in table.indicators]
    by_key = {(ind.area, ind.name): (position, ind) for position, ind in enumerate(catalogue.indicators)}
    result: list[dict[str, object]] = []
    matched: set[str] = set()
    for position, (table, row) in enumerate(seed_rows):
        found = by_key.get((table.heading, row.name))
        if found is None:
            raise SeedError(f"line {row.line}: seed row {row.name!r} ({table.heading}) matches no catalogue indicator")
        if found[0] != position:
            raise SeedError(
                f"line {row.line}: seed row {row.name!r} is indicator #{position + 1} in the seed "
                f"but #{found[0] + 1} ('{found[1].id}') in the catalogue"
            )
        matched.add(found[1].id)
        for year, printed in zip(YEARS, row.cells):
            cell = parse_cell(printed)
            result.append(
                {"indicator_id": found[1].id, "period": year, "value": cell.value, "status": cell.status,
                 "printed": printed}
            )
    missing = [ind.id for ind in catalogue.indicators if ind.id not in matched]
    if missing:
        raise SeedError(f"indikatorer i katalogen uten rad i handlingsprogramteksten: {', '.join(missing)}")
    return result


def write_baseline_csv(rows: list[dict[str, object]], path: Path | str) -> None:
    """Write baseline rows as UTF-8 CSV; `value` with "." decimals as printed, empty when there is a status."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in rows:
            value = row["value"]
            shown = "" if row["status"] or not isinstance(value, (int, float)) else as_printed(value, str(row["printed"]))
            writer.writerow([row["indicator_id"], row["period"], shown, row["status"] or "", row["printed"]])


def as_printed(value: float, printed: str) -> str:
    """A parsed cell's value for a CSV file: "." decimals, as many as the printed cell shows ("15,1 %" → "15.1")."""
    return f"{value:.{parse_cell(printed).decimals or 0}f}"
