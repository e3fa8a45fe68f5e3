"""Picks one catalogue series out of a normalised SSB dataset: region and time codes become the kommune's periods."""

from __future__ import annotations

from fetchers.jsonstat import Dataset
from fetchers.structure import require_codes
from fetchers.ssb_query import period_of
from monitor.core.fetchspec import Municipality, SsbSeries
from monitor.core.model import NO_VALUE, Point, Series


def check_structure(dataset: Dataset, table: str, series: SsbSeries) -> None:
    """Fail clearly when the response lacks a dimension or value code the series needs."""
    wanted = {dimension: series.codes(dimension) for dimension in series.select}
    wanted |= {series.region.dimension: [], series.time_dimension: []}
    require_codes(dataset, table, wanted, series.time_dimension, "verdikoden")


def extract(dataset: Dataset, table: str, series: SsbSeries, municipality: Municipality) -> Series:
    """The series' points by period, for the kommune (on today's borders, or stitched by code history).

    Where `select` lists several codes, the cells are summed; a status in any of them (suppressed,
    missing) makes the sum that status instead of a number.
    """
    check_structure(dataset, table, series)
    position = {dimension: index for index, dimension in enumerate(dataset.ids)}
    fixed = [(position[dimension], frozenset(series.codes(dimension))) for dimension in series.select]
    region_at = position[series.region.dimension]
    time_at = position[series.time_dimension]
    cells: dict[str, list[Point]] = {}
    for codes, value, status in dataset.cells():
        if any(codes[index] not in allowed for index, allowed in fixed):
            continue
        period = period_of(codes[time_at], series.period)
        if period is None or int(period) < series.first_year:
            continue
        expected = series.region.code if series.region.code else municipality.code_for(int(period))
        if codes[region_at] != expected:
            continue
        # A null with no symbol (no JSON-stat `status` at all, or none for this cell) is a missing value.
        cells.setdefault(period, []).append(Point(value, status or (NO_VALUE if value is None else None)))
    return {period: Point.total(points) for period, points in sorted(cells.items())}

