"""The one source registry: every source the monitor knows, declared once.

An entry says everything the product knows about a source: its run-log key and bokmål label, the setting that holds
its URL, its daily schedule, the adapter that asks it (fetchers/), what a run of it fetches (its plan), its online
check (`validate --online`), its default release calendar and the page that shows it. The scheduler, the CLI, the
sources page, the alerts and the evaluation's clocks all read this table.

Adding an online source is one entry here, its module(s) in fetchers/ (a client and an adapter meeting
fetchers.base.SourceAdapter) and its `fetch` blocks in indicators.yaml (docs/sources.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fetchers.barnehagefakta import BarnehagefaktaClient, BarnehagefaktaSource, check_barnehagefakta_online
from fetchers.base import SourceAdapter
from fetchers.fhi import FhiClient
from fetchers.fhi_source import FhiSource
from fetchers.http import JsonApiClient
from fetchers.miljodir_source import MiljodirClient, MiljodirSource
from fetchers.ssb import SsbClient
from fetchers.ssb_source import SsbSource
from fetchers.udir import UdirClient
from fetchers.udir_source import UdirSource
from monitor.catalogue.indicators import Catalogue, Frequency, Indicator, SourceKind
from monitor.catalogue.kostra import KostraCatalogue, kostra_path_for, load_kostra
from monitor.catalogue.releases import KOSTRA_PRELIMINARY, WAVE_YEARS, ReleaseRule
from monitor.core.settings import Settings
from monitor.sources.feeds import feed_view, feeds
from monitor.sources.kostra import KostraPlan, check_kostra_online, kostra_adapter
from monitor.sources.online import check_fhi_online, check_miljodir_online, check_ssb_online, check_udir_online
from monitor.sources.pipeline import Deadlines, FetchPlan, FetchReport, IndicatorPlan, Progress, fetch_source
from monitor.sources.schedule import SourceJob
from monitor.store.database import Store

Clock = Callable[[], datetime]
SSB_TABLE_URL = "https://www.ssb.no/statbank/table/{table}"


@dataclass(frozen=True)
class Catalogues:
    """What the sources fetch for: the indicator catalogue and, when the KOSTRA comparison is on, kostra.yaml."""

    indicators: Catalogue
    kostra: KostraCatalogue | None = None

    def kostra_rows(self) -> KostraCatalogue:
        if self.kostra is None:
            raise ValueError("the KOSTRA source needs kostra.yaml")
        return self.kostra


@dataclass(frozen=True)
class Source:
    """One source, as the whole product knows it."""

    key: str  # the run-log name, the silence and request key: "ssb", "ssb-kostra", "fhi", "udir", "import"
    label: str  # for people: "SSB", "SSB KOSTRA"
    page: str  # the web page that shows its runs
    feeds: Literal["indicators", "kostra", "imports"]  # the indicator catalogue's fetch blocks, kostra.yaml, or files
    url_setting: str | None = None  # the Settings field with the base URL (MONITOR_<FIELD>)
    job: SourceJob | None = None  # its daily check
    client: type[JsonApiClient] | None = None
    adapter: Callable[[Any, Catalogues, Clock], SourceAdapter] | None = None  # (client, catalogues, clock)
    plan: Callable[[Catalogues, set[str] | None], FetchPlan] | None = None  # (catalogues, only) → what a run fetches
    check: Callable[[Catalogues, Any], tuple[int, list[str]]] | None = None  # `validate --online`: (tables, problems)
    checked_against: str = ""  # what the online check compares with, in words
    calendar: ReleaseRule | None = None  # when a period is due, unless the indicator's frequency says otherwise
    table_url: str | None = None  # the public page of one of its tables ({table})

    @property
    def online(self) -> bool:
        return self.client is not None

    def url(self, settings: Settings) -> str:
        if self.url_setting is None:
            raise ValueError(f"{self.key} has no URL")
        return str(getattr(settings, self.url_setting))

    def link(self, table: str) -> str | None:
        """The source's public page of a table, where a stable address is known."""
        return self.table_url.format(table=table) if self.table_url else None


SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        # SSB at 08:30, away from 07:55–08:15 and SSB's 05:00/11:30 metadata refreshes; FHI and Udir after it; the
        # KOSTRA comparison last, so the two SSB runs never share SSB's rate window.
        Source(
            "ssb", "SSB", "/kilder", "indicators", "ssb_url", SourceJob("ssb", 8, 30), SsbClient,
            adapter=lambda client, catalogues, clock: SsbSource(client, feed_view(catalogues.indicators)),
            plan=lambda catalogues, only: IndicatorPlan(catalogues.indicators, "ssb", only),
            check=lambda catalogues, client: check_ssb_online(catalogues.indicators, client),
            checked_against="metadata", calendar=ReleaseRule(kind="annual", due="06-30", year_offset=1),
            table_url=SSB_TABLE_URL,
        ),
        Source(
            "fhi", "FHI", "/kilder", "indicators", "fhi_url", SourceJob("fhi", 9, 0), FhiClient,
            adapter=lambda client, catalogues, clock: FhiSource(client, catalogues.indicators, clock=clock),
            plan=lambda catalogues, only: IndicatorPlan(catalogues.indicators, "fhi", only),
            check=lambda catalogues, client: check_fhi_online(catalogues.indicators, client),
            checked_against="dimensjonene", calendar=ReleaseRule(kind="annual", due="06-30", year_offset=1),
        ),
        Source(
            "udir", "Udir", "/kilder", "indicators", "udir_url", SourceJob("udir", 9, 15), UdirClient,
            adapter=lambda client, catalogues, clock: UdirSource(client, catalogues.indicators),
            plan=lambda catalogues, only: IndicatorPlan(catalogues.indicators, "udir", only),
            check=lambda catalogues, client: check_udir_online(catalogues.indicators, client),
            checked_against="filterverdiene", calendar=ReleaseRule(kind="annual", due="03-31", year_offset=1),
        ),
        Source(
            "barnehagefakta", "Barnehagefakta (Udir)", "/kilder", "indicators", "barnehagefakta_url",
            SourceJob("barnehagefakta", 9, 50), BarnehagefaktaClient,
            adapter=lambda client, catalogues, clock: BarnehagefaktaSource(client, catalogues.indicators, clock=clock),
            plan=lambda catalogues, only: IndicatorPlan(catalogues.indicators, "barnehagefakta", only),
            check=lambda catalogues, client: check_barnehagefakta_online(catalogues.indicators, client),
            checked_against="kommunesvaret", calendar=ReleaseRule(kind="annual", due="06-30", year_offset=1),
        ),
        Source(
            "ssb-kostra", "SSB KOSTRA", "/kostra", "kostra", "ssb_url", SourceJob("ssb-kostra", 9, 30), SsbClient,
            adapter=lambda client, catalogues, clock: kostra_adapter(client, catalogues.kostra_rows()),
            plan=lambda catalogues, only: KostraPlan(catalogues.kostra_rows(), only),
            check=lambda catalogues, client: check_kostra_online(catalogues.kostra_rows(), client),
            checked_against="metadata", calendar=KOSTRA_PRELIMINARY, table_url=SSB_TABLE_URL,
        ),
        # Miljødirektoratet publishes its emissions workbook once a year (no API, no change listing): the whole file
        # is downloaded on Mondays and read only when its bytes changed (docs/sources.md).
        Source(
            "miljodir", "Miljødirektoratet", "/kilder", "indicators", "miljodir_url",
            SourceJob("miljodir", 9, 45, day_of_week="mon"), MiljodirClient,
            adapter=lambda client, catalogues, clock: MiljodirSource(client, catalogues.indicators),
            plan=lambda catalogues, only: IndicatorPlan(catalogues.indicators, "miljodir", only),
            check=lambda catalogues, client: check_miljodir_online(catalogues.indicators, client),
            checked_against="arket og kolonnene i arbeidsboken",
        ),
        # Files people bring (the import page and `monitor import`): no client, no schedule.
        Source("import", "Import", "/kilder", "imports", calendar=ReleaseRule(kind="annual", due="06-30", year_offset=1)),
        Source("import:miljodir", "Miljødirektoratet (import)", "/kilder", "imports"),
    )
}
# The sources the indicator catalogue's `fetch` blocks name (`monitor fetch --source`), in run order.
INDICATOR_SOURCES: dict[str, Source] = {key: s for key, s in SOURCES.items() if s.feeds == "indicators"}
IMPORT_SOURCES: tuple[str, ...] = tuple(key for key, s in SOURCES.items() if s.feeds == "imports")
JOBS: tuple[SourceJob, ...] = tuple(s.job for s in SOURCES.values() if s.job is not None)


def label(key: str) -> str:
    """A source's name for people (the key itself for one the registry does not know)."""
    source = SOURCES.get(key)
    return source.label if source else key


def next_check(source: str, now: datetime, timezone: ZoneInfo) -> datetime | None:
    """The next scheduled check of a source after `now` (None for a source with no job)."""
    entry = SOURCES.get(source)
    if entry is None or entry.job is None:
        return None
    fire = entry.job.trigger(timezone).get_next_fire_time(None, now)
    return fire if isinstance(fire, datetime) else None


def default_rule(indicator: Indicator, kostra_tables: frozenset[str]) -> ReleaseRule:
    """The calendar an indicator follows when the catalogue names none: none for sporadic sources, the survey
    waves for surveys, KOSTRA's for an SSB table with KOSTRA's regions, else its source's calendar."""
    if indicator.frequency in (Frequency.SPORADIC, Frequency.UNKNOWN):
        return ReleaseRule(kind="none")
    if indicator.frequency in WAVE_YEARS:
        return ReleaseRule(kind="waves", due="12-31", year_offset=1, grace_days=30)
    if indicator.source.kind is SourceKind.SSB and set(indicator.source.tables) & kostra_tables:
        return SOURCES["ssb-kostra"].calendar or KOSTRA_PRELIMINARY
    entry = SOURCES.get(indicator.source.kind.value) or SOURCES["import"]
    return entry.calendar or ReleaseRule(kind="annual", due="06-30", year_offset=1)


def sources_used(catalogue: Catalogue, indicator_ids: set[str] | None = None) -> list[str]:
    """The indicator sources (in registry order) that feed the catalogue's (or the given) indicators."""
    kinds = {feed.fetch.kind for feed in feeds(catalogue, only=indicator_ids)}  # control blocks too
    return [name for name in INDICATOR_SOURCES if name in kinds]


def scheduled_sources(catalogues: Catalogues) -> list[str]:
    """Every online source this deployment fetches: the catalogue's, and the KOSTRA comparison's when it has rows."""
    kostra = ["ssb-kostra"] if catalogues.kostra is not None and catalogues.kostra.fetched_series else []
    return sources_used(catalogues.indicators) + kostra


def local_clock(settings: Settings) -> Clock:
    """The wall clock in the settings' time zone: the one place a fetch run reads the real time."""
    zone = ZoneInfo(settings.timezone)
    return lambda: datetime.now(zone)


def catalogues_for(
    settings: Settings, catalogue: Catalogue, kostra: KostraCatalogue | None = None, entry: Source | None = None
) -> Catalogues:
    """The catalogues a run of `entry` needs: kostra.yaml (next to the indicator catalogue) is read when not given,
    unless the source feeds only the indicator catalogue."""
    if kostra is None and (entry is None or entry.feeds != "indicators"):
        path = kostra_path_for(settings.catalogue)
        kostra = load_kostra(path) if path.exists() else None
    return Catalogues(catalogue, kostra)


def run_fetch(
    settings: Settings,
    catalogue: Catalogue,
    store: Store,
    source: str,
    *,
    kostra: KostraCatalogue | None = None,
    force: bool = False,
    only: set[str] | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> FetchReport:
    """One run of one online source against the store, through the one pipeline.

    `only` restricts the run: indicator ids for an indicator source, SSB table ids for the KOSTRA comparison.
    """
    entry = SOURCES[source]
    if entry.client is None or entry.adapter is None or entry.plan is None:
        raise ValueError(f"{source} is not an online source")
    now = clock or local_clock(settings)
    catalogues = catalogues_for(settings, catalogue, kostra, entry)
    with entry.client(entry.url(settings), timeout=settings.http_timeout) as client:
        return fetch_source(
            entry.adapter(client, catalogues, now), entry.plan(catalogues, only), store, clock=now,
            raw_dir=settings.raw_dir, force=force, progress=progress,
            deadlines=Deadlines(settings.fetch_run_deadline, settings.fetch_table_deadline),
        )


def check_online(
    settings: Settings, catalogue: Catalogue, source: str, *, kostra: KostraCatalogue | None = None
) -> tuple[int, list[str]]:
    """`validate --online` for one source: (tables checked, problems)."""
    entry = SOURCES[source]
    if entry.client is None or entry.check is None:
        raise ValueError(f"{source} has no online check")
    catalogues = catalogues_for(settings, catalogue, kostra, entry)
    with entry.client(entry.url(settings), timeout=settings.http_timeout) as client:
        return entry.check(catalogues, client)
