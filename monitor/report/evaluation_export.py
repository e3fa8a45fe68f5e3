"""The evaluation for the management group: one row per indicator with its state, grouped and styled as the
årsrapport tables (a table per satsingsområde, its hovedmål, delmål rows), as HTML, CSV or XLSX."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.core.numbers import format_value
from monitor.evaluate.assessment import evaluate_all
from monitor.evaluate.indicator import STATE_WORDS, TARGET_WORDS, Evaluation
from monitor.report.formats import (
    LABEL_WIDTH, append_note, csv_bytes, exported_at, finish_workbook, html_document, html_group_row, number_format,
    page_footer, start_sheet,
)
from monitor.store.database import Store

HEADER = ["Indikator", "Periode", "Siste verdi", "Mål", "Tilstand", "Måloppnåelse", "Forklaring", "Fremgang",
          "Forklaring av fremgangen"]
WIDTHS = [LABEL_WIDTH * 0.6, 10, 14, 30, 18, 14, 60, 16, 60]


@dataclass(frozen=True)
class EvaluationRow:
    """A delmål row (label only) or an indicator row: its evaluation as printed, and its latest number."""

    kind: str  # delmal | indicator
    label: str
    texts: tuple[str, ...] = ()  # Periode, Siste verdi, Mål, Tilstand, Måloppnåelse, Forklaring, Fremgang (2)
    value: float | None = None
    indicator: Indicator | None = None


@dataclass
class EvaluationTable:
    """One satsingsområde's evaluations."""

    area: str
    hovedmal: str
    rows: list[EvaluationRow] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The title row, in capitals as the årsrapport tables."""
        return self.area.upper()

    @property
    def indicators(self) -> int:
        """How many indicator rows."""
        return sum(1 for row in self.rows if row.kind == "indicator")


def build_evaluation_tables(catalogue: Catalogue, evaluations: list[Evaluation]) -> list[EvaluationTable]:
    """The evaluations grouped as the handlingsprogram's tables: by satsingsområde, then delmål, in catalogue order."""
    tables: dict[str, EvaluationTable] = {}
    last_delmal: dict[str, str] = {}
    for evaluation in evaluations:
        indicator = catalogue.get(evaluation.id)
        table = tables.setdefault(indicator.area, EvaluationTable(indicator.area, indicator.hovedmal))
        if last_delmal.get(indicator.area) != indicator.delmal:
            table.rows.append(EvaluationRow("delmal", indicator.delmal))
            last_delmal[indicator.area] = indicator.delmal
        table.rows.append(_row(indicator, evaluation))
    return list(tables.values())


def _row(indicator: Indicator, e: Evaluation) -> EvaluationRow:
    value = format_value(e.latest_value, indicator.decimals, indicator.symbol) if e.latest_value is not None else ""
    target = indicator.target.text if indicator.target else ""
    state = STATE_WORDS[e.state] + (f" ({e.late_days} dager)" if e.late_days else "")
    progress = (e.progress.label, e.progress.explanation) if e.progress is not None else ("", "")
    texts = (e.latest_value_period or "", value, target, state, TARGET_WORDS[e.target_status], e.explanation, *progress)
    return EvaluationRow("indicator", e.name, texts, e.latest_value, indicator)


def to_html(tables: list[EvaluationTable], title: str, footer: str) -> str:
    """A table per satsingsområde, as the årsrapport's HTML: caption, hovedmål, header, bold delmål rows."""
    width = len(HEADER)
    body: list[str] = []
    for table in tables:
        body.append("<table>")
        body.append(f"<caption>{escape(table.title)}</caption>")
        body.append("<thead>")
        body.append(f'<tr><th scope="colgroup" colspan="{width}">{escape(table.hovedmal)}</th></tr>')
        body.append("<tr>" + "".join(f'<th scope="col">{escape(h)}</th>' for h in HEADER) + "</tr>")
        body.append("</thead>")
        body.append("<tbody>")
        for row in table.rows:
            if row.kind == "delmal":
                body.append(html_group_row("delmal", row.label, width))
            else:
                cells = "".join(f"<td>{escape(text)}</td>" for text in row.texts)
                body.append(f'<tr><th scope="row">{escape(row.label)}</th>{cells}</tr>')
        body.append("</tbody>")
        body.append("</table>")
    body.append(f"<p>{escape(footer)}.</p>")
    style = ("table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #999;padding:2px 6px;"
             "text-align:left;vertical-align:top}tr.delmal th{font-weight:bold;background:#eee}")
    return html_document(title, style, body)


def table_rows(table: EvaluationTable) -> list[list[str]]:
    """A table as rows of text: title, hovedmål, header, then delmål and indicator rows."""
    rows = [[table.title], [table.hovedmal], list(HEADER)]
    rows.extend([row.label, *row.texts] if row.kind == "indicator" else [row.label] for row in table.rows)
    return rows


def to_csv(tables: list[EvaluationTable], footer: str) -> bytes:
    """UTF-8 with a BOM and semicolons, a block per satsingsområde as the årsrapport's CSV."""
    return csv_bytes([table_rows(table) for table in tables], [[footer]])


def to_xlsx(tables: list[EvaluationTable], footer: str, exported: str) -> bytes:
    """A sheet per satsingsområde as the årsrapport's: the latest value a real number, bold delmål, wrapped
    explanations, printed landscape one page wide with the header repeated."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = start_sheet(workbook, table.area, taken, [table.title, table.hovedmal], list(HEADER),
                            page_footer(footer.removeprefix("Evaluering per "), exported))
        for row in table.rows:
            if row.kind == "delmal":
                sheet.append([row.label])
                sheet.cell(sheet.max_row, 1).font = Font(bold=True)
                continue
            texts: list[object] = [row.label, *row.texts]
            if row.value is not None and row.indicator is not None:
                texts[2] = row.value
            sheet.append(texts)
            for cell in sheet[sheet.max_row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if row.value is not None and row.indicator is not None:
                value = sheet.cell(sheet.max_row, 3)
                value.number_format = number_format(row.indicator.decimals, row.indicator.symbol)
                value.alignment = Alignment(horizontal="right", vertical="top")
        sheet.append([])
        append_note(sheet, footer, WIDTHS[0])
    return finish_workbook(workbook, len(HEADER) - 1, WIDTHS)


def render_evaluering(catalogue: Catalogue, store: Store, fmt: str, now: datetime, zone: ZoneInfo) -> tuple[bytes, int]:
    """The evaluation export as bytes in the given format, and how many indicators it holds (CLI)."""
    evaluations = evaluate_all(catalogue, store, now.date(), now, zone)
    tables = build_evaluation_tables(catalogue, evaluations)
    day = now.strftime("%d.%m.%Y")
    footer = f"Evaluering per {day}"
    renderers = {"html": lambda: to_html(tables, f"Indikatorer – evaluering per {day}", footer).encode("utf-8"),
                 "csv": lambda: to_csv(tables, footer), "xlsx": lambda: to_xlsx(tables, footer, exported_at(now))}
    return renderers[fmt](), sum(table.indicators for table in tables)
