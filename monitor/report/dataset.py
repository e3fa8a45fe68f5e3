"""Every indicator in one JSON-stat 2.0 dataset (indikator × region × tid, optionally × versjon), for analysts.

`/api/jsonstat` answers with it. It follows the one-indicator dataset of `monitor.report.api` (`/api/indicators/<id>/
jsonstat`): the same dimension ids, status symbols (`JSONSTAT_SYMBOLS`, listed in `extension.status`), units with
decimals in `dimension.indikator.category.unit`, and the NO_VALUE rule (a value the source left empty without a
symbol is a null without a status). Each indicator's catalogue facts (area, hovedmål, delmål, target, …) are in
`extension.indicators`.

- Latest (the default): each cell holds the vintage of its indicator, region and period that became known last.
- `vintages=True` adds the dimension `versjon`, one category per moment something became known (its stored UTC
  `retrieved_at`; labelled with the vintage's name, e.g. "Handlingsprogram 2024–2027", where it has one). A cell
  holds what was known at that moment: the newest vintage known by then, so the slice at the last moment is the
  latest dataset, and a period not yet known is a null without a status.
- `known_by` (a stored UTC stamp) leaves out every vintage that became known after it: what was known then.

Built in one pass per indicator over the store's rows, straight into the flat value list (no Vintage objects).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Catalogue
from monitor.core import timestamps
from monitor.core.model import NO_VALUE
from monitor.core.model import period_year
from monitor.report.api import JSONSTAT_STATUS_LABELS, indicator_facts, jsonstat_status, jsonstat_unit
from monitor.store.database import Store

MAX_CELLS = 5_000_000  # about 40 MB of JSON; beyond it the CSV (one row per vintage) is the way
DIMENSION_LABELS = {"indikator": "Indikator", "region": "Region", "tid": "Tid", "versjon": "Versjon (kjent fra)"}


class DatasetTooLarge(ValueError):
    """The dataset asked for would have more than MAX_CELLS cells; the message says what to ask for instead."""


def known_by_end_of(day: date, zone: ZoneInfo) -> str:
    """The stored stamp of the end of `day`, local time: `as_of` a day means everything known by that evening, as the
    årsrapport export's `--as-of` does."""
    return timestamps.encode(datetime.combine(day, time.max, zone))


def cell_status(status: str | None) -> str | None:
    """A stored status as the cell's JSON-stat symbol; NO_VALUE (and no status) gives none."""
    return jsonstat_status(status) if status and status != NO_VALUE else None


def sorted_periods(periods: Iterable[str]) -> list[str]:
    """Periods in time order: by the year they end in ("2018-2020" → 2020), then as text."""
    return sorted(periods, key=lambda p: (period_year(p), p))


def region_labels(catalogue: Catalogue, regions: list[str]) -> dict[str, str]:
    """The kommune's codes by its name (a former code with the year it ended); any other region by its code."""
    municipality = catalogue.municipality
    names = {entry.code: municipality.name if entry.last_year is None else f"{municipality.name} (til {entry.last_year})"
             for entry in municipality.codes}
    return {region: names.get(region, region) for region in regions}


def moment_labels(moments: dict[str, str | None]) -> dict[str, str]:
    """Each moment's label: its vintage's name where it has one (with the moment if two share the name), else itself."""
    named = [name for name in moments.values() if name]
    return {moment: (name if named.count(name) == 1 else f"{name} ({moment})") if name else moment
            for moment, name in moments.items()}


def all_indicators_dataset(
    catalogue: Catalogue, store: Store, *, vintages: bool = False, known_by: str | None = None,
    as_of: str | None = None, max_cells: int = MAX_CELLS,
) -> dict[str, Any]:
    """Every active indicator of the catalogue (in catalogue order, with or without data) × region × period, as one
    JSON-stat 2.0 dataset; see the module's docstring. `as_of` is the day `known_by` was made from, for the extension."""
    indicators = catalogue.indicators
    with store.reading():
        regions, periods, moments = store.vintage_facets([i.id for i in indicators], known_by)
        periods = sorted_periods(periods)
        stamps = list(moments) if vintages else []
        sizes = [len(indicators), len(regions), len(periods), *([len(stamps)] if vintages else [])]
        n = math.prod(sizes)
        if n > max_cells:
            raise DatasetTooLarge(
                f"datasettet ville fått {n} celler, flere enn grensen på {max_cells}; hent det uten vintages=all, "
                "med as_of, eller hent alle versjonene som CSV (/api/observations.csv)"
            )
        values: list[float | None] = [None] * n
        status: dict[int, str] = {}
        region_at = {region: i for i, region in enumerate(regions)}
        period_at = {period: i for i, period in enumerate(periods)}
        moment_at = {stamp: i for i, stamp in enumerate(stamps)}
        depth = len(stamps) if vintages else 1
        updated: str | None = None
        for position, indicator in enumerate(indicators):
            rows = store.vintage_rows(indicator.id, known_by)
            for (region, period), held in groupby(rows, key=itemgetter(0, 1)):
                base = ((position * len(regions) + region_at[region]) * len(periods) + period_at[period]) * depth
                known = list(held)  # one key's vintages, in the order they became known
                updated = max(updated or "", known[-1][6])
                if not vintages:
                    _fill(values, status, base, base + 1, known[-1])
                    continue
                starts = [moment_at[row[6]] for row in known]
                for row, start, end in zip(known, starts, [*starts[1:], len(stamps)]):
                    _fill(values, status, base + start, base + end, row)
    dimension: dict[str, Any] = {
        "indikator": {"label": DIMENSION_LABELS["indikator"], "category": {
            "index": {indicator.id: i for i, indicator in enumerate(indicators)},
            "label": {indicator.id: indicator.name for indicator in indicators},
            "unit": {indicator.id: jsonstat_unit(indicator) for indicator in indicators},
        }},
        "region": {"label": DIMENSION_LABELS["region"], "category": {
            "index": region_at, "label": region_labels(catalogue, regions),
        }},
        "tid": {"label": DIMENSION_LABELS["tid"], "category": {"index": period_at, "label": {p: p for p in periods}}},
    }
    if vintages:
        dimension["versjon"] = {"label": DIMENSION_LABELS["versjon"], "category": {
            "index": moment_at, "label": moment_labels({stamp: moments[stamp] for stamp in stamps}),
        }}
    municipality = catalogue.municipality
    dataset: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": f"Indikatorene i handlingsprogrammet for {municipality.name}" + (f", slik de var kjent {as_of}" if as_of else ""),
        "source": "Indikatormonitoren; kilden til hver indikator står i extension.indicators",
    }
    if updated:
        dataset["updated"] = updated
    dataset |= {
        "id": list(dimension),
        "size": sizes,
        "role": {"time": ["tid"], "geo": ["region"], "metric": ["indikator"]},
        "dimension": dimension,
        "value": values,
    }
    if status:
        dataset["status"] = {str(index): symbol for index, symbol in sorted(status.items())}
    dataset["extension"] = {
        "municipality": {"name": municipality.name, "code": municipality.current_code},
        "as_of": as_of,
        "vintages": "all" if vintages else "latest",
        "indicators": {indicator.id: {k: v for k, v in indicator_facts(indicator).items() if k != "id"}
                       for indicator in indicators},
        "status": JSONSTAT_STATUS_LABELS,
    }
    return dataset


def _fill(values: list[float | None], status: dict[int, str], start: int, end: int, row: tuple[Any, ...]) -> None:
    """Cells start..end-1 hold the row's value and status symbol (a row is one of `Store.vintage_rows`)."""
    values[start:end] = [row[2]] * (end - start)
    symbol = cell_status(row[3])
    if symbol is not None:  # the ranges filled never overlap: no older symbol to clear
        status.update(dict.fromkeys(range(start, end), symbol))
