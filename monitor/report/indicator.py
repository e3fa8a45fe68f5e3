"""What an indicator's own page shows: its evaluation, every vintage, its source and its fetch history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.evaluate.failures import failure_sentence
from monitor.evaluate.assessment import evaluate_all
from monitor.catalogue.indicators import Catalogue, FhiFetch, Indicator, TrajectoryTarget, UdirFetch
from monitor.evaluate.indicator import BASELINE_VINTAGE, short_label, show, show_target
from monitor.core.model import period_year
from monitor.evaluate.progress import Progress
from monitor.core.model import TableMeta, Vintage, control_key
from monitor.core.numbers import format_value
from monitor.report.controls import ControlFigures, control_figures
from monitor.report.readmodel import SOURCE_WORDS, IndicatorLine, SeriesPoint, area_slug, indicator_line
from monitor.report.status import describe_status
from monitor.sources.registry import SOURCES, label
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

    @property
    def status_words(self) -> str | None:
        """The status in bokmål, never the stored code ("not_measured")."""
        return describe_status(self.status) if self.status else None

    @property
    def source_words(self) -> str:
        return source_words(self.source)


def source_words(key: str) -> str:
    """A run log or vintage source in words: "baseline" is the printed handlingsprogram (issue 17)."""
    return "Handlingsprogrammet (trykt)" if key == "baseline" else label(key)


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
    control: ControlFigures | None = None  # the control figure beside the value (issue 20), when the catalogue has one

    @property
    def indicator(self) -> Indicator:
        return self.line.indicator

    @property
    def short_name(self) -> str:
        """The indicator's name without its trailing parenthesis, for the breadcrumbs (not its id)."""
        return short_label(self.indicator)

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

    @property
    def progress(self) -> Progress | None:
        """The progress towards the target (issue 18)."""
        return self.line.evaluation.progress

    @property
    def missing_base_year(self) -> int | None:
        """The year a trajectory target is counted from, when its value is neither in the catalogue nor stored
        (the climate target's 2009 emissions): the progress cannot be judged until it is there."""
        target, progress = self.indicator.target, self.progress
        if isinstance(target, TrajectoryTarget) and progress is not None and progress.target_value is None:
            return target.base_year
        return None

    def _trend_at(self, year: int) -> float | None:
        progress = self.progress
        if progress is None or progress.projection is None or progress.pace is None:
            return None
        return progress.projection.value + progress.pace * (year - progress.projection.year)

    @property
    def progress_facts(self) -> list[tuple[str, str]]:
        """(term, description) pairs under the progress explanation: the pace, the pace needed, the projection."""
        progress = self.progress
        if progress is None:
            return []
        facts = [("Målt fra", str(progress.base_year))]
        if progress.pace is not None and progress.points:
            first, last = progress.points[0].year, progress.points[-1].year
            facts.append(("Tempo (Theil–Sen)", f"{_per_year(self.indicator, progress.pace)} i året ({first}–{last})"))
        if progress.required_pace is not None:
            facts.append(("Nødvendig tempo", f"{_per_year(self.indicator, progress.required_pace)} i året"))
        if progress.target_value is not None and progress.target_year is not None:
            facts.append((f"Mål i {progress.target_year}", goal_text(self.indicator, progress.target_value)))
        if progress.projection is not None:
            facts.append((f"Framskrevet {progress.projection.year}", show(self.indicator, progress.projection.value)))
        return facts

    @property
    def projection_text(self) -> str | None:
        """The chart's projection in words, for its text alternative."""
        progress = self.progress
        if progress is None or progress.projection is None or not progress.points:
            return None
        first, last = progress.points[0].year, progress.points[-1].year
        text = (f"Trendlinjen (Theil–Sen) for {first}–{last} er framskrevet til {progress.projection.year}: "
                f"{show(self.indicator, progress.projection.value)} (framskriving, ikke et målt tall).")
        if progress.target_value is not None and progress.target_year is not None:
            text += f" Mål i {progress.target_year}: {goal_text(self.indicator, progress.target_value)}."
        return text

    @property
    def table_rows(self) -> list[tuple[str, str | None, str | None, str | None]]:
        """The chart's numbers with the trend line: (period, current, printed, trend line), oldest first; the
        trend is given for the points it was fitted on and, as a row of its own when it lies beyond them, at Y."""
        progress = self.progress
        used = {p.period for p in progress.points} if progress is not None else set()
        rows: list[tuple[str, str | None, str | None, str | None]] = []
        for period, current, printed in self.chart_rows:
            trend = self._trend_at(period_year(period)) if period in used else None
            rows.append((period, current, printed, show(self.indicator, trend) if trend is not None else None))
        if progress is not None and progress.projection is not None:
            projection = progress.projection
            text = show(self.indicator, projection.value)
            at = next((i for i, row in enumerate(rows) if period_year(row[0]) == projection.year), None)
            if at is None:  # in year order (after the data, unless Y falls between two periods)
                where = next((i for i, row in enumerate(rows) if period_year(row[0]) > projection.year), len(rows))
                rows.insert(where, (f"{projection.year} (framskrevet)", None, None, text))
            else:
                period, current, printed, _ = rows[at]
                rows[at] = (period, current, printed, text)
        return rows


def goal_text(indicator: Indicator, level: float) -> str:
    """A target level as the catalogue writes it ("3 %", "1,75 %"); a computed one (a trajectory's) with the
    indicator's decimals."""
    return show(indicator, level) if isinstance(indicator.target, TrajectoryTarget) else show_target(indicator, level)


def _per_year(indicator: Indicator, pace: float) -> str:
    """A change per year with its unit (a change in a percentage in prosentpoeng) and a typographic minus;
    more decimals (up to 3) where the indicator's would show a pace that is not 0 as 0."""
    decimals = indicator.decimals
    while decimals < 3 and pace != 0 and abs(pace) < 0.5 * 10 ** -decimals:
        decimals += 1
    unit = "prosentpoeng" if indicator.symbol == "%" else indicator.symbol
    text = format_value(pace, decimals, unit)
    return "\u2212" + text[1:] if text.startswith("-") else text


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
    runs = [  # the failure in words (issue 17); the raw error stays in the run log on /kilder
        dict(run, error_words=failure_sentence(label(run["source"]), run["error"]) if run["outcome"] == "failed" else None,
             source_words=source_words(run["source"]))
        for run in store.runs_touching(source, tables, indicator.id)
    ]
    imports = [run["finished_at"] for run in runs if run["source"] != source and run["source"] != "baseline"]
    control = control_figures(catalogue, store, indicator, vintages)
    if control is not None:  # the control tables' runs too (a failure there is a note, not the value's failure)
        known_runs = {run["id"] for run in runs}
        runs += [
            dict(run, error_words=failure_sentence(label(run["source"]), run["error"]) if run["outcome"] == "failed" else None,
                 source_words=source_words(run["source"]))
            for run in store.runs_touching(control.source, control.tables, control_key(indicator.id))
            if run["id"] not in known_runs
        ]
        runs.sort(key=lambda run: -run["id"])
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
        control=control,
    )
