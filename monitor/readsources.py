"""What the sources page shows: one row per source table with its clocks, and the latest imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.catalogue import Catalogue, Indicator
from monitor.fetchrequests import FetchRequest, latest_requests
from monitor.jobs import next_check
from monitor.model import TableMeta
from monitor.readindicator import OUTCOME_WORDS, fetch_tables, table_url
from monitor.store import Store

SOURCE_LABELS = {"ssb": "SSB", "fhi": "FHI", "udir": "Udir"}
IMPORT_SOURCES = ("import", "import:miljodir")


@dataclass(frozen=True)
class TableRow:
    """One source table and what the run log and the source say about it."""

    table: str
    url: str | None
    meta: TableMeta | None
    indicators: list[Indicator]
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

    @property
    def failing(self) -> int:
        return sum(1 for row in self.rows if row.last_outcome == "failed")


@dataclass(frozen=True)
class SourcesPage:
    groups: list[SourceGroup]
    imports: list[dict[str, Any]]  # the newest import runs, newest first


def sources_page(catalogue: Catalogue, store: Store, now: datetime, *, import_limit: int = 20) -> SourcesPage:
    """Every online source the catalogue uses, in a fixed order, with one row per table."""
    zone = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Oslo")
    requests = latest_requests(store)
    users: dict[tuple[str, str], list[Indicator]] = {}
    for indicator in catalogue.indicators:
        if indicator.fetch is not None:
            for table in fetch_tables(indicator):
                users.setdefault((indicator.fetch.kind, table), []).append(indicator)
    groups: list[SourceGroup] = []
    for source, label in SOURCE_LABELS.items():
        tables = sorted(table for kind, table in users if kind == source)
        if not tables:
            continue
        fire = next_check(source, now, zone)
        group = SourceGroup(source, label, fire.isoformat() if fire else None, requests.get(source))
        known = store.table_meta(source)
        for table in tables:
            attempt = store.last_run(source, table, ("ok", "unchanged", "failed"))
            success = store.last_run(source, table)
            group.rows.append(TableRow(
                table=table, url=table_url(source, table), meta=known.get(table), indicators=users[(source, table)],
                last_attempt=attempt["finished_at"] if attempt else None,
                last_outcome=attempt["outcome"] if attempt else None,
                last_success=success["finished_at"] if success else None,
                error=attempt["error"] if attempt and attempt["outcome"] == "failed" else None,
            ))
        groups.append(group)
    imports = [run for source in IMPORT_SOURCES for run in store.runs(source)]
    imports.sort(key=lambda run: run["id"], reverse=True)
    return SourcesPage(groups, imports[:import_limit])


def known_source(catalogue: Catalogue, source: str) -> bool:
    """True when `source` is an online source the catalogue fetches from."""
    return source in SOURCE_LABELS and any(i.fetch is not None and i.fetch.kind == source for i in catalogue.indicators)
