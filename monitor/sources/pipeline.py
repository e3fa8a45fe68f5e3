"""The one fetch pipeline: catalogue → source → normaliser → derive → store, one transaction per table.

Every online source runs through `fetch_source`: the SSB, FHI and Udir indicators and the KOSTRA peer comparison
alike. A run asks the source what changed, fetches that, archives each raw response, and stores each table in its
own transaction with its run record; a table that fails is recorded as failed while the others go on. What a run
fetches and how the responses become observations is its `FetchPlan` (the indicator catalogue's `IndicatorPlan`
here, the KOSTRA rows' plan in monitor.sources.kostra); how the source is asked is its adapter (fetchers.base).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fetchers.base import SourceAdapter
from fetchers.jsonstat import Dataset, JsonStatError
from fetchers.ssb import SsbClient
from fetchers.ssb_source import SsbSource
from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.sources.derive import evaluate
from monitor.core.errors import FetchError, IndicatorRefused
from monitor.core.usertext import printable, unreadable_answer
from monitor.core.model import Observation, RunRecord, Series, TableMeta
from monitor.store.rawarchive import archive, read_archived
from monitor.store.database import Store
from monitor.sources.feeds import feed_view, feeds

CHECK_TARGET = "endringssjekk"  # the run-log target of the "what changed?" call
FULL_REFRESH_AFTER_DAYS = 30

Clock = Callable[[], datetime]


class ChangeListing(Protocol):
    """What the change check needs of a source: its run-log name and its listing of recently updated tables."""

    source: str

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None: ...


Progress = Callable[[int, int], None]
DatasetsFor = Callable[[str], list[Dataset]]  # a table's datasets: this run's response, or the last archived one
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    """How long one run of a source, and one table in it, may take (seconds; MONITOR_FETCH_*_DEADLINE)."""

    run: float
    table: float


class OtherTableMissing(Exception):
    """An indicator also needs a table that failed in this run and was never fetched before: that indicator waits,
    the table's other indicators are stored (the failed table has its own failed run)."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(f"tabell {table} feilet og er aldri hentet før")


class LaterInRun(OtherTableMissing):
    """An indicator also needs a table this run fetches later: it is stored with that table, from both answers."""


class FetchPlan(Protocol):
    """What one run of a source fetches, and how the responses become observations."""

    @property
    def tables(self) -> list[str]:
        """The tables to fetch, in run order."""
        ...

    @property
    def complete(self) -> bool:
        """Whether the plan covers every table of the source (no indicator or table named): only a complete run
        fetches just what changed, and only a complete refresh moves the change check's starting point."""
        ...

    def observations(self, adapter: SourceAdapter, table: str, datasets_for: DatasetsFor) -> list[Observation]:
        """Every observation the table contributes; a FetchError when it gives none."""
        ...


@dataclass
class TableOutcome:
    """What happened to one table in a run."""

    table: str
    outcome: str  # ok | unchanged | failed
    new: int = 0
    error: str | None = None
    discontinued: bool = False
    run_id: int | None = None  # its row in the run log (fetch_runs.id), when one was written


def _record(report: FetchReport, outcome: TableOutcome) -> None:
    """Add a table's outcome to the report and log it (with MONITOR_LOG_FORMAT=json: run_id, source, table, outcome)."""
    report.tables.append(outcome)
    log.info("%s: tabell %s: %s", report.source, outcome.table,
             f"{outcome.outcome} ({outcome.new} nye)" if outcome.outcome == "ok" else outcome.outcome,
             extra={"run_id": outcome.run_id, "source": report.source, "table": outcome.table,
                    "outcome": outcome.outcome, "new": outcome.new})


@dataclass
class FetchReport:
    """The result of one run of one source."""

    source: str
    tables: list[TableOutcome] = field(default_factory=list)
    requests: int = 0

    @property
    def failed(self) -> list[TableOutcome]:
        """The tables that failed."""
        return [table for table in self.tables if table.outcome == "failed"]


def indicators_for(catalogue: Catalogue, kind: str, only: set[str] | None = None) -> list[Indicator]:
    """The indicators a source kind fetches (optionally only the given ids)."""
    return [
        i for i in catalogue.indicators
        if i.fetch is not None and i.fetch.kind == kind and (only is None or i.id in only)
    ]


def ssb_indicators(catalogue: Catalogue, only: set[str] | None = None) -> list[Indicator]:
    """The SSB indicators of the catalogue."""
    return indicators_for(catalogue, "ssb", only)


class IndicatorPlan:
    """The indicator catalogue's plan for one source: the tables its indicators read, and their derived values."""

    def __init__(self, catalogue: Catalogue, source: str, only: set[str] | None = None) -> None:
        self.catalogue = catalogue
        # every fetch block of the source, and every control block (stored under its control key, never the value)
        self.indicators = feeds(catalogue, source, only)
        self.tables = sorted({series.table for i in self.indicators for series in i.fetch.series.values()})
        self.complete = only is None
        self.refused: dict[str, list[tuple[str, str]]] = {}  # table → (indicator id, sentence): failed alone

    def observations(self, adapter: SourceAdapter, table: str, datasets_for: DatasetsFor) -> list[Observation]:
        """Every indicator value the table contributes to, derived values included."""
        municipality = self.catalogue.municipality
        observations: list[Observation] = []
        waiting: list[str] = []
        deferred = False
        answered = False  # an indicator of this table was derived from the answer (refused and deferred ones are not)
        for indicator in self.indicators:
            assert indicator.fetch is not None
            used = {series.table for series in indicator.fetch.series.values()}
            if table not in used:
                continue
            named: dict[str, Series] = {}
            stamps: list[str] = []
            try:
                for name, series in indicator.fetch.series.items():
                    named[name] = {}
                    try:
                        for dataset in datasets_for(series.table):
                            named[name].update(adapter.extract(dataset, series, municipality))
                            if dataset.updated:
                                stamps.append(dataset.updated)
                    except Exception as exc:
                        if series.table == table or isinstance(exc, (OtherTableMissing, IndicatorRefused)):
                            raise  # this table's own answer: the table fails (or the indicator, when refused)
                        raise OtherTableMissing(series.table) from exc  # the other table's run reports it
            except IndicatorRefused as refused:
                if refused.table == table:  # a code or label its table lacks: this indicator alone fails
                    self.refused.setdefault(table, []).append((indicator.id, str(refused)))
                continue
            except LaterInRun:
                deferred = True  # stored with its other table, later in this run
                continue
            except OtherTableMissing:
                waiting.append(indicator.id)  # its other table failed: only this indicator waits for it
                continue
            answered = True
            origin = f"{adapter.source}:{'+'.join(sorted(used))}"
            for period, point in evaluate(indicator.fetch.value, named).items():
                observations.append(Observation(
                    indicator.id, municipality.current_code, period, point.value, point.status, origin,
                    source_updated=max(stamps) if stamps else None,
                ))
        if not observations and not waiting and (deferred or (self.refused.get(table) and not answered)):
            return []  # every indicator of this table also needs a table still to come in this run, or failed alone
        if not observations:
            if waiting:
                raise FetchError(
                    f"tabell {table}: {', '.join(waiting)} trenger også en tabell som feilet i denne kjøringen"
                )
            raise FetchError(f"tabell {table}: svaret ga ingen verdier for {municipality.name}")
        return observations


def fetch_ssb(
    catalogue: Catalogue, store: Store, client: SsbClient, *, clock: Clock, raw_dir: Path,
    force: bool = False, only: set[str] | None = None, progress: Progress | None = None,
) -> FetchReport:
    """Fetch every SSB table the (selected) indicators need, skipping tables SSB has not updated."""
    return fetch_source(
        SsbSource(client, feed_view(catalogue)), IndicatorPlan(catalogue, "ssb", only), store, clock=clock, raw_dir=raw_dir,
        force=force, progress=progress,
    )


def fetch_source(
    adapter: SourceAdapter,
    plan: FetchPlan,
    store: Store,
    *,
    clock: Clock,
    raw_dir: Path,
    force: bool = False,
    progress: Progress | None = None,
    deadlines: Deadlines | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> FetchReport:
    """One run of one source: ask what changed, fetch that, and store each table in its own transaction.

    With `deadlines`, no table's requests outlast the table's deadline or the run's, whatever the source does (a
    hung server, a long Retry-After): the table fails with the reason and the run goes on, or, once the run's
    deadline has passed, every table not yet fetched fails at once. Each table already stored stays stored.
    """
    source = adapter.source
    tables = plan.tables
    report = FetchReport(source)
    started = clock()
    run_end = monotonic() + deadlines.run if deadlines else None

    def bound() -> bool:
        """Set the client's deadline for the next table; False when the run's deadline has passed."""
        if deadlines is None or run_end is None:
            return True
        now = monotonic()
        adapter.client.deadline = min(run_end, now + deadlines.table)
        return now < run_end

    try:
        bound()
        adapter.start()
        to_fetch, listed = what_changed(adapter, store, tables, clock, force or not plan.complete)
    except FetchError as exc:
        fail_all(store, report, tables, started, clock, exc)
        report.requests = adapter.requests
        return report
    # One table at a time, each stored in its own transaction as soon as it is fetched, so a run that is stopped
    # (SIGTERM, Ctrl-C, kill, a deadline) keeps every table it finished. An indicator built from two tables is
    # stored with the later of them, once both are in hand (never from one fresh and one stale answer).
    fetched: dict[str, list[Dataset]] = {}
    pending = set(to_fetch)
    failed: set[str] = set()
    for done, table in enumerate(tables, start=1):
        if progress is not None:
            progress(done - 1, len(tables))
        meta = listed.get(table)
        if table not in to_fetch:
            record_unchanged(store, report, table, started, clock, meta)
            continue
        began = clock()
        pending.discard(table)
        archived: list[tuple[Path, str]] = []
        if not bound():
            assert deadlines is not None
            late = FetchError(f"tabell {table}: fristen for kjøringen ({deadlines.run:g} s) gikk ut før tabellen ble hentet")
            _fail(store, report, table, began, clock(), late)
            failed.add(table)
            continue
        try:
            bodies = adapter.fetch(table)
            name = table.replace("/", "-")
            archived = [archive(raw_dir, body, source=source, name=name, at=clock()) for body in bodies]
            if not force and same_as_last_good(adapter, store, table, archived):
                record_same_answer(store, report, table, began, clock, archived)
                continue
            fetched[table] = [adapter.parse(body) for body in bodies]
            observations = plan.observations(
                adapter, table, lambda wanted: _datasets_for(adapter, wanted, fetched, store, failed, pending)
            )
            meta = adapter.table_meta(table, fetched[table][0], meta)
        except Exception as exc:  # whatever went wrong with this table's answer fails this table alone
            _fail(store, report, table, began, clock(), exc, archived)
            failed.add(table)
            _record_refused(store, report, plan, table, began, clock)
            continue
        # A query the source found too large arrives in parts: the run lists every part's file and sha256.
        run = RunRecord(
            source, table, began, clock(),
            raw_path="\n".join(str(path) for path, _ in archived),
            raw_sha256="\n".join(digest for _, digest in archived),
        )
        run_id, new = store.write_run(run, observations, table_meta=meta)
        _record(report, TableOutcome(table, "ok" if new else "unchanged", new=new, discontinued=meta.discontinued,
                                     run_id=run_id))
        _record_refused(store, report, plan, table, began, clock)
    if deadlines is not None:
        adapter.client.deadline = None
    if plan.complete:
        note_full_refresh(store, report, tables, to_fetch, listed, started, clock)
    if progress is not None:
        progress(len(tables), len(tables))
    report.tables.sort(key=lambda outcome: outcome.table)
    report.requests = adapter.requests
    return report


def _record_refused(
    store: Store, report: FetchReport, plan: FetchPlan, table: str, began: datetime, clock: Clock
) -> None:
    """Every indicator of the table that failed alone (IndicatorRefused: a code or label the table lacks): a failed
    run of its own, target "<table>:<indicator id>", with its one sentence; the table's own run is separate."""
    if not isinstance(plan, IndicatorPlan):
        return
    for indicator_id, sentence in plan.refused.pop(table, []):
        target = f"{table}:{indicator_id}"
        message = printable(sentence)
        run_id = store.record_failure(RunRecord(report.source, target, began, clock()), message)
        _record(report, TableOutcome(target, "failed", error=message, run_id=run_id))


def same_as_last_good(adapter: SourceAdapter, store: Store, table: str, archived: list[tuple[Path, str]]) -> bool:
    """Whether a source that asks for it (`same_answer_unchanged`: a whole file, e.g. Miljødirektoratet's workbook)
    sent exactly the bytes of its last good answer, so the table is unchanged without being read again."""
    if not getattr(adapter, "same_answer_unchanged", False):
        return False
    last = store.last_raw(adapter.source, table)
    return last is not None and last["raw_sha256"] == "\n".join(digest for _, digest in archived)


def record_same_answer(
    store: Store, report: FetchReport, table: str, began: datetime, clock: Clock, archived: list[tuple[Path, str]]
) -> None:
    """The same file as last time: an «uendret» run that still names the file, so it stays the last good one."""
    run = RunRecord(report.source, table, began, clock(), raw_path="\n".join(str(path) for path, _ in archived),
                    raw_sha256="\n".join(digest for _, digest in archived))
    run_id, _ = store.write_run(run, [])
    _record(report, TableOutcome(table, "unchanged", run_id=run_id))


def fail_all(
    store: Store, report: FetchReport, tables: list[str], started: datetime, clock: Clock, exc: FetchError
) -> None:
    """The source failed before any table (its limits, its change listing): every table failed with that error."""
    for table in tables:
        run_id = store.record_failure(RunRecord(report.source, table, started, clock()), printable(str(exc)))
        _record(report, TableOutcome(table, "failed", error=printable(str(exc)), run_id=run_id))


def record_unchanged(
    store: Store, report: FetchReport, table: str, began: datetime, clock: Clock, meta: TableMeta | None
) -> None:
    """A table the change check found unchanged: a run with no rows, so its last check is known."""
    run_id, _ = store.write_run(RunRecord(report.source, table, began, clock()), [], table_meta=meta)
    _record(report, TableOutcome(table, "unchanged", discontinued=bool(meta and meta.discontinued), run_id=run_id))


def note_full_refresh(
    store: Store, report: FetchReport, tables: list[str], to_fetch: set[str], listed: dict[str, TableMeta],
    started: datetime, clock: Clock,
) -> None:
    """After a complete refresh that failed nowhere the state of every table is known: the next change check asks
    only for what changed since."""
    if not listed and to_fetch == set(tables) and not report.failed:
        store.write_run(RunRecord(report.source, CHECK_TARGET, started, clock()), [])


def _fail(
    store: Store, report: FetchReport, table: str, began: datetime, ended: datetime, exc: Exception,
    archived: list[tuple[Path, str]] | None = None,
) -> None:
    """Record one failed table: its run row with one clear sentence and, when the answer came, its archived body."""
    message = failure_message(table, exc)
    fields = {"source": report.source, "table": table, "outcome": "failed"}
    if not isinstance(exc, (FetchError, JsonStatError)):
        log.error("%s: tabell %s: uventet feil", report.source, table, exc_info=exc, extra=fields)
    elif isinstance(unread := _unreadable(exc), JsonStatError):  # the parser's own words, for the log only
        log.warning("%s: tabell %s: svaret kunne ikke leses: %s", report.source, table, printable(str(unread)),
                    extra=fields)
    run = RunRecord(
        report.source, table, began, ended,
        raw_path="\n".join(str(path) for path, _ in archived) if archived else None,
        raw_sha256="\n".join(digest for _, digest in archived) if archived else None,
    )
    run_id = store.record_failure(run, message)
    _record(report, TableOutcome(table, "failed", error=message, run_id=run_id))


def failure_message(table: str, exc: Exception) -> str:
    """One bokmål sentence for a failed table; an unforeseen error says so and names its kind (details in the log).

    The JSON-stat parser speaks English by design: its message (also when a fetcher wrapped it in a FetchError)
    becomes «svaret fra kilden kunne ikke leses (…)», and the parser's words go to the log. Control characters a
    source sent are shown escaped (\\x00), never as they came.
    """
    if isinstance(exc, (FetchError, JsonStatError)):
        text = str(exc)
        unread = _unreadable(exc)
        if unread is not None:
            text = text.replace(str(unread), unreadable_answer(str(unread)))
    else:
        text = f"uventet feil under behandlingen av svaret ({type(exc).__name__}: {exc})"
    text = printable(text)
    return text if text.startswith("tabell ") else f"tabell {table}: {text}"


def _unreadable(exc: BaseException) -> JsonStatError | None:
    """The JSON-stat parser's error behind `exc`: itself, or what a fetcher's FetchError was raised from."""
    if isinstance(exc, JsonStatError):
        return exc
    return exc.__cause__ if isinstance(exc.__cause__, JsonStatError) else None


def what_changed(
    adapter: ChangeListing, store: Store, tables: list[str], clock: Clock, everything: bool
) -> tuple[set[str], dict[str, TableMeta]]:
    """Which tables to fetch, asking the source once for its changes when every table was fetched before."""
    source = adapter.source
    known = store.table_meta(source)
    last_check = store.last_run(source, CHECK_TARGET)
    now = clock()
    never = [t for t in tables if t not in known or store.last_raw(source, t) is None]
    if everything or never or last_check is None:
        return set(tables), {}
    days = (now - datetime.fromisoformat(last_check["finished_at"])).days + 2
    if days > FULL_REFRESH_AFTER_DAYS:
        return set(tables), {}
    # A table whose last attempt failed is tried again: the source's update may have come while it failed.
    retry = {
        t for t in tables
        if (store.last_run(source, t, ("ok", "unchanged", "failed")) or {}).get("outcome") == "failed"
    }
    try:
        listing = adapter.changed_since(days, tables)
    except FetchError as exc:
        store.record_failure(RunRecord(source, CHECK_TARGET, now, clock()), str(exc))
        raise
    if listing is None:
        return set(tables), {}
    listed = {meta.table_id: meta for meta in listing}
    changed = {t for t, meta in listed.items() if _newer(meta.updated, known[t].updated) or meta.discontinued}
    store.write_run(RunRecord(source, CHECK_TARGET, now, clock()), [])
    return changed | retry, listed


def _newer(listed: str | None, known: str | None) -> bool:
    """Whether the source's stamp is newer than the one we hold (compared as instants when they parse)."""
    if listed is None:
        return False
    if known is None:
        return True
    try:
        return datetime.fromisoformat(listed) > datetime.fromisoformat(known)
    except ValueError:
        return listed != known


def _datasets_for(
    adapter: SourceAdapter, table: str, fetched: dict[str, list[Dataset]], store: Store, failed: set[str],
    pending: set[str],
) -> list[Dataset]:
    """This run's response for a table, or else the last good one from the raw archive (no request).

    A table still to come in this run defers the indicator to that table (LaterInRun); one that failed in this run
    leaves the indicator waiting when there is no earlier good answer (OtherTableMissing).
    """
    if table in pending:
        raise LaterInRun(table)
    if table in fetched and table not in failed:
        return fetched[table]
    run = store.last_raw(adapter.source, table)
    if run is None:
        if table in failed:
            raise OtherTableMissing(table)
        raise FetchError(f"tabell {table} er aldri hentet; kjør `monitor fetch --force`")
    paths, digests = run["raw_path"].split("\n"), run["raw_sha256"].split("\n")
    return [adapter.parse(read_archived(Path(path), digest)) for path, digest in zip(paths, digests)]
