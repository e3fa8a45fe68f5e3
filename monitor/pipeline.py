"""The composition root for fetching: catalogue → fetcher → normaliser → derive → store, one transaction per table."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fetchers.jsonstat import Dataset, JsonStatError, parse_dataset
from fetchers.ssb import SsbClient, TooManyCells
from fetchers.ssb_extract import extract
from fetchers.ssb_query import Selection, build_selections, selection_body, split_selection
from monitor.catalogue import Catalogue, Indicator
from monitor.derive import Series, evaluate
from monitor.errors import FetchError
from monitor.model import Observation, RunRecord, TableMeta
from monitor.rawarchive import archive, read_archived
from monitor.store import Store

SOURCE = "ssb"
CHECK_TARGET = "endringssjekk"  # the run-log target of the daily "what changed?" call
FULL_REFRESH_AFTER_DAYS = 30

Clock = Callable[[], datetime]
Progress = Callable[[int, int], None]


@dataclass
class TableOutcome:
    """What happened to one table in a run."""

    table: str
    outcome: str  # ok | unchanged | failed
    new: int = 0
    error: str | None = None
    discontinued: bool = False


@dataclass
class FetchReport:
    """The result of one SSB run."""

    tables: list[TableOutcome] = field(default_factory=list)
    requests: int = 0

    @property
    def failed(self) -> list[TableOutcome]:
        """The tables that failed."""
        return [table for table in self.tables if table.outcome == "failed"]


def ssb_indicators(catalogue: Catalogue, only: set[str] | None = None) -> list[Indicator]:
    """The SSB indicators of the catalogue (optionally only the given ids)."""
    return [i for i in catalogue.indicators if i.fetch is not None and (only is None or i.id in only)]


def fetch_ssb(
    catalogue: Catalogue,
    store: Store,
    client: SsbClient,
    *,
    clock: Clock,
    raw_dir: Path,
    force: bool = False,
    only: set[str] | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch every SSB table the (selected) indicators need, skipping tables SSB has not updated."""
    indicators = ssb_indicators(catalogue, only)
    tables = sorted({series.table for i in indicators for series in i.fetch.series.values()})  # type: ignore[union-attr]
    report = FetchReport()
    started = clock()
    try:
        client.load_config()
        to_fetch, listed = _what_changed(catalogue, store, client, tables, clock, force or only is not None)
    except FetchError as exc:
        for table in tables:
            store.record_failure(RunRecord(SOURCE, table, started, clock()), str(exc))
            report.tables.append(TableOutcome(table, "failed", error=str(exc)))
        report.requests = client.requests
        return report
    selections = build_selections(catalogue)
    # Phase 1: fetch and parse every changed table, so indicators built from two tables see both.
    fetched: dict[str, list[Dataset]] = {}
    archived_parts: dict[str, list[tuple[Path, str]]] = {}
    started_at: dict[str, datetime] = {}
    for done, table in enumerate(tables, start=1):
        if progress is not None:
            progress(done - 1, len(tables))
        if table not in to_fetch:
            continue
        started_at[table] = clock()
        try:
            bodies = _fetch_table(client, catalogue, selections[table])
            archived_parts[table] = [archive(raw_dir, body, source=SOURCE, name=table, at=clock()) for body in bodies]
            fetched[table] = [parse_dataset(body) for body in bodies]
        except (FetchError, JsonStatError) as exc:
            _fail(store, report, table, started_at[table], clock(), exc)
    # Phase 2: one transaction per table: its run row, its new vintages and what SSB said about it.
    for table in tables:
        meta = listed.get(table)
        if table not in to_fetch:
            store.write_run(RunRecord(SOURCE, table, started, clock()), [], table_meta=meta)
            report.tables.append(TableOutcome(table, "unchanged", discontinued=bool(meta and meta.discontinued)))
            continue
        if table not in fetched:
            continue
        try:
            observations = _observations(catalogue, indicators, table, fetched, store)
        except FetchError as exc:
            _fail(store, report, table, started_at[table], clock(), exc)
            continue
        meta = _meta_from_dataset(table, fetched[table][0], meta)
        # A query SSB found too large arrives in parts: the run lists every part's file and sha256.
        run = RunRecord(
            SOURCE, table, started_at[table], clock(),
            raw_path="\n".join(str(path) for path, _ in archived_parts[table]),
            raw_sha256="\n".join(digest for _, digest in archived_parts[table]),
        )
        _, new = store.write_run(run, observations, table_meta=meta)
        report.tables.append(TableOutcome(table, "ok" if new else "unchanged", new=new, discontinued=meta.discontinued))
    if not listed and to_fetch == set(tables) and not report.failed:
        # A complete refresh knows the state of every table now: the next check asks only for changes since.
        store.write_run(RunRecord(SOURCE, CHECK_TARGET, started, clock()), [])
    if progress is not None:
        progress(len(tables), len(tables))
    report.tables.sort(key=lambda outcome: outcome.table)
    report.requests = client.requests
    return report


def _fail(store: Store, report: FetchReport, table: str, began: datetime, ended: datetime, exc: Exception) -> None:
    message = str(exc) if str(exc).startswith("tabell ") else f"tabell {table}: {exc}"
    store.record_failure(RunRecord(SOURCE, table, began, ended), message)
    report.tables.append(TableOutcome(table, "failed", error=message))


def _what_changed(
    catalogue: Catalogue, store: Store, client: SsbClient, tables: list[str], clock: Clock, everything: bool
) -> tuple[set[str], dict[str, TableMeta]]:
    """Which tables to fetch, using one /tables?pastDays=N call when every table has been fetched before."""
    known = store.table_meta(SOURCE)
    last_check = store.last_run(SOURCE, CHECK_TARGET)
    now = clock()
    never = [t for t in tables if t not in known or store.last_raw(SOURCE, t) is None]
    if everything or never or last_check is None:
        return set(tables), {}
    # A table whose last attempt failed is tried again: SSB's update may have come while it failed.
    retry = {t for t in tables if (store.last_run(SOURCE, t, ("ok", "unchanged", "failed")) or {}).get("outcome") == "failed"}
    days = (now - datetime.fromisoformat(last_check["finished_at"])).days + 2
    if days > FULL_REFRESH_AFTER_DAYS:
        return set(tables), {}
    try:
        listing = client.updated_tables(days)
    except FetchError as exc:
        store.record_failure(RunRecord(SOURCE, CHECK_TARGET, now, clock()), str(exc))
        raise
    listed: dict[str, TableMeta] = {}
    for entry in listing:
        if entry.get("id") in tables:
            listed[entry["id"]] = TableMeta(
                SOURCE, entry["id"], label=entry.get("label"), updated=entry.get("updated"),
                first_period=entry.get("firstPeriod"), last_period=entry.get("lastPeriod"),
                discontinued=bool(entry.get("discontinued")),
            )
    changed = {t for t, meta in listed.items() if _newer(meta.updated, known[t].updated) or meta.discontinued}
    store.write_run(RunRecord(SOURCE, CHECK_TARGET, now, clock()), [])
    return changed | retry, listed


def _newer(listed: str | None, known: str | None) -> bool:
    """Whether SSB's stamp is newer than the one we hold (stamps compared as instants when they parse)."""
    if listed is None:
        return False
    if known is None:
        return True
    try:
        return datetime.fromisoformat(listed) > datetime.fromisoformat(known)
    except ValueError:
        return listed != known


def _fetch_table(client: SsbClient, catalogue: Catalogue, selection: Selection) -> list[bytes]:
    """One data call; a query SSB finds too large is split in two by time, recursively.

    The first query names time by an expression such as from(2019); to split it, the table's metadata
    is read once for the explicit period codes.
    """
    try:
        return [client.data(selection.table, selection_body(selection))]
    except TooManyCells:
        halves = split_selection(selection)
        if halves is None:
            try:
                metadata = json.loads(client.metadata(selection.table))
            except ValueError as exc:
                raise FetchError(f"tabell {selection.table}: metadata er ikke gyldig JSON ({exc})") from exc
            explicit = build_selections(catalogue, {selection.table: metadata})[selection.table]
            halves = split_selection(explicit)
        if halves is None:
            raise
        return [body for half in halves for body in _fetch_table(client, catalogue, half)]


def _datasets_for(table: str, fetched: dict[str, list[Dataset]], store: Store) -> list[Dataset]:
    """This run's response for a table, or else the last good one from the raw archive (no request)."""
    if table in fetched:
        return fetched[table]
    run = store.last_raw(SOURCE, table)
    if run is None:
        raise FetchError(f"tabell {table} er aldri hentet; kjør `monitor fetch --force`")
    paths, digests = run["raw_path"].split("\n"), run["raw_sha256"].split("\n")
    return [parse_dataset(read_archived(Path(path), digest)) for path, digest in zip(paths, digests)]


def _observations(
    catalogue: Catalogue,
    indicators: list[Indicator],
    table: str,
    fetched: dict[str, list[Dataset]],
    store: Store,
) -> list[Observation]:
    """Every observation the table contributes to, derived values included."""
    municipality = catalogue.municipality
    observations: list[Observation] = []
    for indicator in indicators:
        assert indicator.fetch is not None
        used = {series.table for series in indicator.fetch.series.values()}
        if table not in used:
            continue
        named: dict[str, Series] = {}
        stamps: list[str] = []
        for name, series in indicator.fetch.series.items():
            named[name] = {}
            for dataset in _datasets_for(series.table, fetched, store):
                named[name].update(extract(dataset, series.table, series, municipality))
                if dataset.updated:
                    stamps.append(dataset.updated)
        source = f"{SOURCE}:{'+'.join(sorted(used))}"
        for period, point in evaluate(indicator.fetch.value, named).items():
            observations.append(Observation(
                indicator.id, municipality.current_code, period, point.value, point.status, source,
                source_updated=max(stamps) if stamps else None,
            ))
    if not observations:
        raise FetchError(f"tabell {table}: svaret ga ingen verdier for {municipality.name}")
    return observations


def _meta_from_dataset(table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
    px = dataset.extension.get("px", {}) if isinstance(dataset.extension.get("px"), dict) else {}
    return TableMeta(
        SOURCE, table,
        label=dataset.label or (listed.label if listed else None),
        updated=dataset.updated or (listed.updated if listed else None),
        first_period=dataset.extension.get("firstPeriod") or (listed.first_period if listed else None),
        last_period=dataset.extension.get("lastPeriod") or (listed.last_period if listed else None),
        next_update=px.get("nextUpdate"),
        discontinued=bool(dataset.extension.get("discontinued")) or bool(listed and listed.discontinued),
    )
