"""The whole catalogue evaluated from the store: gathers vintages, fetch health and release rules per indicator."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from monitor.catalogue import Catalogue, Indicator, SsbSeries
from monitor.evaluate import Evaluation, FetchHealth, evaluate_indicator
from monitor.jobs import next_check
from monitor.model import Vintage
from monitor.releases import ReleaseRule, default_rule
from monitor.store import Store

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


def fetch_health(store: Store, indicator: Indicator) -> FetchHealth:
    """The run log for the tables an indicator is fetched from (or its imports)."""
    if indicator.fetch is None:
        return FetchHealth()
    source = indicator.fetch.kind
    tables = sorted({series.table for series in indicator.fetch.series.values()})
    attempts = [store.last_run(source, table, ("ok", "unchanged", "failed")) for table in tables]
    successes = [store.last_run(source, table) for table in tables]
    known = store.table_meta(source)
    failed = [run for run in attempts if run is not None and run["outcome"] == "failed"]
    newest = max((run for run in attempts if run is not None), key=lambda run: run["finished_at"], default=None)
    success_times = [run["finished_at"] for run in successes if run is not None]
    stamps = [stamp for t in tables if t in known and (stamp := known[t].updated) is not None]
    return FetchHealth(
        last_attempt=newest["finished_at"] if newest else None,
        last_outcome="failed" if failed else (newest["outcome"] if newest else None),
        last_error=failed[0]["error"] if failed else None,
        last_success=min(success_times) if len(success_times) == len(tables) and success_times else None,
        source_updated=max(stamps) if stamps else None,
    )


def evaluate_all(
    catalogue: Catalogue, store: Store, today: date, now: datetime | None = None, timezone: ZoneInfo | None = None
) -> list[Evaluation]:
    """One evaluation per active indicator, in catalogue order, for the kommune's current code.

    With `now` (and its time zone), each fetched indicator also gets its next scheduled check.
    """
    region = catalogue.municipality.current_code
    by_indicator: dict[str, list[Vintage]] = {}
    for vintage in store.all_vintages(region):
        by_indicator.setdefault(vintage.indicator_id, []).append(vintage)
    kostra = kostra_tables(catalogue)
    return [
        evaluate_indicator(
            indicator, by_indicator.get(indicator.id, []), release_rule(catalogue, indicator, kostra), today,
            fetch_health(store, indicator), _next_check(indicator, now, timezone),
        )
        for indicator in catalogue.indicators
    ]


def _next_check(indicator: Indicator, now: datetime | None, timezone: ZoneInfo | None) -> str | None:
    if indicator.fetch is None or now is None:
        return None
    fire = next_check(indicator.fetch.kind, now, timezone or ZoneInfo("Europe/Oslo"))
    return fire.isoformat() if fire else None
