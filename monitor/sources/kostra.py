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
from zoneinfo import ZoneInfo

from fetchers.jsonstat import Dataset, JsonStatError, parse_dataset
from fetchers.kostra_query import RegionHistory, build_kostra_selections, extract_regions
from fetchers.ssb import SsbClient, TooManyCells
from fetchers.ssb_query import Selection, check_series_against_metadata, selection_body, split_selection
from monitor.core.fetchspec import Municipality, MunicipalityCode
from monitor.core.errors import FetchError
from monitor.catalogue.kostra import KOSTRA_SOURCE, KostraCatalogue
from monitor.core.model import Observation, RunRecord, Series, TableMeta
from monitor.sources.pipeline import FetchReport, TableOutcome, fail_all, note_full_refresh, record_unchanged, what_changed
from monitor.store.rawarchive import archive
from monitor.core.settings import Settings
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


class KostraListing:
    """SSB's list of recently updated tables, for the change check (monitor.sources.pipeline.what_changed)."""

    source = KOSTRA_SOURCE

    def __init__(self, client: SsbClient) -> None:
        self.client = client

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """One GET /tables?pastDays=N: those of `tables` SSB updated in the last `days` days."""
        wanted = set(tables)
        return [
            TableMeta(KOSTRA_SOURCE, entry["id"], label=entry.get("label"), updated=entry.get("updated"),
                      first_period=entry.get("firstPeriod"), last_period=entry.get("lastPeriod"),
                      discontinued=bool(entry.get("discontinued")))
            for entry in self.client.updated_tables(days)
            if entry.get("id") in wanted
        ]


def fetch_kostra(
    kostra: KostraCatalogue, store: Store, client: SsbClient, *, clock: Clock, raw_dir: Path,
    tables: set[str] | None = None, force: bool = False,
) -> FetchReport:
    """Fetch the KOSTRA tables SSB updated since the last check (every one with `force`, or the given ones) and
    store the rows' figures per region. A table never fetched, or whose last fetch failed, is always fetched."""
    selections = kostra_selections(kostra)
    wanted = sorted(table for table in selections if tables is None or table in tables)
    report = FetchReport(KOSTRA_SOURCE)
    started = clock()
    try:
        client.load_config()
        to_fetch, listed = what_changed(KostraListing(client), store, wanted, clock, force or tables is not None)
    except FetchError as exc:
        fail_all(store, report, wanted, started, clock, exc)
        report.requests = client.requests
        return report
    regions = region_histories(kostra)
    for table in wanted:
        began = clock()
        if table not in to_fetch:
            record_unchanged(store, report, table, began, clock, listed.get(table))
            continue
        try:
            bodies = _fetch(client, kostra, selections[table])
            archived = [archive(raw_dir, body, source=KOSTRA_SOURCE, name=table, at=clock()) for body in bodies]
            datasets = [parse_dataset(body) for body in bodies]
            observations = _observations(kostra, table, datasets, regions)
        except (FetchError, JsonStatError) as exc:
            message = str(exc) if str(exc).startswith("tabell ") else f"tabell {table}: {exc}"
            store.record_failure(RunRecord(KOSTRA_SOURCE, table, began, clock()), message)
            report.tables.append(TableOutcome(table, "failed", error=message))
            continue
        first = datasets[0]
        meta = TableMeta(
            KOSTRA_SOURCE, table, label=first.label, updated=first.updated,
            first_period=first.extension.get("firstPeriod"), last_period=first.extension.get("lastPeriod"),
            discontinued=bool(first.extension.get("discontinued")),
        )
        run = RunRecord(
            KOSTRA_SOURCE, table, began, clock(),
            raw_path="\n".join(str(path) for path, _ in archived),
            raw_sha256="\n".join(digest for _, digest in archived),
        )
        _, new = store.write_run(run, observations, table_meta=meta)
        report.tables.append(TableOutcome(table, "ok" if new else "unchanged", new=new, discontinued=meta.discontinued))
    if tables is None:
        note_full_refresh(store, report, wanted, to_fetch, listed, started, clock)
    report.requests = client.requests
    return report


def _fetch(client: SsbClient, kostra: KostraCatalogue, selection: Selection) -> list[bytes]:
    """The table's data in one POST or, when SSB finds it too large, in parts split by time."""
    try:
        return [client.data(selection.table, selection_body(selection))]
    except TooManyCells:
        halves = split_selection(selection)
        if halves is None:
            try:
                metadata = json.loads(client.metadata(selection.table))
            except ValueError as exc:
                raise FetchError(f"tabell {selection.table}: metadata er ikke gyldig JSON ({exc})") from exc
            halves = split_selection(kostra_selections(kostra, {selection.table: metadata})[selection.table])
        if halves is None:
            raise
        return [body for half in halves for body in _fetch(client, kostra, half)]


def _observations(
    kostra: KostraCatalogue, table: str, datasets: list[Dataset], regions: list[RegionHistory]
) -> list[Observation]:
    observations: list[Observation] = []
    for row, series in kostra.fetched_series:
        if series.table != table:
            continue
        per_region: dict[str, Series] = {}
        for dataset in datasets:
            for store_code, points in extract_regions(dataset, table, series, regions).items():
                per_region.setdefault(store_code, {}).update(points)
        stamp = max((d.updated for d in datasets if d.updated), default=None)
        for store_code, points in per_region.items():
            for period, point in points.items():
                if point.value is None and point.status is None:
                    continue  # an empty cell with no symbol says nothing
                observations.append(Observation(
                    row.fetched_series_id, store_code, period, point.value, point.status, f"ssb:{table}",
                    source_updated=stamp,
                ))
    if not observations:
        raise FetchError(f"tabell {table}: svaret ga ingen KOSTRA-verdier for regionene")
    return observations


def run_kostra_fetch(
    settings: Settings, kostra: KostraCatalogue, store: Store, tables: set[str] | None = None, *, force: bool = False,
) -> FetchReport:
    """One KOSTRA run against SSB at MONITOR_SSB_URL, the clock in the settings' time zone."""
    zone = ZoneInfo(settings.timezone)

    def clock() -> datetime:
        return datetime.now(zone)

    with SsbClient(settings.ssb_url, timeout=settings.http_timeout) as client:
        return fetch_kostra(kostra, store, client, clock=clock, raw_dir=settings.raw_dir, tables=tables, force=force)


def run_kostra_check(settings: Settings, kostra: KostraCatalogue) -> tuple[int, list[str]]:
    """`monitor kostra validate --online`: the KOSTRA rows against SSB's live metadata at MONITOR_SSB_URL."""
    with SsbClient(settings.ssb_url, timeout=settings.http_timeout) as client:
        client.load_config()
        return check_kostra_online(kostra, client)


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
