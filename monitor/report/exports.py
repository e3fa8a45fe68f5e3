"""The årsrapport tables: the handlingsprogram's indicator tables rebuilt from the vintages, as of any date."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.catalogue.indicators import Catalogue, Indicator, Placeholder
from monitor.catalogue.releases import ReleaseRule, due_date, grace_end, wave_years
from monitor.evaluate.assessment import kostra_tables, release_rule
from monitor.evaluate.indicator import BASELINE_VINTAGE
from monitor.core.model import period_year
from monitor.evaluate.progress import assess_progress
from monitor.core import timestamps
from monitor.core.model import NO_VALUE, NOT_MEASURED, PENDING, STATUS_WORDS, Vintage
from monitor.core.numbers import format_value

REVISED_MARK = "¹"
SUPPRESSED_MARK = "²"
FOOTNOTES = {
    REVISED_MARK: "Revidert etter at Handlingsprogram 2024–2027 ble vedtatt.",
    SUPPRESSED_MARK: "Skjermet av kilden (vises ikke av personvernhensyn).",
}
# Why a cell has no figure: the text printed in it, and the legend printed under the tables when it is used.
NONE_EXPECTED = "–"
NOT_YET = STATUS_WORDS[PENDING]  # "Tall kommer"
MISSING = STATUS_WORDS[NO_VALUE]  # "mangler"
EMPTY_REASONS = {
    NONE_EXPECTED: "– Ingen tall ventet for dette året (kilden måler ikke hvert år, eller har ingen fast kalender).",
    NOT_YET: "Tall kommer: kilden har ikke publisert tallet for dette året ennå.",
    MISSING: "mangler: tallet skulle vært publisert, men er ikke kommet.",
}
MAX_SPAN = 20  # at most 21 years in one export


def plan_period(vintage: str = BASELINE_VINTAGE) -> tuple[int, int]:
    """The handlingsprogram's plan period from its vintage name: "Handlingsprogram 2024–2027" → (2024, 2027)."""
    match = re.search(r"(\d{4})\s*[–-]\s*(\d{4})", vintage)
    if match is None:
        raise ValueError(f"ingen planperiode i {vintage!r}")
    return int(match.group(1)), int(match.group(2))


def default_years(vintages: list[Vintage], as_of: datetime | None = None) -> tuple[int, int]:
    """The years shown when none are chosen: from the first year with a figure (or status) known at `as_of`
    to the later of the last such year and the end of the plan period, so no column is empty for no reason."""
    first_plan, last_plan = plan_period()
    years = [period_year(v.period) for v in as_of_vintages(vintages, as_of) if v.value is not None or v.status]
    last = max([*years, last_plan])
    first = min([*years, first_plan])
    return max(first, last - MAX_SPAN), last


@dataclass(frozen=True)
class Cell:
    """One year of one indicator, as printed, with the number behind it (for XLSX)."""

    text: str
    value: float | None = None
    status: str | None = None
    marks: tuple[str, ...] = ()
    reason: str | None = None  # an empty cell's reason, one of EMPTY_REASONS (its text is the reason)

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
    progress: str | None = None  # the progress word («God fremgang»), when the export has the column (issue 18)


@dataclass
class AreaTable:
    """One satsingsområde table."""

    area: str
    hovedmal: str
    years: list[int]
    rows: list[Row] = field(default_factory=list)
    progress: bool = False  # a «Fremgang» column after the years (`--progress`; off so the printed layout stays)

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
    exported: str | None = None  # "27.11.2026 kl. 09:00", printed in the XLSX page footer


def as_of_vintages(vintages: list[Vintage], as_of: datetime | None) -> list[Vintage]:
    """The vintages known at `as_of` (all when None)."""
    if as_of is None:
        return list(vintages)
    return [v for v in vintages if timestamps.decode(v.retrieved_at) <= as_of]


def empty_reason(indicator: Indicator, rule: ReleaseRule, year: int, held_years: list[int], day: date) -> str:
    """Why `year` has no figure on `day`: none expected (no calendar, or not a survey year), not yet due
    (before the release date and its grace period), or missing (past both)."""
    lag = indicator.lag or 0
    if rule.kind == "none":
        return NONE_EXPECTED
    if rule.kind == "waves":
        waves = wave_years(rule, indicator.frequency, held_years)
        if waves is None:  # no survey year known yet: only a future release can be awaited
            return NOT_YET if due_date(rule, year, lag) > day else NONE_EXPECTED
        anchor, every = waves
        if (year - anchor) % every:
            return NONE_EXPECTED
    return NOT_YET if day <= grace_end(rule, year, lag) else MISSING


def _cell(indicator: Indicator, year: int, known: list[Vintage], reason: str | None = None) -> Cell:
    """The newest-known value for a year (an exact "2022" or a span ending in 2022), marked if revised;
    with no vintage, the empty cell's reason (when given)."""
    candidates = sorted((v for v in known if period_year(v.period) == year), key=lambda v: (v.retrieved_at, v.id))
    if not candidates:
        return Cell(reason or "", reason=reason)
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
    catalogue: Catalogue, vintages: list[Vintage], years: list[int], as_of: datetime | None = None,
    day: date | None = None, progress: bool = False,
) -> list[AreaTable]:
    """The satsingsområde tables in the handlingsprogram's layout and order. With `day` (the "data per" day), an
    empty cell says why it is empty (EMPTY_REASONS); without, it stays blank. With `progress`, each indicator row
    also has its progress word, from the vintages known at `as_of` (monitor/evaluate/progress.py)."""
    known = as_of_vintages([v for v in vintages if v.region == catalogue.municipality.current_code], as_of)
    by_indicator: dict[str, list[Vintage]] = {}
    for vintage in known:
        by_indicator.setdefault(vintage.indicator_id, []).append(vintage)
    tables: dict[str, AreaTable] = {}
    last_delmal: dict[str, str] = {}

    def add(area: str, hovedmal: str, delmal: str, row: Row) -> None:
        table = tables.setdefault(area, AreaTable(area, hovedmal, years, progress=progress))
        if last_delmal.get(area) != delmal:
            table.rows.append(Row("delmal", delmal))
            last_delmal[area] = delmal
        table.rows.append(row)

    def add_placeholders(after: str | None, area: str) -> None:
        for placeholder in catalogue.placeholders:
            if placeholder.after == after and placeholder.area == area:
                add(area, placeholder.hovedmal, placeholder.delmal, _placeholder_row(placeholder))

    kostra = kostra_tables(catalogue)
    for indicator in catalogue.indicators:
        if indicator.area not in tables:
            add_placeholders(None, indicator.area)
        own = by_indicator.get(indicator.id, [])
        rule = release_rule(catalogue, indicator, kostra)
        held = sorted({period_year(v.period) for v in own if v.value is not None})
        cells = tuple(
            _cell(indicator, year, own, empty_reason(indicator, rule, year, held, day) if day else None) for year in years
        )
        word = assess_progress(indicator, own).label if progress else None
        add(indicator.area, indicator.hovedmal, indicator.delmal, Row("indicator", indicator.name, indicator, cells, word))
        add_placeholders(indicator.id, indicator.area)
    return list(tables.values())


def _placeholder_row(placeholder: Placeholder) -> Row:
    return Row("placeholder", placeholder.text)


def table_sources(table: AreaTable) -> list[str]:
    """The sources of one table's indicators, sorted."""
    return sorted({row.indicator.source.name for row in table.rows if row.indicator is not None})


def table_notes(table: AreaTable) -> list[str]:
    """The footnotes and empty-cell reasons one table uses, in the order `export_meta` prints them."""
    cells = [cell for row in table.rows for cell in row.cells]
    used = {mark for cell in cells for mark in cell.marks} | {cell.reason for cell in cells if cell.reason}
    return [f"{mark} {text}" for mark, text in FOOTNOTES.items() if mark in used] + [
        text for reason, text in EMPTY_REASONS.items() if reason in used
    ]


def export_meta(catalogue: Catalogue, tables: list[AreaTable], data_per: str, exported: str | None = None) -> ExportMeta:
    """The footer: data-per date, the sources of the indicators shown, the footnotes and empty-cell reasons used."""
    sources = sorted({name for table in tables for name in table_sources(table)})
    used = {note for table in tables for note in table_notes(table)}
    notes = [f"{mark} {text}" for mark, text in FOOTNOTES.items()] + list(EMPTY_REASONS.values())
    return ExportMeta(data_per, sources, [note for note in notes if note in used], exported)
