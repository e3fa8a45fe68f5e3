"""What the sources page shows: one row per source table with its clocks, and the latest imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Catalogue
from monitor.store.fetchrequests import FetchRequest, latest_requests
from monitor.catalogue.kostra import KOSTRA_SOURCE, KostraCatalogue
from monitor.sources.feeds import feeds
from monitor.sources.registry import IMPORT_SOURCES, SOURCES, next_check
from monitor.core.model import TableMeta
from monitor.evaluate.failures import failure_kind, failure_sentence
from monitor.evaluate.indicator import short_label
from monitor.report.indicator import OUTCOME_WORDS
from monitor.report.readmodel import area_slug
from monitor.store.database import Store

BASELINE_SOURCE = "baseline"  # monitor/seed/baseline.py: the source of the printed handlingsprogram's values


@dataclass(frozen=True)
class TableRow:
    """One source table and what the run log and the source say about it."""

    table: str
    url: str | None
    meta: TableMeta | None
    users: list[tuple[str, str]]  # (path, text): the indicators, or the KOSTRA rows, the table feeds
    last_attempt: str | None  # UTC ISO
    last_outcome: str | None  # ok | unchanged | failed
    last_success: str | None
    error: str | None  # the error of the last attempt, when it failed

    @property
    def outcome_word(self) -> str:
        return OUTCOME_WORDS.get(self.last_outcome or "", "aldri forsøkt")


@dataclass
class SourceGroup:
    """One online source: its tables, its next scheduled check and the newest fetch asked for in the UI."""

    source: str
    label: str
    next_check: str | None  # ISO, local time
    request: FetchRequest | None
    rows: list[TableRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the failures in words, once each (issue 17)

    @property
    def failing(self) -> int:
        return sum(1 for row in self.rows if row.last_outcome == "failed")


@dataclass(frozen=True)
class SourcesPage:
    groups: list[SourceGroup]
    imports: list[dict[str, Any]]  # the newest import runs, newest first
    unconfirmed_owners: list[tuple[str, str]] = field(default_factory=list)  # (Kilde text, address): get no alerts


def sources_page(
    catalogue: Catalogue, store: Store, now: datetime, *, import_limit: int = 20, kostra: KostraCatalogue | None = None,
) -> SourcesPage:
    """Every online source the catalogue (and kostra.yaml, when given) uses, in a fixed order, one row per table."""
    zone = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Oslo")
    requests = latest_requests(store)
    users: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for feed in feeds(catalogue):  # each fetch block, and each imported value's control figure
        name = short_label(feed.indicator)  # a name, not the id (issue 17)
        for table in sorted({series.table for series in feed.fetch.series.values()}):
            users.setdefault((feed.fetch.kind, table), []).append(
                (f"/indikator/{feed.indicator.id}", f"{name} (kontrolltall)" if feed.is_control else name))
    for area in kostra.areas if kostra is not None else []:
        for row in area.rows:
            if row.ssb is not None:
                users.setdefault((KOSTRA_SOURCE, row.ssb.table), []).append(
                    (f"/kostra/{area_slug(area.name)}#rad-{row.id}", row.name))
    groups: list[SourceGroup] = []
    for source, entry in SOURCES.items():
        tables = sorted(table for kind, table in users if kind == source)
        if not tables:
            continue
        fire = next_check(source, now, zone)
        group = SourceGroup(source, entry.label, fire.isoformat() if fire else None, requests.get(source))
        known = store.table_meta(source)
        failures: dict[str, tuple[str, str]] = {}  # kind → (an error of that kind, when the failures began)
        for table in tables:
            attempt = store.last_run(source, table, ("ok", "unchanged", "failed"))
            success = store.last_run(source, table)
            group.rows.append(TableRow(
                table=table, url=entry.link(table), meta=known.get(table),
                users=users[(source, table)],
                last_attempt=attempt["finished_at"] if attempt else None,
                last_outcome=attempt["outcome"] if attempt else None,
                last_success=success["finished_at"] if success else None,
                error=attempt["error"] if attempt and attempt["outcome"] == "failed" else None,
            ))
            if attempt is not None and attempt["outcome"] == "failed":
                since = store.failing_since(source, table) or attempt["finished_at"]
                kind = failure_kind(attempt["error"])
                if kind not in failures or since < failures[kind][1]:
                    failures[kind] = (attempt["error"], since)
        # One sentence per kind of failure for the whole source, since its earliest table began failing.
        group.problems = [failure_sentence(entry.label, error, since, zone) for error, since in failures.values()]
        groups.append(group)
    imports = [run for source in IMPORT_SOURCES for run in store.runs(source)]
    # Loading the printed baseline (`monitor init`) is listed with the imports, in words (issue 17).
    imports += [dict(run, file_name=f"Trykte tall fra {run['target']} (grunnlinjen, lastet av monitor init)")
                for run in store.runs(BASELINE_SOURCE)]
    imports.sort(key=lambda run: run["id"], reverse=True)
    unconfirmed = [(entry.name, entry.owner) for entry in catalogue.unconfirmed_owners]
    return SourcesPage(groups, imports[:import_limit], unconfirmed)


def known_source(catalogue: Catalogue, source: str, kostra: KostraCatalogue | None = None) -> bool:
    """True when `source` is an online source the catalogue (or kostra.yaml's SSB rows) fetches from."""
    if source == KOSTRA_SOURCE:
        return kostra is not None and bool(kostra.fetched_series)
    entry = SOURCES.get(source)
    return entry is not None and entry.feeds == "indicators" and any(
        i.fetch is not None and i.fetch.kind == source for i in catalogue.indicators
    )
