"""The KOSTRA tables in the handlingsprogram's layout, as of any date, and their HTML, CSV and XLSX forms.

One table per tjenesteområde: the header (Asker the year before, Asker, the peers and the groups in the table's
year), the category rows, the key-figure rows with each cell as the handlingsprogram prints it ("173 362",
"86,7 %", "5,8"), and the footnotes printed under the table, followed by the marks this export adds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from html import escape
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from monitor.seed.baseline import BASELINE_VINTAGE
from monitor.core.errors import MonitorError
from monitor.report.formats import (
    append_note, append_value_row, csv_bytes, exported_at, finish_workbook, html_document, html_group_row,
    html_value_row, number_format, page_footer, start_sheet,
)
from monitor.report.exports import REVISED_MARK, SUPPRESSED_MARK, as_of_vintages
from monitor.catalogue.kostra import KostraCatalogue, Row
from monitor.core.model import Vintage
from monitor.store.database import Store
from monitor.core.numbers import format_value

NOMINAL_MARK = "³"
MARKS = {
    REVISED_MARK: "Revidert etter at Handlingsprogram 2024–2027 ble vedtatt.",
    SUPPRESSED_MARK: "Skjermet av kilden (vises ikke av personvernhensyn).",
    NOMINAL_MARK: "SSBs tall, ikke inflasjonsjustert eller justert for utgiftsbehov slik de trykte tallene er.",
}
TITLE_PREFIX = "KOSTRA-tall"


@dataclass(frozen=True)
class KostraCell:
    """One region-year of one row: the printed text, the number behind it (for XLSX) and the export's marks."""

    text: str
    value: float | None = None
    marks: tuple[str, ...] = ()

    @property
    def printed(self) -> str:
        """The text with its marks."""
        return self.text + "".join(self.marks)


@dataclass(frozen=True)
class KostraLine:
    """A category row (label only) or a key-figure row (label, row, cells)."""

    kind: str  # category | row
    label: str
    row: Row | None = None
    cells: tuple[KostraCell, ...] = ()


@dataclass
class KostraTable:
    """One tjenesteområde's table."""

    area: str
    headings: list[str]
    lines: list[KostraLine] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The caption: "KOSTRA-tall – Oppvekst"."""
        return f"{TITLE_PREFIX} – {self.area}"


def series_ids(kostra: KostraCatalogue) -> list[str]:
    """Every store indicator_id the KOSTRA tables read: the printed series and the nominal twins."""
    ids: list[str] = []
    for row in kostra.rows:
        ids.append(row.series_id)
        if row.fetched_series_id != row.series_id:
            ids.append(row.fetched_series_id)
    return ids


def kostra_vintages(kostra: KostraCatalogue, store: Store) -> list[Vintage]:
    """Every stored vintage of every KOSTRA series (printed and nominal), all regions, in one read transaction."""
    with store.reading():
        return [vintage for series in series_ids(kostra) for vintage in store.vintages(series)]


def default_year(kostra: KostraCatalogue, vintages: list[Vintage], as_of: datetime | None = None) -> int:
    """The newest year with any KOSTRA figure for Asker (the first column's region) known at `as_of`."""
    home = kostra.region(kostra.columns[0].region).store_code
    years = [int(v.period[-4:]) for v in as_of_vintages(vintages, as_of) if v.region == home]
    return max(years, default=kostra.layout_year)


def build_kostra_tables(
    kostra: KostraCatalogue, vintages: list[Vintage], year: int, as_of: datetime | None = None
) -> list[KostraTable]:
    """The six tables for `year`, from the vintages known at `as_of` (all when None)."""
    known: dict[tuple[str, str, str], list[Vintage]] = {}
    for vintage in as_of_vintages(vintages, as_of):
        known.setdefault((vintage.indicator_id, vintage.region, vintage.period), []).append(vintage)
    columns = [(kostra.region(column.region).store_code, str(year + column.offset)) for column in kostra.columns]
    tables: list[KostraTable] = []
    for area in kostra.areas:
        table = KostraTable(area.name, [column.heading(year) for column in kostra.columns])
        category = None
        for row in area.rows:
            if row.category is not category:
                table.lines.append(KostraLine("category", row.category.label))
                category = row.category
            cells = tuple(_cell(row, known, region, period) for region, period in columns)
            table.lines.append(KostraLine("row", row.name, row, cells))
        used = {mark for line in table.lines for cell in line.cells for mark in cell.marks}
        table.footnotes = list(area.footnotes) + [f"{mark} {text}" for mark, text in MARKS.items() if mark in used]
        tables.append(table)
    return tables


def _cell(row: Row, known: dict[tuple[str, str, str], list[Vintage]], region: str, period: str) -> KostraCell:
    """The newest value known for the printed series; else SSB's nominal figure of an adjusted row, marked."""
    candidates = sorted(known.get((row.series_id, region, period), []), key=lambda v: (v.retrieved_at, v.id))
    marks: list[str] = []
    if not candidates and row.fetched_series_id != row.series_id:
        candidates = sorted(known.get((row.fetched_series_id, region, period), []), key=lambda v: (v.retrieved_at, v.id))
        if candidates:
            marks.append(NOMINAL_MARK)
    if not candidates:
        return KostraCell("")
    latest = candidates[-1]
    printed = [v for v in candidates if v.vintage == BASELINE_VINTAGE]
    if printed and latest.vintage != BASELINE_VINTAGE and not _same(row, printed[-1], latest):
        marks.append(REVISED_MARK)
    if latest.value is not None:
        return KostraCell(format_value(latest.value, row.decimals, row.symbol), latest.value, tuple(marks))
    if latest.status == ":":
        marks.append(SUPPRESSED_MARK)
    return KostraCell(latest.status or "", None, tuple(marks))


def _same(row: Row, a: Vintage, b: Vintage) -> bool:
    if a.value is None or b.value is None:
        return a.value is None and b.value is None and a.status == b.status
    return round(a.value, row.decimals) == round(b.value, row.decimals)


def to_html(tables: list[KostraTable], title: str, data_per: str) -> str:
    """Accessible tables that paste into Word or Framsikt; each followed by its footnotes."""
    body: list[str] = []
    for table in tables:
        width = len(table.headings) + 1
        body.append("<section>")
        body.append("<table>")
        body.append(f"<caption>{escape(table.title)}</caption>")
        headings = "".join(f'<th scope="col">{escape(heading)}</th>' for heading in table.headings)
        body.append(f'<thead><tr><th scope="col">Nøkkeltall</th>{headings}</tr></thead>')
        body.append("<tbody>")
        for line in table.lines:
            if line.kind == "category":
                body.append(html_group_row("category", line.label, width))
            else:
                body.append(html_value_row(line.label, line.cells))
        body.append("</tbody>")
        body.append("</table>")
        body.extend(f'<p class="footnote">{escape(note)}</p>' for note in table.footnotes)
        body.append("</section>")
    body.append(f"<p>Data per {escape(data_per)}. Kilder: SSB (KOSTRA); KS (ASSS-snittet, bare de trykte tallene).</p>")
    style = ("table{border-collapse:collapse;margin-bottom:0.5em}th,td{border:1px solid #999;padding:2px 6px;"
             "text-align:left}td.num{text-align:right}tr.category th{font-weight:bold;background:#eee}"
             "p.footnote{margin:0 0 0.2em 0;font-size:90%}section{margin-bottom:1.5em}")
    return html_document(title, style, body)


def table_rows(table: KostraTable) -> list[list[str]]:
    """A table as rows of text: title, header, category and key-figure rows, then the footnotes."""
    rows = [[table.title], ["Nøkkeltall", *table.headings]]  # a named first column, as in the XLSX and HTML
    for line in table.lines:
        rows.append([line.label, *[cell.printed for cell in line.cells]] if line.kind == "row" else [line.label])
    rows.extend([note] for note in table.footnotes)
    return rows


def to_csv(tables: list[KostraTable], data_per: str) -> bytes:
    """UTF-8 with a BOM and semicolons, so Norwegian Excel opens it as it is."""
    footer = [[f"Data per {data_per}"], ["Kilder: SSB (KOSTRA); KS (ASSS-snittet, bare de trykte tallene)"]]
    return csv_bytes([table_rows(table) for table in tables], footer)


def to_xlsx(tables: list[KostraTable], data_per: str, exported: str | None = None) -> bytes:
    """One sheet per tjenesteområde: real numbers with number formats, bold categories, frozen header, footnotes;
    printed landscape one page wide with the header repeated and the page number, "data per" and export time."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = start_sheet(workbook, table.area, taken, [table.title], ["Nøkkeltall", *table.headings],
                            page_footer(data_per, exported))
        for line in table.lines:
            if line.kind == "category":
                sheet.append([line.label])
                sheet.cell(sheet.max_row, 1).font = Font(bold=True)
                continue
            assert line.row is not None
            append_value_row(sheet, line.label, line.cells, number_format(line.row.decimals, line.row.symbol), MARKS)
        sheet.append([])
        for note in table.footnotes:
            append_note(sheet, note)
        append_note(sheet, f"Data per {data_per}")
    return finish_workbook(workbook, max((len(table.headings) for table in tables), default=0))


def render_kostra(
    kostra: KostraCatalogue, store: Store, fmt: str, as_of: date | None, year: int | None, now: datetime, zone: ZoneInfo,
) -> tuple[bytes, str, int]:
    """The KOSTRA export as bytes, its "data per" date and its year (CLI and web alike); `now` is the export time."""
    cutoff = datetime.combine(as_of, time.max, zone) if as_of else None
    vintages = kostra_vintages(kostra, store)
    chosen = year if year is not None else default_year(kostra, vintages, cutoff)
    if not 2015 <= chosen <= 2100:
        raise MonitorError(f"året {chosen} er ikke gyldig for KOSTRA (fra 2015)")
    tables = build_kostra_tables(kostra, vintages, chosen, cutoff)
    data_per = (as_of or now.date()).strftime("%d.%m.%Y")
    title = f"KOSTRA-tall {chosen} – data per {data_per}"
    renderers = {"html": lambda: to_html(tables, title, data_per).encode("utf-8"),
                 "csv": lambda: to_csv(tables, data_per), "xlsx": lambda: to_xlsx(tables, data_per, exported_at(now))}
    return renderers[fmt](), data_per, chosen
