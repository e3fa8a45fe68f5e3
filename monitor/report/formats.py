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
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Catalogue
from monitor.core import timestamps
from monitor.core.errors import MonitorError
from monitor.report.exports import (
    FOOTNOTES, AreaTable, ExportMeta, build_tables, default_years, export_meta, table_notes, table_sources,
)
from monitor.store.database import Store

BOM = "\ufeff"
PROGRESS_HEADER = "Fremgang"  # the årsrapport's optional progress column (issue 18)
PROGRESS_HEADER_HTML = f'<th scope="col">{PROGRESS_HEADER}</th>'


def to_html(tables: list[AreaTable], meta: ExportMeta, title: str) -> str:
    """Accessible table markup that pastes cleanly into Word or Framsikt."""
    body: list[str] = []
    for table in tables:
        width = len(table.years) + 1 + table.progress
        body.append("<table>")
        body.append(f"<caption>{escape(table.title)}</caption>")
        body.append("<thead>")
        body.append(f'<tr><th scope="colgroup" colspan="{width}">{escape(table.hovedmal)}</th></tr>')
        years = "".join(f'<th scope="col">{year}</th>' for year in table.years)
        years += PROGRESS_HEADER_HTML if table.progress else ""
        body.append(f'<tr><th scope="col">Indikator</th>{years}</tr>')
        body.append("</thead>")
        body.append("<tbody>")
        for row in table.rows:
            if row.kind == "delmal":
                body.append(html_group_row("delmal", row.label, width))
            elif row.kind == "placeholder":
                body.append(f'<tr class="placeholder"><td colspan="{width}">{escape(row.label)}</td></tr>')
            elif table.progress:
                progress = f'<td class="progress">{escape(row.progress or "")}</td>'
                body.append(html_value_row(row.label, row.cells).removesuffix("</tr>") + progress + "</tr>")
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
    extra = [PROGRESS_HEADER] if table.progress else []
    rows = [[table.title], [table.hovedmal], ["Indikator", *[str(year) for year in table.years], *extra]]
    for row in table.rows:
        progress = [row.progress or ""] if table.progress else []
        rows.append([row.label, *[cell.printed for cell in row.cells], *progress] if row.kind == "indicator"
                    else [row.label])
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


LABEL_WIDTH = 80
VALUE_WIDTH = 14
SHEET_NAME_LIMIT = 31  # Excel's
# Short words a shortened sheet name should not end on ("Organisasjon, styring og" → "Organisasjon, styring").
DANGLING_WORDS = frozenset({"og", "i", "for", "å", "med", "til", "av", "på", "om", "eller", "som", "en", "et"})


def exported_at(now: datetime) -> str:
    """The export time as the page footer prints it: "27.11.2026 kl. 09:00"."""
    return now.strftime("%d.%m.%Y kl. %H:%M")


def page_footer(data_per: str, exported: str | None) -> str:
    """The left page-footer text: "Data per 27.11.2026 · eksportert 27.11.2026 kl. 09:00"."""
    return f"Data per {data_per}" + (f" · eksportert {exported}" if exported else "")


def start_sheet(
    workbook: Workbook, area: str, taken: set[str], title_rows: list[str], header: list[Any], footer: str = "",
) -> Worksheet:
    """A new sheet named after the area: the title (bold, larger), more title rows, then the bold header row,
    frozen below the header and right of the label column; set up to print (see `print_setup`)."""
    sheet = workbook.create_sheet(sheet_name(area, taken))
    for row in title_rows:
        sheet.append([row])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"B{sheet.max_row + 1}"
    print_setup(sheet, sheet.max_row, footer)
    return sheet


def print_setup(sheet: Worksheet, header_rows: int, footer: str) -> None:
    """Landscape A4, one page wide (as many pages tall as needed), the title and header rows repeated on every
    page, and a footer: the given text on the left, "Side n av m" on the right."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = f"1:{header_rows}"
    sheet.print_options.gridLines = False
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    if footer:
        sheet.oddFooter.left.text = footer.replace("&", "&&")
        sheet.oddFooter.left.size = 8
    sheet.oddFooter.right.text = "Side &P av &N"
    sheet.oddFooter.right.size = 8


def append_note(sheet: Worksheet, text: str, width: float = LABEL_WIDTH) -> None:
    """A line under a table (data per, sources, a footnote) in the label column, wrapped there, so it never
    spills to the right of the printed table onto a page of its own."""
    sheet.append([text])
    sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    lines = -(-len(text) // int(width * 1.1)) if text else 1
    if lines > 1:
        sheet.row_dimensions[sheet.max_row].height = 15 * lines


def finish_workbook(workbook: Workbook, value_columns: int, widths: Sequence[float] | None = None) -> bytes:
    """Column widths on every sheet (a wide label column, then the value columns, or `widths` from column A),
    saved as XLSX bytes."""
    columns = list(widths) if widths is not None else [LABEL_WIDTH, *[VALUE_WIDTH] * value_columns]
    for sheet in workbook.worksheets:
        for index, width in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a word boundary, without a dangling "og" or comma at the end
    (cut mid-word only when the first word alone is too long)."""
    if len(text) <= limit:
        return text
    words = text[: limit + 1].split(" ")[:-1]  # the last piece is cut (or is the word right after the limit)
    while words and words[-1].strip(",;:–-").lower() in DANGLING_WORDS | {""}:
        words.pop()
    short = " ".join(words).rstrip(" ,;:–-")
    return short or text[:limit].rstrip()


def sheet_name(area: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique; shortened at a word boundary."""
    clean = " ".join(re.sub(r"[\[\]:*?/\\]", "", area).split())
    name, number = shorten(clean, SHEET_NAME_LIMIT), 2
    while name in taken:
        suffix = f" ({number})"
        name, number = shorten(clean, SHEET_NAME_LIMIT - len(suffix)) + suffix, number + 1
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
    """One sheet per satsingsområde: real numbers with number formats, bold delmål, frozen header; printed landscape
    one page wide with the header repeated, and under each table the sources of that table only."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    footer = page_footer(meta.data_per, meta.exported)
    for table in tables:
        extra = [PROGRESS_HEADER] if table.progress else []
        sheet = start_sheet(workbook, table.area, taken, [table.title, table.hovedmal],
                            ["Indikator", *table.years, *extra], footer)
        for row in table.rows:
            if row.kind != "indicator":
                sheet.append([row.label])
                sheet.cell(sheet.max_row, 1).font = Font(bold=True) if row.kind == "delmal" else Font(italic=True)
                continue
            assert row.indicator is not None
            append_value_row(sheet, row.label, row.cells, number_format(row.indicator.decimals, row.indicator.symbol),
                             FOOTNOTES)
            if table.progress:
                cell = sheet.cell(sheet.max_row, len(table.years) + 2, row.progress or "")
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.append([])
        append_note(sheet, f"Data per {meta.data_per}")
        append_note(sheet, "Kilder: " + "; ".join(table_sources(table)))
        for note in table_notes(table):
            append_note(sheet, note)
    return finish_workbook(workbook, max((len(table.years) + table.progress for table in tables), default=0))


def arsrapport_years(catalogue: Catalogue, store: Store, as_of: date | None, zone: ZoneInfo) -> tuple[int, int]:
    """The default span of years: those with data at `as_of` (all when None), through the plan period."""
    cutoff = datetime.combine(as_of, time.max, zone) if as_of else None
    return default_years(store.all_vintages(catalogue.municipality.current_code), cutoff)


def nothing_known(catalogue: Catalogue, store: Store, as_of: date | None, zone: ZoneInfo) -> str | None:
    """The notice for an `as_of` before anything was stored (issue 17 §16): the export would be all blanks."""
    if as_of is None:
        return None
    cutoff = datetime.combine(as_of, time.max, zone)
    stamps = [timestamps.decode(v.retrieved_at) for v in store.all_vintages(catalogue.municipality.current_code)]
    if not stamps or any(stamp <= cutoff for stamp in stamps):
        return None
    return (f"ingen tall var kjent per {as_of:%d.%m.%Y}: de første tallene i databasen ble lagret "
            f"{min(stamps).astimezone(zone):%d.%m.%Y}, så tabellene er tomme")


def render_arsrapport(
    catalogue: Catalogue, store: Store, first: int, last: int, fmt: str, as_of: date | None, now: datetime,
    zone: ZoneInfo, progress: bool = False,
) -> tuple[bytes, str]:
    """The årsrapport export as bytes in the given format, and its "data per" date (CLI and web alike). `now` is
    the export time (the page footer) and, without `as_of`, the day the empty cells' reasons are judged on. With
    `progress`, a «Fremgang» column after the years (off by default: the printed layout stays as it is)."""
    if not 1990 <= first <= last <= 2100 or last - first > 20:
        raise MonitorError(f"årene {first}–{last} er ikke et gyldig spenn (høyst 21 år, fra 1990)")
    cutoff = datetime.combine(as_of, time.max, zone) if as_of else None
    vintages = store.all_vintages(catalogue.municipality.current_code)
    day = as_of or now.date()
    tables = build_tables(catalogue, vintages, list(range(first, last + 1)), cutoff, day, progress)
    meta = export_meta(catalogue, tables, day.strftime("%d.%m.%Y"), exported_at(now))
    title = f"Indikatorer {first}–{last} – data per {meta.data_per}"
    renderers = {"html": lambda: to_html(tables, meta, title).encode("utf-8"),
                 "csv": lambda: to_csv(tables, meta), "xlsx": lambda: to_xlsx(tables, meta)}
    return renderers[fmt](), meta.data_per
