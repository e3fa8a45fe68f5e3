"""The whole catalogue evaluated from the store: gathers vintages, fetch health and release rules per indicator."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Catalogue, Indicator, SsbSeries
from monitor.evaluate.indicator import Evaluation, FetchHealth, evaluate_indicator
from monitor.core.model import TableMeta, Vintage
from monitor.catalogue.releases import ReleaseRule
from monitor.evaluate.failures import failure_sentence, refusal_sentence
from monitor.sources.registry import default_rule, label, next_check
from monitor.store.database import Store

KOSTRA_REGION = "KOKkommuneregion0000"


def kostra_tables(catalogue: Catalogue) -> frozenset[str]:
    """SSB tables whose region dimension is KOSTRA's: they follow the KOSTRA calendar."""
    tables: set[str] = set()
    for indicator in catalogue.indicators:
        if indicator.fetch is not None and indicator.fetch.kind == "ssb":
            for series in indicator.fetch.series.values():
                if isinstance(series, SsbSeries) and series.region.dimension == KOSTRA_REGION:
                    tables.add(series.table)
    return frozenset(tables)


def release_rule(catalogue: Catalogue, indicator: Indicator, kostra: frozenset[str]) -> ReleaseRule:
    """The calendar of an indicator: its source's rule in the catalogue, else the default for its kind."""
    return default_rule(indicator, kostra)


class _RunLog:
    """The run log lookups of one evaluation pass, each asked of the store once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runs: dict[tuple[str, str, tuple[str, ...]], dict[str, Any] | None] = {}
        self.meta: dict[str, dict[str, TableMeta]] = {}

    def last_run(self, source: str, table: str, outcomes: tuple[str, ...] = ("ok", "unchanged")) -> dict[str, Any] | None:
        key = (source, table, outcomes)
        if key not in self.runs:
            self.runs[key] = self.store.last_run(source, table, outcomes)
        return self.runs[key]

    def failing_since(self, source: str, table: str) -> str | None:
        return self.store.failing_since(source, table)

    def refusal(self, source: str, table: str, indicator_id: str) -> tuple[str, str] | None:
        return self.store.refusal(source, table, indicator_id)

    def table_meta(self, source: str) -> dict[str, TableMeta]:
        if source not in self.meta:
            self.meta[source] = self.store.table_meta(source)
        return self.meta[source]


def fetch_health(store: Store | _RunLog, indicator: Indicator) -> FetchHealth:
    """The run log for the tables an indicator is fetched from (or its imports)."""
    if indicator.fetch is None:
        return FetchHealth()
    source = indicator.fetch.kind
    tables = sorted({series.table for series in indicator.fetch.series.values()})
    attempts = [store.last_run(source, table, ("ok", "unchanged", "failed")) for table in tables]
    successes = [store.last_run(source, table) for table in tables]
    known = store.table_meta(source)
    failed = [run for run in attempts if run is not None and run["outcome"] == "failed"]
    # a table that answered but lacks this indicator's code or label fails this indicator alone
    refusals = [found for table in tables if (found := store.refusal(source, table, indicator.id)) is not None]
    newest = max((run for run in attempts if run is not None), key=lambda run: run["finished_at"], default=None)
    success_times = [run["finished_at"] for run in successes if run is not None]
    stamps = [stamp for t in tables if t in known and (stamp := known[t].updated) is not None]
    # In words (issue 17): the raw error stays in the run log.
    if failed:
        error = failure_sentence(label(source), failed[0]["error"], store.failing_since(source, failed[0]["target"]))
    elif refusals:
        error = refusal_sentence(*refusals[0])
    else:
        error = None
    return FetchHealth(
        last_attempt=newest["finished_at"] if newest else None,
        last_outcome="failed" if failed or refusals else (newest["outcome"] if newest else None),
        last_error=error,
        last_success=min(success_times) if len(success_times) == len(tables) and success_times else None,
        source_updated=max(stamps) if stamps else None,
    )


def kommune_vintages(catalogue: Catalogue, store: Store) -> dict[str, list[Vintage]]:
    """Every vintage for the kommune's current code, per indicator (one query)."""
    by_indicator: dict[str, list[Vintage]] = {}
    for vintage in store.all_vintages(catalogue.municipality.current_code):
        by_indicator.setdefault(vintage.indicator_id, []).append(vintage)
    return by_indicator


def evaluate_all(
    catalogue: Catalogue, store: Store, today: date, now: datetime | None = None, timezone: ZoneInfo | None = None,
    *, vintages: dict[str, list[Vintage]] | None = None,
) -> list[Evaluation]:
    """One evaluation per active indicator, in catalogue order, for the kommune's current code.

    With `now` (and its time zone), each fetched indicator also gets its next scheduled check. `vintages`
    (from `kommune_vintages`) saves reading them again when the caller has them already.
    """
    by_indicator = kommune_vintages(catalogue, store) if vintages is None else vintages
    kostra = kostra_tables(catalogue)
    runs = _RunLog(store)
    checks: dict[str, str | None] = {}
    return [
        evaluate_indicator(
            indicator, by_indicator.get(indicator.id, []), release_rule(catalogue, indicator, kostra), today,
            fetch_health(runs, indicator), _next_check(indicator, now, timezone, checks),
        )
        for indicator in catalogue.indicators
    ]


def _next_check(
    indicator: Indicator, now: datetime | None, timezone: ZoneInfo | None, known: dict[str, str | None]
) -> str | None:
    if indicator.fetch is None or now is None:
        return None
    source = indicator.fetch.kind
    if source not in known:
        fire = next_check(source, now, timezone or ZoneInfo("Europe/Oslo"))
        known[source] = fire.isoformat() if fire else None
    return known[source]
