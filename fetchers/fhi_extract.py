"""Picks one catalogue series out of a normalised FHI dataset: the kommune's GEO code and the AAR periods.

FHI's json-stat2 has no time or geo role (`role.time` and `role.geo` are null), so the dimensions are found by their
ids (GEO, AAR by default; see FhiSeries). A value FHI does not show keeps FHI's symbol as its status (":" anonymised,
"." cannot be computed, ".." missing, or whatever the table's /flag lists); a null value that carries no symbol is
stored as a missing value without a symbol (NO_VALUE, shown «mangler»), as SSB's are: no symbol is invented.
Neither ever becomes 0. How FHI marks a flagged cell in json-stat2 is not
documented (fhi-udir.md §1.4, UNVERIFIED); the normaliser accepts a status as "", a string, an array or an object,
and a symbol string in place of a number.
"""

from __future__ import annotations

from fetchers.fhi_query import geo_code, period_end, period_of
from fetchers.jsonstat import Dataset
from fetchers.structure import require_codes
from monitor.core.fetchspec import FhiSeries, Municipality
from monitor.core.model import NO_VALUE, Point, Series


def check_structure(dataset: Dataset, table: str, series: FhiSeries, municipality: Municipality) -> None:
    """Fail clearly when the response lacks a dimension or category code the series needs."""
    wanted = {dimension: series.codes(dimension) for dimension in series.select}
    wanted |= {series.geo_dimension: [geo_code(series, municipality)], series.time_dimension: []}
    require_codes(dataset, table, wanted, series.time_dimension, "kategorikoden")


def extract(dataset: Dataset, table: str, series: FhiSeries, municipality: Municipality) -> Series:
    """The series' points by period ("2020", or "2018-2020" for a rolling average) for the kommune.

    Where `select` lists several codes, the cells are summed; a status in any of them makes the sum that status.
    """
    check_structure(dataset, table, series, municipality)
    position = {dimension: index for index, dimension in enumerate(dataset.ids)}
    fixed = [(position[dimension], frozenset(series.codes(dimension))) for dimension in series.select]
    geo_at, time_at = position[series.geo_dimension], position[series.time_dimension]
    geo = geo_code(series, municipality)
    cells: dict[str, list[Point]] = {}
    for codes, value, status in dataset.cells():
        if codes[geo_at] != geo or any(codes[index] not in allowed for index, allowed in fixed):
            continue
        period = period_of(codes[time_at])
        if period is None or period_end(period) < series.first_year:
            continue
        if value is None:
            cells.setdefault(period, []).append(Point(None, status or NO_VALUE))
        else:
            cells.setdefault(period, []).append(Point(value, status or None))
    return {period: Point.total(points) for period, points in sorted(cells.items())}

