"""Writers for the årsrapport tables: HTML for Word/Framsikt, CSV for Norwegian Excel, XLSX with real numbers."""

from __future__ import annotations

import csv
import io
import re
from html import escape

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Catalogue
from monitor.core.errors import MonitorError
from monitor.report.exports import FOOTNOTES, AreaTable, ExportMeta, build_tables, export_meta
from monitor.store.database import Store

BOM = "\ufeff"


def to_html(tables: list[AreaTable], meta: ExportMeta, title: str) -> str:
    """Accessible table markup that pastes cleanly into Word or Framsikt."""
    body: list[str] = []
    for table in tables:
        width = len(table.years) + 1
        body.append("<table>")
        body.append(f"<caption>{escape(table.title)}</caption>")
        body.append("<thead>")
        body.append(f'<tr><th scope="colgroup" colspan="{width}">{escape(table.hovedmal)}</th></tr>')
        years = "".join(f'<th scope="col">{year}</th>' for year in table.years)
        body.append(f'<tr><th scope="col">Indikator</th>{years}</tr>')
        body.append("</thead>")
        body.append("<tbody>")
        for row in table.rows:
            if row.kind == "delmal":
                body.append(html_group_row("delmal", row.label, width))
            elif row.kind == "placeholder":
                body.append(f'<tr class="placeholder"><td colspan="{width}">{escape(row.label)}</td></tr>')
            else:
                body.append(html_value_row(row.label, row.cells))
        body.append("</tbody>")
        body.append("</table>")
    body.append(f"<p>Data per {escape(meta.data_per)}. Kilder: {escape('; '.join(meta.sources))}.</p>")
    body.extend(f"<p>{escape(note)}</p>" for note in meta.footnotes)
    style = ("table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #999;padding:2px 6px;"
             "text-align:left}td.num{text-align:right}tr.delmal th{font-weight:bold;background:#eee}")
    return html_document(title, style, body)


def html_document(title: str, style: str, body: list[str]) -> str:
    """A bokmål HTML page: the title as <title> and <h1>, the style, then the body lines inside <main>."""
    head = ["<!doctype html>", '<html lang="nb">', "<head>", '<meta charset="utf-8">', f"<title>{escape(title)}</title>",
            f"<style>{style}</style>", "</head>", "<body>", "<main>", f"<h1>{escape(title)}</h1>"]
    return "\n".join([*head, *body, "</main>", "</body>", "</html>"]) + "\n"


def html_group_row(css_class: str, label: str, width: int) -> str:
    """A row that heads the rows below it (a delmål, a KOSTRA category), across the whole table."""
    return f'<tr class="{css_class}"><th scope="rowgroup" colspan="{width}"><b>{escape(label)}</b></th></tr>'


def html_value_row(label: str, cells: Sequence[PrintedCell]) -> str:
    """A row of a label and its printed cells."""
    values = "".join(f'<td class="num">{escape(cell.printed)}</td>' for cell in cells)
    return f'<tr><th scope="row">{escape(label)}</th>{values}</tr>'


def table_rows(table: AreaTable) -> list[list[str]]:
    """A table as printed rows of text: title, hovedmål, header, then delmål, indicator and placeholder rows."""
    rows = [[table.title], [table.hovedmal], ["Indikator", *[str(year) for year in table.years]]]
    for row in table.rows:
        rows.append([row.label, *[cell.printed for cell in row.cells]] if row.kind == "indicator" else [row.label])
    return rows


def to_csv(tables: list[AreaTable], meta: ExportMeta) -> bytes:
    """UTF-8 with a BOM and semicolons, so Norwegian Excel opens it as it is."""
    footer = [[f"Data per {meta.data_per}"], ["Kilder: " + "; ".join(meta.sources)], *[[note] for note in meta.footnotes]]
    return csv_bytes([table_rows(table) for table in tables], footer)


def csv_bytes(tables: list[list[list[str]]], footer: list[list[str]]) -> bytes:
    """Tables of text rows, a blank row after each, then the footer: UTF-8 with a BOM, semicolons, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for rows in tables:
        writer.writerows(rows)
        writer.writerow([])
    writer.writerows(footer)
    return (BOM + buffer.getvalue()).encode("utf-8")


def number_format(decimals: int, symbol: str | None) -> str:
    """An Excel number format showing the value as printed: '#,##0.0" %"', '#,##0" kr/m²"'."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f'{pattern}" {symbol}"' if symbol else pattern


def start_sheet(workbook: Workbook, area: str, taken: set[str], title_rows: list[str], header: list[Any]) -> Worksheet:
    """A new sheet named after the area: the title (bold, larger), more title rows, then the bold header row,
    frozen below the header and right of the label column."""
    sheet = workbook.create_sheet(sheet_name(area, taken))
    for row in title_rows:
        sheet.append([row])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"B{sheet.max_row + 1}"
    return sheet


def finish_workbook(workbook: Workbook, value_columns: int) -> bytes:
    """Column widths on every sheet (a wide label column, then the value columns), saved as XLSX bytes."""
    for sheet in workbook.worksheets:
        sheet.column_dimensions["A"].width = 80
        for index in range(2, value_columns + 2):
            sheet.column_dimensions[get_column_letter(index)].width = 14
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_name(area: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "", area)[:31].rstrip()
    name, number = base, 2
    while name in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


class PrintedCell(Protocol):
    """What a table cell offers a writer: the number behind it, its printed text and its footnote marks."""

    @property
    def value(self) -> float | None: ...

    @property
    def printed(self) -> str: ...

    @property
    def marks(self) -> tuple[str, ...]: ...


def append_value_row(
    sheet: Worksheet, label: str, cells: Sequence[PrintedCell], excel_format: str, notes: Mapping[str, str]
) -> None:
    """A row of a label and cells: numbers stay numbers with a number format; footnotes go in comments."""
    sheet.append([label, *[cell.value if cell.value is not None else cell.printed for cell in cells]])
    for offset, cell in enumerate(cells, start=2):
        target = sheet.cell(sheet.max_row, offset)
        if isinstance(target.value, (int, float)):
            target.number_format = excel_format
            if cell.marks:
                target.comment = Comment(" ".join(notes[mark] for mark in cell.marks), "monitor")
        target.alignment = Alignment(horizontal="right")
    sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")


def to_xlsx(tables: list[AreaTable], meta: ExportMeta) -> bytes:
    """One sheet per satsingsområde: real numbers with number formats, bold delmål, frozen header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = start_sheet(workbook, table.area, taken, [table.title, table.hovedmal], ["Indikator", *table.years])
        for row in table.rows:
            if row.kind != "indicator":
                sheet.append([row.label])
                sheet.cell(sheet.max_row, 1).font = Font(bold=True) if row.kind == "delmal" else Font(italic=True)
                continue
            assert row.indicator is not None
            append_value_row(sheet, row.label, row.cells, number_format(row.indicator.decimals, row.indicator.symbol),
                             FOOTNOTES)
        sheet.append([])
        sheet.append([f"Data per {meta.data_per}"])
        sheet.append(["Kilder: " + "; ".join(meta.sources)])
        for note in meta.footnotes:
            sheet.append([note])
    return finish_workbook(workbook, max((len(table.years) for table in tables), default=0))


def render_arsrapport(
    catalogue: Catalogue, store: Store, first: int, last: int, fmt: str, as_of: date | None, today: date,
    zone: ZoneInfo,
) -> tuple[bytes, str]:
    """The årsrapport export as bytes in the given format, and its "data per" date (CLI and web alike)."""
    if not 1990 <= first <= last <= 2100 or last - first > 20:
        raise MonitorError(f"årene {first}–{last} er ikke et gyldig spenn (høyst 21 år, fra 1990)")
    cutoff = datetime.combine(as_of, time.max, zone) if as_of else None
    vintages = store.all_vintages(catalogue.municipality.current_code)
    tables = build_tables(catalogue, vintages, list(range(first, last + 1)), cutoff)
    meta = export_meta(catalogue, tables, (as_of or today).strftime("%d.%m.%Y"))
    title = f"Indikatorer {first}–{last} – data per {meta.data_per}"
    renderers = {"html": lambda: to_html(tables, meta, title).encode("utf-8"),
                 "csv": lambda: to_csv(tables, meta), "xlsx": lambda: to_xlsx(tables, meta)}
    return renderers[fmt](), meta.data_per
