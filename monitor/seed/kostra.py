"""Parser for the "KOSTRA-tall" tables of the Handlingsprogram 2024–2027 seed text, and the KOSTRA baseline file.

Each tjenesteområde chapter opens with a table: a header row (an empty cell, then "Asker 2021", "Asker 2022",
"Bærum", "Drammen", "Lillestrøm", "ASSS uten Oslo", "Kostragruppe 12"), bold category rows ("<b>Prioritet</b>"
followed by empty cells) and key-figure rows (the name, then seven cells, some empty). The text conversion left
three kinds of debris, all handled here: blank lines inside a table, a name wrapped onto a second line (a row with
only a first cell, glued to the row above), and footnotes with Markdown escapes and italics ("\\*\\*) Justert for
utgiftsbehov", "*\\*) Inflasjonsjustert med deflator*").
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from monitor.catalogue.kostra import KostraCatalogue
from monitor.seed.handlingsprogram import SeedError, as_printed, normalise, parse_cell

COLUMNS = 7
CSV_HEADER = ("kostra_id", "region", "period", "value", "printed")
_HEADING = re.compile(r"^(#+)\s*(.*?)\s*$")
_KOSTRA_HEADING = "KOSTRA-tall"


@dataclass(frozen=True)
class KostraSeedRow:
    """One key-figure row as printed: the name (wrapped lines joined), its category and the seven cells."""

    name: str
    category: str  # the category row above it, as printed: "Prioritet", "Grunnlagsdata (Nivå 3)", …
    cells: tuple[str, ...]  # seven cells, normalised; "" where the table prints nothing
    line: int


@dataclass(frozen=True)
class KostraSeedTable:
    """One tjenesteområde's KOSTRA table."""

    area: str  # the chapter heading above it: "Oppvekst", "Organisasjon, styring og utvikling", …
    header: tuple[str, ...]  # the seven column labels as printed
    rows: tuple[KostraSeedRow, ...]
    footnotes: tuple[str, ...]  # as rendered: "*) Inflasjonsjustert med deflator"
    line: int  # the line of the header row (1-based)


def unescape_footnote(text: str) -> str:
    """A Markdown footnote line as it renders: escapes resolved, one italic wrapper and trailing breaks dropped."""
    text = text.strip()
    if len(text) > 2 and text.startswith("*") and text.endswith("*") and not text.endswith("\\*"):
        text = text[1:-1]
    return re.sub(r"\\([*_\\])", r"\1", text).strip()


def parse_kostra_tables(text: str) -> list[KostraSeedTable]:
    """Every "KOSTRA-tall" table of the seed, in order (a contents line "KOSTRA-tall ..... 63" is not a heading)."""
    lines = text.splitlines()
    tables: list[KostraSeedTable] = []
    chapter = ""
    for index, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading is None:
            continue
        title = heading.group(2)
        if title != _KOSTRA_HEADING:
            if len(heading.group(1)) <= 2:
                chapter = title
            continue
        if not chapter:
            raise SeedError(f"line {index + 1}: a KOSTRA table before any chapter heading")
        tables.append(_table(lines, index + 1, chapter))
    return tables


def _table(lines: list[str], start: int, area: str) -> KostraSeedTable:
    """The table after the heading at index start - 1: header, rows, then footnotes up to the next heading."""
    position = start
    while position < len(lines) and not lines[position].strip():
        position += 1
    if position >= len(lines) or "\t" not in lines[position]:
        raise SeedError(f"line {start}: KOSTRA heading without a table under it")
    header = lines[position].split("\t")
    if len(header) != COLUMNS + 1 or header[0].strip():
        raise SeedError(f"linje {position + 1}: ventet en overskrift med en tom celle og {COLUMNS} kolonnenavn")
    header_line = position + 1
    rows: list[KostraSeedRow] = []
    category = ""
    position += 1
    while position < len(lines):
        line, number = lines[position], position + 1
        if not line.strip():
            position += 1
            continue  # stray blank lines inside a table
        if "\t" not in line:
            break  # the footnotes (or the next section)
        cells = line.split("\t")
        if len(cells) != COLUMNS + 1:
            raise SeedError(f"linje {number}: ventet {COLUMNS + 1} tabulatordelte celler, fant {len(cells)}")
        first = cells[0].strip()
        values = tuple(normalise(cell) for cell in cells[1:])
        if not first:
            raise SeedError(f"line {number}: a row without a name")
        if not any(values):
            if first.startswith("<b>"):
                category = normalise(first)
            elif rows:  # a name wrapped onto a second line
                above = rows[-1]
                rows[-1] = KostraSeedRow(f"{above.name} {normalise(first)}", above.category, above.cells, above.line)
            else:
                raise SeedError(f"line {number}: a continuation line with no row above it")
        elif not category:
            raise SeedError(f"line {number}: a key-figure row before any category row")
        else:
            for cell in values:
                if cell:
                    parse_cell(cell)  # raises SeedError naming the cell
            rows.append(KostraSeedRow(normalise(first), category, values, number))
        position += 1
    footnotes: list[str] = []
    while position < len(lines) and not lines[position].startswith("#"):
        if lines[position].strip():
            footnotes.append(unescape_footnote(lines[position]))
        position += 1
    return KostraSeedTable(area, tuple(normalise(cell) for cell in header[1:]), tuple(rows), tuple(footnotes), header_line)


def build_kostra_baseline_rows(text: str, kostra: KostraCatalogue) -> list[dict[str, object]]:
    """One row per printed cell, matched to kostra.yaml by tjenesteområde, position and name (as printed)."""
    tables = parse_kostra_tables(text)
    areas = [area.name for area in kostra.areas]
    if [table.area for table in tables] != areas:
        raise SeedError(f"the seed's KOSTRA tables {[t.area for t in tables]} are not kostra.yaml's areas {areas}")
    result: list[dict[str, object]] = []
    for table, area in zip(tables, kostra.areas):
        if len(table.rows) != len(area.rows):
            raise SeedError(
                f"line {table.line}: {area.name}: {len(table.rows)} rows in the seed, {len(area.rows)} in kostra.yaml"
            )
        for seed_row, row in zip(table.rows, area.rows):
            if seed_row.name != row.name:
                raise SeedError(f"line {seed_row.line}: seed row {seed_row.name!r} is {row.id!r} ({row.name!r})")
            for column, printed in zip(kostra.columns, seed_row.cells):
                if not printed:
                    continue
                region = kostra.region(column.region)
                value = parse_cell(printed).value
                result.append(
                    {"kostra_id": row.id, "region": region.store_code,
                     "period": kostra.layout_year + column.offset, "value": value, "printed": printed}
                )
    return result


def write_kostra_baseline_csv(rows: list[dict[str, object]], path: Path | str) -> None:
    """UTF-8 CSV; `value` with "." decimals as printed."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in rows:
            value = row["value"]
            assert isinstance(value, float)
            writer.writerow([row["kostra_id"], row["region"], row["period"], as_printed(value, str(row["printed"])),
                             row["printed"]])
