"""What an indicator's own page shows: its evaluation, every vintage, its source and its fetch history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.evaluate.assessment import evaluate_all
from monitor.catalogue.indicators import Catalogue, FhiFetch, Indicator, UdirFetch
from monitor.evaluate.indicator import BASELINE_VINTAGE, period_year, show
from monitor.core.model import TableMeta, Vintage
from monitor.report.readmodel import SOURCE_WORDS, IndicatorLine, SeriesPoint, area_slug, indicator_line
from monitor.report.status import describe_status
from monitor.sources.registry import SOURCES
from monitor.store.database import Store

FREQUENCY_WORDS = {
    "annual": "Årlig", "biennial": "Hvert andre år", "triennial": "Hvert tredje år", "quadrennial": "Hvert fjerde år",
    "sporadic": "Sporadisk", "unknown": "Ukjent",
}
DIRECTION_WORDS = {"higher_is_better": "Høyere er bedre", "lower_is_better": "Lavere er bedre", "none": "Ingen retning"}
OUTCOME_WORDS = {"ok": "nye tall", "unchanged": "uendret", "failed": "feilet"}
SOURCE_PAGES = {
    "fhi": ("FHI Statistikk", "https://statistikk.fhi.no/"),
    "udir": ("Udirs statistikkbank", "https://www.udir.no/tall-og-forskning/statistikk/"),
}


@dataclass(frozen=True)
class VintageRow:
    """One stored vintage, as the value table shows it."""

    period: str
    value_text: str  # the number with its unit, or the status in words
    status: str | None  # the status symbol or code as stored
    source: str
    vintage: str | None
    retrieved_at: str  # UTC ISO
    current: bool  # the latest vintage of its period
    printed: bool  # the handlingsprogram's printed value


@dataclass(frozen=True)
class SourceTable:
    """A table the indicator is fetched from, with what the source says about it."""

    source: str
    table: str
    url: str | None
    meta: TableMeta | None


@dataclass(frozen=True)
class IndicatorPage:
    """Everything on /indikator/<id>."""

    line: IndicatorLine
    points: list[SeriesPoint]  # the latest number per period
    printed: list[SeriesPoint]  # the handlingsprogram's printed numbers
    vintages: list[VintageRow]
    tables: list[SourceTable]
    source_label: str
    source_page: tuple[str, str] | None  # (label, url) for FHI and Udir
    runs: list[dict[str, Any]]  # fetch_runs rows, newest first
    last_import: str | None  # UTC ISO of the newest import that wrote a vintage (for imported indicators)
    frequency: str
    direction: str

    @property
    def indicator(self) -> Indicator:
        return self.line.indicator

    @property
    def area_slug(self) -> str:
        return area_slug(self.indicator.area)

    @property
    def chart_rows(self) -> list[tuple[str, str | None, str | None]]:
        """The chart's numbers as table rows: (period, current value, printed value), oldest first."""
        current = {p.period: p.text for p in self.points}
        printed = {p.period: p.text for p in self.printed}
        periods = sorted(set(current) | set(printed), key=lambda p: (period_year(p), p))
        return [(p, current.get(p), printed.get(p)) for p in periods]


def fetch_tables(indicator: Indicator) -> list[str]:
    """The tables (or FHI "source/table", Udir export ids) an indicator is fetched from, sorted."""
    if indicator.fetch is None:
        return []
    return sorted({series.table for series in indicator.fetch.series.values()})


def vintage_rows(indicator: Indicator, vintages: list[Vintage]) -> list[VintageRow]:
    """Every vintage, newest period first, each period's vintages in the order they became known."""
    ordered = sorted(vintages, key=lambda v: (v.retrieved_at, v.id))
    latest = {v.period: v.id for v in ordered}
    rows = [
        VintageRow(
            period=v.period,
            value_text=show(indicator, v.value) if v.value is not None
            else describe_status(v.status or ""),
            status=v.status, source=v.source, vintage=v.vintage, retrieved_at=v.retrieved_at,
            current=latest[v.period] == v.id, printed=v.vintage == BASELINE_VINTAGE,
        )
        for v in ordered
    ]
    return sorted(rows, key=lambda row: -period_year(row.period))  # stable: within a period, oldest first


def indicator_page(catalogue: Catalogue, store: Store, indicator_id: str, now: datetime) -> IndicatorPage | None:
    """The page of one indicator, or None when the catalogue has no active indicator with that id."""
    indicator = catalogue.by_id.get(indicator_id)
    if indicator is None:
        return None
    zone = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Oslo")
    evaluation = next(e for e in evaluate_all(catalogue, store, now.date(), now, zone) if e.id == indicator.id)
    region = catalogue.municipality.current_code
    vintages = [v for v in store.vintages(indicator.id) if v.region == region]
    line = indicator_line(indicator, evaluation, vintages)
    source = indicator.fetch.kind if indicator.fetch is not None else None
    tables = fetch_tables(indicator)
    known = store.table_meta(source) if source is not None else {}
    runs = store.runs_touching(source, tables, indicator.id)
    imports = [run["finished_at"] for run in runs if run["source"] != source and run["source"] != "baseline"]
    printed = [
        SeriesPoint(v.period, v.value, show(indicator, v.value))
        for v in sorted(vintages, key=lambda v: period_year(v.period))
        if v.vintage == BASELINE_VINTAGE and v.value is not None
    ]
    page_source = source if isinstance(indicator.fetch, (FhiFetch, UdirFetch)) else None
    return IndicatorPage(
        line=line, points=line.points, printed=printed, vintages=vintage_rows(indicator, vintages),
        tables=[SourceTable(source, t, SOURCES[source].link(t) if source in SOURCES else None, known.get(t)) for t in tables if source is not None],
        source_label=SOURCE_WORDS[indicator.source.kind],
        source_page=SOURCE_PAGES.get(page_source) if page_source else None,
        runs=runs, last_import=max(imports) if imports else None,
        frequency=FREQUENCY_WORDS[indicator.frequency.value], direction=DIRECTION_WORDS[indicator.direction.value],
    )
