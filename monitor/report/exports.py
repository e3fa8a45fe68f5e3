"""The årsrapport tables: the handlingsprogram's indicator tables rebuilt from the vintages, as of any date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.catalogue.indicators import Catalogue, Indicator, Placeholder
from monitor.evaluate.indicator import BASELINE_VINTAGE, period_year
from monitor.core import timestamps
from monitor.core.model import NO_VALUE, NOT_MEASURED, PENDING, STATUS_WORDS, Vintage
from monitor.core.numbers import format_value

REVISED_MARK = "¹"
SUPPRESSED_MARK = "²"
FOOTNOTES = {
    REVISED_MARK: "Revidert etter at Handlingsprogram 2024–2027 ble vedtatt.",
    SUPPRESSED_MARK: "Skjermet av kilden (vises ikke av personvernhensyn).",
}


@dataclass(frozen=True)
class Cell:
    """One year of one indicator, as printed, with the number behind it (for XLSX)."""

    text: str
    value: float | None = None
    status: str | None = None
    marks: tuple[str, ...] = ()

    @property
    def printed(self) -> str:
        """The text with its footnote marks."""
        return self.text + "".join(self.marks)


@dataclass(frozen=True)
class Row:
    """A delmål row, an indicator row or a placeholder row."""

    kind: str  # delmal | indicator | placeholder
    label: str
    indicator: Indicator | None = None
    cells: tuple[Cell, ...] = ()


@dataclass
class AreaTable:
    """One satsingsområde table."""

    area: str
    hovedmal: str
    years: list[int]
    rows: list[Row] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The title row, in capitals as the handlingsprogram prints it."""
        return self.area.upper()


@dataclass(frozen=True)
class ExportMeta:
    """The footer facts: when the data stood, and where it came from."""

    data_per: str  # "27.11.2026"
    sources: list[str]
    footnotes: list[str]


def as_of_vintages(vintages: list[Vintage], as_of: datetime | None) -> list[Vintage]:
    """The vintages known at `as_of` (all when None)."""
    if as_of is None:
        return list(vintages)
    return [v for v in vintages if timestamps.decode(v.retrieved_at) <= as_of]


def _cell(indicator: Indicator, year: int, known: list[Vintage]) -> Cell:
    """The newest-known value for a year (an exact "2022" or a span ending in 2022), marked if revised."""
    candidates = sorted((v for v in known if period_year(v.period) == year), key=lambda v: (v.retrieved_at, v.id))
    if not candidates:
        return Cell("")
    latest = candidates[-1]
    printed = [v for v in candidates if v.vintage == BASELINE_VINTAGE]
    marks: list[str] = []
    if printed and latest.vintage != BASELINE_VINTAGE and not _same(indicator, printed[-1], latest):
        marks.append(REVISED_MARK)
    if latest.value is not None:
        return Cell(format_value(latest.value, indicator.decimals, indicator.symbol), latest.value, latest.status, tuple(marks))
    if latest.status in (NOT_MEASURED, PENDING, NO_VALUE):
        return Cell(STATUS_WORDS[latest.status], None, latest.status, tuple(marks))
    if latest.status == ":":
        marks.append(SUPPRESSED_MARK)
    return Cell(latest.status or "", None, latest.status, tuple(marks))


def _same(indicator: Indicator, a: Vintage, b: Vintage) -> bool:
    if a.value is None or b.value is None:
        return a.value is None and b.value is None and a.status == b.status
    return round(a.value, indicator.decimals) == round(b.value, indicator.decimals)


def build_tables(
    catalogue: Catalogue, vintages: list[Vintage], years: list[int], as_of: datetime | None = None
) -> list[AreaTable]:
    """The satsingsområde tables in the handlingsprogram's layout and order."""
    known = as_of_vintages([v for v in vintages if v.region == catalogue.municipality.current_code], as_of)
    by_indicator: dict[str, list[Vintage]] = {}
    for vintage in known:
        by_indicator.setdefault(vintage.indicator_id, []).append(vintage)
    tables: dict[str, AreaTable] = {}
    last_delmal: dict[str, str] = {}

    def add(area: str, hovedmal: str, delmal: str, row: Row) -> None:
        table = tables.setdefault(area, AreaTable(area, hovedmal, years))
        if last_delmal.get(area) != delmal:
            table.rows.append(Row("delmal", delmal))
            last_delmal[area] = delmal
        table.rows.append(row)

    def add_placeholders(after: str | None, area: str) -> None:
        for placeholder in catalogue.placeholders:
            if placeholder.after == after and placeholder.area == area:
                add(area, placeholder.hovedmal, placeholder.delmal, _placeholder_row(placeholder))

    for indicator in catalogue.indicators:
        if indicator.area not in tables:
            add_placeholders(None, indicator.area)
        cells = tuple(_cell(indicator, year, by_indicator.get(indicator.id, [])) for year in years)
        add(indicator.area, indicator.hovedmal, indicator.delmal, Row("indicator", indicator.name, indicator, cells))
        add_placeholders(indicator.id, indicator.area)
    return list(tables.values())


def _placeholder_row(placeholder: Placeholder) -> Row:
    return Row("placeholder", placeholder.text)


def export_meta(catalogue: Catalogue, tables: list[AreaTable], data_per: str) -> ExportMeta:
    """The footer: data-per date, the sources of the indicators shown, the footnotes used."""
    sources = sorted({row.indicator.source.name for t in tables for row in t.rows if row.indicator is not None})
    used = {mark for t in tables for row in t.rows for cell in row.cells for mark in cell.marks}
    return ExportMeta(data_per, sources, [f"{mark} {text}" for mark, text in FOOTNOTES.items() if mark in used])
