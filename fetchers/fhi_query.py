"""The catalogue's FHI fetch blocks as FHI Statistikk data requests, and the checks against a table's dimensions.

`build_requests` turns every FHI `fetch` series into one data request per table (the union of what the series need):
the kommune's GEO code as `item`, every period (`all` ["*"]; KHS republishes whole series, so the whole series is read
each time) and the series' category codes as `item` for every other dimension. FHI wants every dimension of a table
in the request (a third-party note measured HTTP 400 otherwise, fhi-udir.md §1.3), so the catalogue names them all;
`check_series_against_dimensions` says what a series lacks or asks for that the table's `/dimension` does not have.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fetchers.fhi import data_request
from fetchers.meaning import LabelOf, meaning_problems
from monitor.core.fetchspec import CatalogueView, FhiFetch, FhiSeries, Municipality

_PERIOD = re.compile(r"^(\d{4})_(\d{4})$")


def period_of(code: str) -> str | None:
    """The period an FHI AAR code stands for: "2020_2020" → "2020", "2018_2020" → "2018-2020"; None if not a period.

    School years such as "2021_2022" (FHI's form of Udir's "2021-22") come out as "2021-2022" as well.
    """
    match = _PERIOD.match(code)
    if match is None or match[1] > match[2]:
        return None
    return match[1] if match[1] == match[2] else f"{match[1]}-{match[2]}"


def period_end(period: str) -> int:
    """The last year a period covers ("2018-2020" → 2020, "2020" → 2020)."""
    return int(period[-4:])


def geo_code(series: FhiSeries, municipality: Municipality) -> str:
    """The GEO code a series reads: its own, or the kommune's current code (FHI recodes history to today's codes)."""
    return series.geo_code or municipality.current_code


def fhi_series(catalogue: CatalogueView) -> Iterator[tuple[str, str, FhiSeries]]:
    """(indicator id, series name, series) for every FHI series of the catalogue."""
    for indicator in catalogue.indicators:
        if isinstance(indicator.fetch, FhiFetch):
            for name, series in indicator.fetch.series.items():
                yield indicator.id, name, series


def build_requests(catalogue: CatalogueView) -> dict[str, dict[str, Any]]:
    """One data request body per FHI table ("nokkel/369" → body), covering every series that reads the table."""
    wanted: dict[str, dict[str, list[str]]] = {}
    order: dict[str, list[str]] = {}
    for _, _, series in fhi_series(catalogue):
        chosen = wanted.setdefault(series.table, {})
        dims = order.setdefault(series.table, [])

        def add(dimension: str, codes: list[str], chosen: dict[str, list[str]] = chosen, dims: list[str] = dims) -> None:
            if dimension not in chosen:
                chosen[dimension] = []
                dims.append(dimension)
            chosen[dimension] += [code for code in codes if code not in chosen[dimension]]

        add(series.geo_dimension, [geo_code(series, catalogue.municipality)])
        add(series.time_dimension, [])
        for dimension in series.select:
            add(dimension, series.codes(dimension))
    requests: dict[str, dict[str, Any]] = {}
    for table, codes in wanted.items():
        time_dimensions = {s.time_dimension for _, _, s in fhi_series(catalogue) if s.table == table}
        requests[table] = data_request([
            (dimension, "all", ["*"]) if dimension in time_dimensions else (dimension, "item", codes[dimension])
            for dimension in order[table]
        ])
    return requests


def category_values(dimension: dict[str, Any]) -> list[str]:
    """Every category code of a `/dimension` entry, children (fylke → kommune → bydel) included, in tree order."""
    found: list[str] = []

    def walk(categories: Any) -> None:
        for category in categories or []:
            if isinstance(category, dict):
                if category.get("value") is not None:
                    found.append(str(category["value"]))
                walk(category.get("children"))

    walk(dimension.get("categories"))
    return found


def category_labels(dimension: dict[str, Any]) -> dict[str, str]:
    """Every category code of a `/dimension` entry with its label (children included)."""
    found: dict[str, str] = {}

    def walk(categories: Any) -> None:
        for category in categories or []:
            if isinstance(category, dict):
                if category.get("value") is not None and category.get("label") is not None:
                    found.setdefault(str(category["value"]), str(category["label"]))
                walk(category.get("children"))

    walk(dimension.get("categories"))
    return found


def series_meaning_problems(series: FhiSeries, label_of: LabelOf, unit_of: LabelOf | None) -> list[str]:
    """Every selected code whose FHI label is not the catalogue's; with `unit_of` (a data response: FHI's `/dimension`
    states no units), also a measure whose unit is not the series' `unit`."""
    measure = (series.measure_dimension, series.codes(series.measure_dimension))
    return meaning_problems(series.expected_labels(), label_of, unit=series.unit, unit_codes=measure, unit_of=unit_of)


def check_series_against_dimensions(
    series: FhiSeries, dimensions: dict[str, Any], municipality: Municipality
) -> list[str]:
    """What the series asks for that the table lacks, the table's dimensions the series does not name, and every
    labelled code whose label in `/dimension` is not the catalogue's (the unit is not checked here: `/dimension`
    states none; the fetch checks it in the data response)."""
    listed = dimensions.get("dimensions")
    if not isinstance(listed, list):
        return ["svaret fra /dimension har ingen liste `dimensions`"]
    present = {str(d.get("code")): category_values(d) for d in listed if isinstance(d, dict) and d.get("code")}
    problems: list[str] = []
    wanted = {series.geo_dimension: [geo_code(series, municipality)], series.time_dimension: []}
    wanted |= {dimension: series.codes(dimension) for dimension in series.select}
    for dimension, codes in wanted.items():
        if dimension not in present:
            problems.append(f"tabellen mangler dimensjonen {dimension!r} (har {', '.join(present)})")
            continue
        missing = [code for code in codes if code not in present[dimension]]
        if missing:
            problems.append(f"dimensjonen {dimension!r} mangler kategorikoden {', '.join(map(repr, missing))}")
    if series.time_dimension in present and not any(period_of(code) for code in present[series.time_dimension]):
        problems.append(f"dimensjonen {series.time_dimension!r} har ingen perioder på formen ÅÅÅÅ_ÅÅÅÅ")
    unnamed = [dimension for dimension in present if dimension not in wanted]
    if unnamed:
        problems.append(
            f"katalogen velger ingen kategori i dimensjonen {', '.join(map(repr, unnamed))} "
            "(FHI krever et filter for hver dimensjon)"
        )
    labels = {str(d.get("code")): category_labels(d) for d in listed if isinstance(d, dict) and d.get("code")}
    return problems + series_meaning_problems(series, lambda dimension, code: labels.get(dimension, {}).get(code), None)
