"""What the KOSTRA pages show: per tjenesteområde, Asker against its peers with rank, colouring and freshness.

Reads the KOSTRA series from the store, builds the handlingsprogram's table for the year (monitor.report.kostra_export,
the same cells as the export) and adds per row Asker's rank among the peer kommuner, the freshness of Asker's
figure, where it came from, the last fetch error of its SSB table and a link to the table at SSB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from monitor.evaluate.failures import failure_sentence
from monitor.seed.baseline import BASELINE_VINTAGE
from monitor.catalogue.kostra import KOSTRA_SOURCE, Area, KostraCatalogue, Row
from monitor.evaluate.kostra import PeerRank, RowFreshness, rank_among, row_freshness
from monitor.report.kostra_export import NOMINAL_MARK, KostraCell, build_kostra_tables, default_year, kostra_vintages
from monitor.core import timestamps
from monitor.core.model import Vintage
from monitor.sources.registry import SOURCES
from monitor.report.readmodel import area_slug
from monitor.store.database import Store


@dataclass(frozen=True)
class KostraRowView:
    """One key-figure row as the page shows it."""

    row: Row
    cells: tuple[KostraCell, ...]
    rank: PeerRank
    freshness: RowFreshness
    home_origin: str  # where Asker's figure for the year comes from, in words
    table_url: str | None  # the SSB table, None for a row without an SSB series
    fetch_error: str | None  # the last fetch of its table failed: in words (monitor/evaluate/failures.py)

    @property
    def kind(self) -> str:
        return "row"


@dataclass(frozen=True)
class KostraCategoryView:
    """A category row (Prioritet, Produktivitet …)."""

    label: str

    @property
    def kind(self) -> str:
        return "category"


@dataclass
class KostraAreaPage:
    """One tjenesteområde's page."""

    area: Area
    slug: str
    year: int
    years: list[int]
    headings: list[str]
    home_column: int  # index of the column with Asker in the page's year (coloured by rank)
    lines: list[KostraRowView | KostraCategoryView] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    areas: list[tuple[str, str]] = field(default_factory=list)  # (slug, name) of every tjenesteområde

    @property
    def rows(self) -> list[KostraRowView]:
        return [line for line in self.lines if isinstance(line, KostraRowView)]

    @property
    def problems(self) -> list[str]:
        """The failing fetches of the page's SSB tables in words, each once (issue 17: not once per row)."""
        return list(dict.fromkeys(row.fetch_error for row in self.rows if row.fetch_error))

    def count(self, attribute: str, value: str) -> int:
        """How many rows have freshness.state or rank.standing equal to `value`."""
        return sum(1 for row in self.rows if _state(row, attribute) == value)


def _state(row: KostraRowView, attribute: str) -> str:
    return row.freshness.state if attribute == "freshness" else row.rank.standing


@dataclass(frozen=True)
class KostraAreaSummary:
    """One line of the KOSTRA index page."""

    slug: str
    name: str
    rows: int
    counts: dict[str, int]  # freshness state → rows
    standings: dict[str, int]  # standing → rows


def area_for_slug(kostra: KostraCatalogue, slug: str) -> Area | None:
    """The tjenesteområde with this URL slug."""
    return next((area for area in kostra.areas if area_slug(area.name) == slug), None)


def available_years(kostra: KostraCatalogue, vintages: list[Vintage]) -> list[int]:
    """The years with any figure for Asker, newest first."""
    home = kostra.region(kostra.columns[0].region).store_code
    return sorted({int(v.period[-4:]) for v in vintages if v.region == home}, reverse=True)


def kostra_pages(
    kostra: KostraCatalogue, store: Store, now: datetime, year: int | None = None, vintages: list[Vintage] | None = None,
) -> list[KostraAreaPage]:
    """Every tjenesteområde's page for `year` (default: the newest year with figures for Asker)."""
    vintages = kostra_vintages(kostra, store) if vintages is None else vintages
    chosen = year if year is not None else default_year(kostra, vintages)
    failures = _table_failures(kostra, store)
    by_key = _index(vintages)
    years = available_years(kostra, vintages) or [kostra.layout_year]
    areas = [(area_slug(a.name), a.name) for a in kostra.areas]
    pages: list[KostraAreaPage] = []
    for area, table in zip(kostra.areas, build_kostra_tables(kostra, vintages, chosen)):
        page = KostraAreaPage(area, area_slug(area.name), chosen, years, table.headings, _home_column(kostra),
                              footnotes=table.footnotes, areas=areas)
        for line in table.lines:
            if line.kind == "category" or line.row is None:
                page.lines.append(KostraCategoryView(line.label))
            else:
                page.lines.append(_row_view(kostra, line.row, line.cells, by_key, failures, chosen, now.date()))
        pages.append(page)
    return pages


def kostra_summaries(pages: list[KostraAreaPage]) -> list[KostraAreaSummary]:
    """One summary per tjenesteområde for the index page: rows per freshness state and per standing."""
    summaries: list[KostraAreaSummary] = []
    for page in pages:
        counts: dict[str, int] = {}
        standings: dict[str, int] = {}
        for row in page.rows:
            counts[row.freshness.state] = counts.get(row.freshness.state, 0) + 1
            standings[row.rank.category] = standings.get(row.rank.category, 0) + 1  # the area page's rule
        summaries.append(KostraAreaSummary(page.slug, page.area.name, len(page.rows), counts, standings))
    return summaries


def _home_column(kostra: KostraCatalogue) -> int:
    home = kostra.columns[0].region
    return next(i for i, column in enumerate(kostra.columns) if column.region == home and column.offset == 0)


def _index(vintages: list[Vintage]) -> dict[tuple[str, str], list[Vintage]]:
    by_key: dict[tuple[str, str], list[Vintage]] = {}
    for vintage in vintages:
        by_key.setdefault((vintage.indicator_id, vintage.region), []).append(vintage)
    return by_key


def _table_failures(kostra: KostraCatalogue, store: Store) -> dict[str, str]:
    """SSB table → its newest KOSTRA fetch's failure in words, for tables whose newest fetch failed (the raw error
    stays in the run log, on /kilder)."""
    failures: dict[str, str] = {}
    for table in sorted({series.table for _, series in kostra.fetched_series}):
        run: dict[str, Any] | None = store.last_run(KOSTRA_SOURCE, table, ("ok", "unchanged", "failed"))
        if run is not None and run["outcome"] == "failed":
            failures[table] = failure_sentence("SSB", run.get("error"), store.failing_since(KOSTRA_SOURCE, table))
    return failures


def _row_view(
    kostra: KostraCatalogue, row: Row, cells: tuple[KostraCell, ...], by_key: dict[tuple[str, str], list[Vintage]],
    failures: dict[str, str], year: int, today: date,
) -> KostraRowView:
    home_index = _home_column(kostra)
    home_cell = cells[home_index]
    nominal = NOMINAL_MARK in home_cell.marks
    peers: dict[str, float | None] = {}
    for column, cell in zip(kostra.columns, cells):
        region = kostra.region(column.region)
        if region.kind != "kommune" or column.region == kostra.columns[home_index].region or column.offset != 0:
            continue
        # Compare like with like: a printed (deflated, need-adjusted) figure never against SSB's nominal one.
        comparable = cell.value is not None and (NOMINAL_MARK in cell.marks) == nominal
        peers[region.name] = cell.value if comparable else None
    rank = rank_among(home_cell.value, peers, row.direction, row.decimals)
    home = kostra.region(kostra.columns[home_index].region).store_code
    held = by_key.get((row.series_id, home), []) + (
        by_key.get((row.fetched_series_id, home), []) if row.fetched_series_id != row.series_id else []
    )  # a nominal figure also shows that SSB has published the year
    newest = max((int(v.period[-4:]) for v in held if v.value is not None or v.status), default=None)
    table = row.ssb.table if row.ssb is not None else None
    error = failures.get(table) if table is not None else None
    freshness = row_freshness(newest, fetched=row.ssb is not None, failing=error is not None, today=today)
    printed = by_key.get((row.series_id, home), [])
    nominal_held = by_key.get((row.fetched_series_id, home), []) if row.fetched_series_id != row.series_id else []
    origin = _origin(printed, year, table) or _origin(nominal_held, year, table, " (nominelt)")
    return KostraRowView(
        row, cells, rank, freshness, origin or "Ingen tall for Asker dette året.",
        SOURCES["ssb-kostra"].link(table) if table else None, error,
    )


def _origin(held: list[Vintage], year: int, table: str | None, suffix: str = "") -> str | None:
    """Where the newest vintage for `year` came from (the cell shows the same one); None when there is none."""
    candidates = sorted((v for v in held if v.period.endswith(str(year))), key=lambda v: (v.retrieved_at, v.id))
    if not candidates:
        return None
    latest = candidates[-1]
    if latest.vintage == BASELINE_VINTAGE:
        return "Trykt i handlingsprogrammet."
    stamp = timestamps.decode(latest.retrieved_at).strftime("%d.%m.%Y")
    if latest.source.startswith("import"):
        return f"Importert {stamp}."
    where = f"SSB tabell {table}" if table else latest.source
    return f"{where}{suffix}, hentet {stamp}."


def kostra_json(kostra: KostraCatalogue, pages: list[KostraAreaPage], now: datetime) -> dict[str, Any]:
    """/api/kostra: every tjenesteområde's rows for the pages' year, with cells, rank, freshness and origin."""
    chosen = pages[0].year if pages else kostra.layout_year
    columns = [{"region": column.region, "name": kostra.region(column.region).name, "year": chosen + column.offset}
               for column in kostra.columns]
    areas = [{"name": page.area.name, "slug": page.slug, "rows": [_row_json(row, columns) for row in page.rows]}
             for page in pages]
    return {"as_of": now.isoformat(timespec="seconds"), "year": chosen, "columns": columns, "areas": areas}


def _row_json(view: KostraRowView, columns: list[dict[str, Any]]) -> dict[str, Any]:
    row = view.row
    return {
        "id": row.id, "name": row.name, "category": row.category.value, "unit": row.unit.value,
        "direction": row.direction.value, "deflated": row.deflated, "need_adjusted": row.need_adjusted,
        "indicator": row.indicator, "ssb_table": row.ssb.table if row.ssb else None, "not_fetched": row.not_fetched,
        "cells": [
            {"region": column["region"], "year": column["year"], "value": cell.value, "text": cell.text,
             "marks": list(cell.marks)}
            for column, cell in zip(columns, view.cells)
        ],
        "rank": {"position": view.rank.position, "of": view.rank.of, "tied": view.rank.tied,
                 "by_size": view.rank.by_size, "standing": view.rank.standing, "missing": list(view.rank.missing)},
        "freshness": {"state": view.freshness.state, "newest_year": view.freshness.newest_year,
                      "expected_year": view.freshness.expected_year, "next_due": view.freshness.due_from.isoformat(),
                      "fetch_error": view.fetch_error},
        "origin": view.home_origin,
    }


def rows_about(pages: list[KostraAreaPage], indicator_id: str) -> list[tuple[KostraAreaPage, KostraRowView]]:
    """The KOSTRA rows that name `indicator_id` as the indicator on their subject, with their page."""
    return [(page, row) for page in pages for row in page.rows if row.row.indicator == indicator_id]
