"""KOSTRA peer queries: one PxWebApi v2 selection per table for every KOSTRA row, every region and every year.

A KOSTRA row is an `SsbSeries` on a KOSTRA table (region dimension KOKkommuneregion0000). Where the indicator
catalogue asks for one kommune, the peer comparison asks for all regions at once: Asker, Bærum, Drammen and
Lillestrøm with their code histories, and KOSTRA-gruppe 12. The region dimension holds current and historical codes
side by side, so each region's codes are asked for and each year keeps the value of the code valid that year; the
points are returned under the region's store code (its current code).

The regions come in as plain `RegionHistory` values (fetchers import nothing of the KOSTRA catalogue); the
composition root builds them from kostra.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fetchers.jsonstat import Dataset
from fetchers.ssb_extract import check_structure
from fetchers.meaning import dataset_label_of, dataset_unit_of, require_meaning
from fetchers.ssb_query import Selection, agreed, ordered_selection, period_of, series_meaning_problems, time_codes
from monitor.core.fetchspec import SsbSeries
from monitor.core.model import Point, Series


@dataclass(frozen=True)
class RegionHistory:
    """A region's codes in the KOSTRA region dimension: (code, first year or None, last year or None), in order."""

    store_code: str
    codes: tuple[tuple[str, int | None, int | None], ...]

    def code_for(self, year: int) -> str | None:
        """The code valid in `year`, or None."""
        for code, first, last in self.codes:
            if (first is None or first <= year) and (last is None or year <= last):
                return code
        return None

    def codes_from(self, first_year: int) -> list[str]:
        """The codes valid in any year from `first_year` on."""
        return [code for code, _, last in self.codes if last is None or last >= first_year]


def build_kostra_selections(
    series: Sequence[SsbSeries],
    regions: Sequence[RegionHistory],
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Selection]:
    """One selection per table: every region's codes, the union of the rows' value codes, and the years.

    With a table's metadata the time codes are explicit and dimensions and codes follow the table's order (as
    `build_selections` does for the indicator catalogue). Raises ValueError when the rows of a table disagree on
    what one query cannot hold (region or time dimension, period map) or use a codelist.
    """
    grouped: dict[str, list[SsbSeries]] = {}
    for item in series:
        grouped.setdefault(item.table, []).append(item)
    return {
        table: _selection(table, members, regions, (metadata or {}).get(table))
        for table, members in sorted(grouped.items())
    }


def _selection(
    table: str, members: list[SsbSeries], regions: Sequence[RegionHistory], meta: Mapping[str, Any] | None
) -> Selection:
    region_dimension = agreed(table, "KOSTRA-radene", "regiondimensjonen", {s.region.dimension for s in members})
    time_dimension = agreed(table, "KOSTRA-radene", "tidsdimensjonen", {s.time_dimension for s in members})
    if any(s.region.codelist is not None or s.codelists for s in members):
        raise ValueError(f"tabell {table}: KOSTRA-rader bruker ikke kodelister")
    first_year = min(s.first_year for s in members)
    values: dict[str, list[str]] = {region_dimension: []}
    for region in regions:
        for code in region.codes_from(first_year):
            if code not in values[region_dimension]:
                values[region_dimension].append(code)
    for item in members:
        for dimension in item.select:
            chosen = values.setdefault(dimension, [])
            for code in item.codes(dimension):
                if code not in chosen:
                    chosen.append(code)
    values[time_dimension] = time_codes(table, members, time_dimension, meta)
    return ordered_selection(table, values, time_dimension, region_dimension, meta)


def extract_regions(
    dataset: Dataset, table: str, series: SsbSeries, regions: Sequence[RegionHistory], owner: str | None = None
) -> dict[str, Series]:
    """The series' points per region store code, each year from the code valid that year.

    Public code disagrees on whether KOSTRA tables keep a merged kommune's figures under its old code or move them
    to the current one (ssb-tables.md §0.3), so where the code valid in a year has no figure, the current code's
    figure for that year is taken instead. A region with no cell for a year has no point; a list of codes in
    `select` is summed, and a status in any summed cell makes the sum that status. A labelled code that means
    something else in the response, or a ContentsCode in another unit, fails the table (FetchError naming `owner`,
    the row).
    """
    check_structure(dataset, table, series)
    require_meaning(table, owner, series_meaning_problems(series, dataset_label_of(dataset), dataset_unit_of(dataset)))
    position = {dimension: index for index, dimension in enumerate(dataset.ids)}
    fixed = [(position[dimension], frozenset(series.codes(dimension))) for dimension in series.select]
    region_at = position[series.region.dimension]
    time_at = position[series.time_dimension]
    owners: dict[str, list[RegionHistory]] = {}
    for region in regions:
        for code, _, _ in region.codes:
            owners.setdefault(code, []).append(region)
    found: dict[tuple[str, str], dict[str, list[Point]]] = {}  # (store code, period) → code → points
    for codes, value, status in dataset.cells():
        if codes[region_at] not in owners or any(codes[index] not in allowed for index, allowed in fixed):
            continue
        period = period_of(codes[time_at], series.period)
        if period is None or int(period) < series.first_year:
            continue
        for region in owners[codes[region_at]]:
            found.setdefault((region.store_code, period), {}).setdefault(codes[region_at], []).append(
                Point(value, status or None)
            )
    result: dict[str, Series] = {region.store_code: {} for region in regions}
    for region in regions:
        periods = sorted(period for store, period in found if store == region.store_code)
        for period in periods:
            by_code = {code: Point.total(points) for code, points in found[(region.store_code, period)].items()}
            preferred = [code for code in (region.code_for(int(period)), region.store_code) if code in by_code]
            numbers = [code for code in preferred if by_code[code].value is not None]
            chosen = numbers[0] if numbers else (preferred[0] if preferred else None)
            if chosen is not None:
                result[region.store_code][period] = by_code[chosen]
    return result

