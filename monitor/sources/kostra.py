"""Fetching the KOSTRA peer comparison from SSB (a composition root: kostra.yaml → SSB fetcher → store).

One POST per KOSTRA table asks for every row of kostra.yaml on that table, every region's code history (Asker,
Bærum, Drammen, Lillestrøm, KOSTRA-gruppe 12; ASSS has no SSB code) and every year from 2020. Each table is stored
in its own transaction under the run-log source "ssb-kostra", apart from the indicator catalogue's "ssb" runs (the
two query the same tables with different selections, so their change checks and raw archives must not mix).
Like the indicator fetch, a run first asks SSB once which tables it updated since the last check
(monitor.sources.pipeline.what_changed) and fetches only those, the ones never fetched and the ones whose last fetch
failed; `force` (or naming tables) fetches every one.

A row printed as SSB publishes it is stored as "kostra.<id>", next to the printed baseline (a different figure
becomes a revision). A row printed deflated or adjusted for expenditure need is stored as "kostra.<id>.nominal":
SSB's figure is a different quantity from the printed one and must never pass for a revision of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fetchers.base import SourceAdapter
from fetchers.kostra_query import RegionHistory, build_kostra_selections, extract_regions
from fetchers.ssb import SsbClient
from fetchers.ssb_query import Selection, check_series_against_metadata
from fetchers.ssb_source import SsbSource
from monitor.catalogue.kostra import KOSTRA_SOURCE, KostraCatalogue
from monitor.core.errors import FetchError
from monitor.core.fetchspec import Municipality, MunicipalityCode
from monitor.core.model import Observation, Series
from monitor.sources.pipeline import DatasetsFor, FetchReport, fetch_source
from monitor.store.database import Store

Clock = Callable[[], datetime]


def region_histories(kostra: KostraCatalogue) -> list[RegionHistory]:
    """The regions SSB has, as the fetcher's plain code histories."""
    return [
        RegionHistory(region.store_code, tuple((c.code, c.first_year, c.last_year) for c in region.codes))
        for region in kostra.fetched_regions
    ]


def kostra_selections(kostra: KostraCatalogue, metadata: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Selection]:
    """One selection per KOSTRA table."""
    return build_kostra_selections([series for _, series in kostra.fetched_series], region_histories(kostra), metadata)


class KostraPlan:
    """The KOSTRA comparison's plan for the fetch pipeline: one table per SSB KOSTRA table, every region's figures."""

    def __init__(self, kostra: KostraCatalogue, tables: set[str] | None = None) -> None:
        self.kostra = kostra
        self.regions = region_histories(kostra)
        every = sorted({series.table for _, series in kostra.fetched_series})
        self.tables = [table for table in every if tables is None or table in tables]
        self.complete = tables is None

    def observations(self, adapter: SourceAdapter, table: str, datasets_for: DatasetsFor) -> list[Observation]:
        """Each row's figure per region and year; an empty cell with no symbol says nothing and is left out."""
        datasets = datasets_for(table)
        observations: list[Observation] = []
        for row, series in self.kostra.fetched_series:
            if series.table != table:
                continue
            per_region: dict[str, Series] = {}
            for dataset in datasets:
                for store_code, points in extract_regions(dataset, table, series, self.regions, row.id).items():
                    per_region.setdefault(store_code, {}).update(points)
            stamp = max((d.updated for d in datasets if d.updated), default=None)
            for store_code, points in per_region.items():
                for period, point in points.items():
                    if point.value is None and point.status is None:
                        continue
                    observations.append(Observation(
                        row.fetched_series_id, store_code, period, point.value, point.status, f"ssb:{table}",
                        source_updated=stamp,
                    ))
        if not observations:
            raise FetchError(f"tabell {table}: svaret ga ingen KOSTRA-verdier for regionene")
        return observations


def kostra_adapter(client: SsbClient, kostra: KostraCatalogue) -> SsbSource:
    """The SSB adapter asking for the KOSTRA selections, under the run-log source "ssb-kostra"."""

    def selections(metadata: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Selection]:
        return kostra_selections(kostra, metadata)

    return SsbSource(client, selections=selections, source=KOSTRA_SOURCE, label="SSB KOSTRA")


def fetch_kostra(
    kostra: KostraCatalogue, store: Store, client: SsbClient, *, clock: Clock, raw_dir: Path,
    tables: set[str] | None = None, force: bool = False,
) -> FetchReport:
    """Fetch the KOSTRA tables SSB updated since the last check (every one with `force`, or the given ones) and
    store the rows' figures per region. A table never fetched, or whose last fetch failed, is always fetched."""
    return fetch_source(
        kostra_adapter(client, kostra), KostraPlan(kostra, tables), store, clock=clock, raw_dir=raw_dir, force=force
    )


def check_kostra_online(kostra: KostraCatalogue, client: SsbClient) -> tuple[int, list[str]]:
    """What the KOSTRA rows ask for that SSB's tables lack: (tables checked, problems in bokmål).

    Per table one GET of the metadata: every row's dimensions and value codes (as `monitor validate --online`
    checks the catalogue's series, with Asker's code history), and every region code the query sends.
    """
    selections = kostra_selections(kostra)
    home = kostra.region(kostra.columns[0].region)
    municipality = Municipality(
        name=home.name,
        codes=[MunicipalityCode(code=c.code, first_year=c.first_year, last_year=c.last_year) for c in home.codes],
    )
    problems: list[str] = []
    try:
        client.load_config()
    except FetchError as exc:
        return 0, [f"SSB: {exc}"]
    for table, selection in selections.items():
        try:
            metadata = json.loads(client.metadata(table))
        except (FetchError, ValueError) as exc:
            problems.append(f"tabell {table}: metadata kunne ikke hentes eller leses ({exc})")
            continue
        for row, series in kostra.fetched_series:
            if series.table == table:
                problems.extend(f"tabell {table}: {row.id}: {problem}"
                                for problem in check_series_against_metadata(series, metadata, municipality))
        dimension = ((metadata.get("dimension") or {}).get(selection.region_dimension) or {})
        index = (dimension.get("category") or {}).get("index") or {}
        missing = [code for code in selection.values[selection.region_dimension] if code not in index]
        if missing:
            problems.append(f"tabell {table}: regiondimensjonen mangler kodene {', '.join(missing)}")
    return len(selections), problems
