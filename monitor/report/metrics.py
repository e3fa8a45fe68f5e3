"""The operations figures `/metrics` serves, as a prometheus_client Collector (the web renders it per scrape).

Everything that depends only on the stored data (the indicators' states, the run log per source, the number of
observations and vintages) is built once per cached reading (`monitor.report.readcache`: rebuilt after any write,
on a new day, or when a scheduled check passes); the outbox and the scheduler's heartbeat are read on each scrape
(one small query each). Metric names and labels are documented in docs/operations.md.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.catalogue.indicators import Catalogue
from monitor.evaluate.indicator import State
from monitor.report.readcache import KommuneReads
from monitor.sources.registry import label, sources_used
from monitor.store.database import Store
from monitor.store.ops import OUTCOMES, Outbox, StoredData, heartbeat, outbox, stored_data

IMPORT = "import"  # the source label of indicators brought as files


@dataclass(frozen=True)
class StoredFigures:
    """What depends on the stored data alone: kept with the cached reading."""

    indicators: dict[tuple[str, str], int]  # (state, source) → number of indicators, every combination listed
    data: StoredData
    sources: list[str]  # every source shown: the catalogue's, the run log's, the KOSTRA comparison's


@dataclass(frozen=True)
class Snapshot:
    """Everything one scrape shows."""

    stored: StoredFigures
    outbox: Outbox
    heartbeat_age: float | None  # seconds since the scheduler's last heartbeat; None: no scheduler holds the lock


def stored_figures(catalogue: Catalogue, reads: KommuneReads, store: Store, kostra_fetched: bool) -> StoredFigures:
    """The figures of the stored data, kept with `reads` (computed once per cached reading)."""

    def build() -> StoredFigures:
        stat = os.stat(store.path)
        with store.reading():
            data = stored_data(store.conn, (os.path.abspath(store.path), stat.st_dev, stat.st_ino))
        feeds = {i.id: (i.fetch.kind if i.fetch is not None else IMPORT) for i in catalogue.indicators}
        counted = Counter((e.state.value, feeds.get(e.id, IMPORT)) for e in reads.evaluations)
        shown = sorted({*feeds.values()})
        indicators = {(state.value, source): counted[(state.value, source)] for state in State for source in shown}
        known = [*sources_used(catalogue), *(["ssb-kostra"] if kostra_fetched else []), IMPORT]
        sources = list(dict.fromkeys([*known, *data.sources]))
        return StoredFigures(indicators, data, sources)

    return reads.derived(("metrics", kostra_fetched), build)


def snapshot(catalogue: Catalogue, reads: KommuneReads, store: Store, now: datetime, *, kostra_fetched: bool) -> Snapshot:
    """This scrape's figures: the stored ones from the cached reading, the outbox and the heartbeat read now."""
    stored = stored_figures(catalogue, reads, store, kostra_fetched)
    with store.reading():
        mails = outbox(store.conn, now)
        beat = heartbeat(store.conn)
    age = max(0.0, (now - beat).total_seconds()) if beat is not None else None
    return Snapshot(stored, mails, age)


class SnapshotCollector(Collector):
    """One snapshot as Prometheus metric families (registered in a fresh CollectorRegistry per scrape)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        stored, data = self.snap.stored, self.snap.stored.data
        indicators = GaugeMetricFamily(
            "monitor_indicators", "Indicators by evaluation state and by the source that feeds them", labels=["state", "source"]
        )
        for (state, source), number in sorted(stored.indicators.items()):
            indicators.add_metric([state, source], number)
        yield indicators

        info = InfoMetricFamily("monitor_source", "The sources the monitor knows, with their names for people",
                                labels=["source"])
        success = GaugeMetricFamily("monitor_source_last_success_timestamp_seconds",
                                    "When a run of the source last succeeded (ok or unchanged), unix seconds",
                                    labels=["source"])
        attempt = GaugeMetricFamily("monitor_source_last_attempt_timestamp_seconds",
                                    "When a run of the source last finished, whatever its outcome, unix seconds",
                                    labels=["source"])
        failures = GaugeMetricFamily("monitor_source_consecutive_failures",
                                     "Failed runs in a row of the source's worst table since that table's last success",
                                     labels=["source"])
        runs = CounterMetricFamily("monitor_fetch_runs", "Fetch and import runs in the run log, by source and outcome",
                                   labels=["source", "outcome"])
        for source in stored.sources:
            info.add_metric([source], {"label": label(source)})
            logged = data.sources.get(source)
            if logged is not None and logged.last_success is not None:
                success.add_metric([source], logged.last_success.timestamp())
            if logged is not None and logged.last_attempt is not None:
                attempt.add_metric([source], logged.last_attempt.timestamp())
            failures.add_metric([source], logged.consecutive_failures if logged is not None else 0)
            for outcome in OUTCOMES:
                runs.add_metric([source, outcome], logged.runs[outcome] if logged is not None else 0)
        yield from (info, success, attempt, failures, runs)

        mails = GaugeMetricFamily("monitor_outbox_emails", "Alert e-mails not sent: waiting, held by a live claim, "
                                  "or failed at the last attempt", labels=["state"])
        for state, number in (("waiting", self.snap.outbox.waiting), ("held", self.snap.outbox.held),
                              ("failed", self.snap.outbox.failed)):
            mails.add_metric([state], number)
        yield mails

        yield GaugeMetricFamily("monitor_scheduler_running", "1 while a scheduler holds the lock on this database",
                                value=0 if self.snap.heartbeat_age is None else 1)
        if self.snap.heartbeat_age is not None:
            yield GaugeMetricFamily("monitor_scheduler_heartbeat_age_seconds",
                                    "Seconds since the scheduler's last heartbeat", value=self.snap.heartbeat_age)
        yield GaugeMetricFamily("monitor_observations", "Stored observations: distinct (indicator, region, period)",
                                value=data.observations)
        yield GaugeMetricFamily("monitor_vintages", "Stored vintages: every value as it was known at a time",
                                value=data.vintages)
