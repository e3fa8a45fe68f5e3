"""The online sources the product knows, and one fetch run of a source: the composition root for fetch jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fetchers.base import SourceAdapter
from fetchers.fhi import FhiClient
from fetchers.fhi_source import FhiSource
from fetchers.http import JsonApiClient
from fetchers.ssb import SsbClient
from fetchers.ssb_source import SsbSource
from fetchers.udir import UdirClient
from fetchers.udir_source import UdirSource
from monitor.catalogue.indicators import Catalogue
from monitor.sources.online import check_fhi_online, check_ssb_online, check_udir_online
from monitor.sources.pipeline import FetchReport, Progress, fetch_source
from monitor.core.settings import Settings
from monitor.store.database import Store

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class OnlineSource:
    """How `fetch`, `validate --online` and the scheduler reach one source."""

    label: str  # for people: "SSB", "FHI"
    client: type[JsonApiClient]
    url_field: str  # the Settings field with the base URL (MONITOR_<FIELD>)
    adapter: Callable[[Any, Catalogue, Clock], SourceAdapter]  # (client, catalogue, clock)
    check: Callable[[Catalogue, Any], tuple[int, list[str]]]  # (catalogue, client) → (tables, problems)
    checked_against: str  # what `validate --online` compares the catalogue with, in words


ONLINE_SOURCES: dict[str, OnlineSource] = {
    "ssb": OnlineSource("SSB", SsbClient, "ssb_url", lambda client, catalogue, clock: SsbSource(client, catalogue),
                        check_ssb_online, "metadata"),
    "fhi": OnlineSource("FHI", FhiClient, "fhi_url",
                        lambda client, catalogue, clock: FhiSource(client, catalogue, clock=clock),
                        check_fhi_online, "dimensjonene"),
    "udir": OnlineSource("Udir", UdirClient, "udir_url", lambda client, catalogue, clock: UdirSource(client, catalogue),
                         check_udir_online, "filterverdiene"),
}


def sources_used(catalogue: Catalogue, indicator_ids: set[str] | None = None) -> list[str]:
    """The online sources (in ONLINE_SOURCES order) that feed the catalogue's (or the given) indicators."""
    kinds = {
        i.fetch.kind for i in catalogue.indicators
        if i.fetch is not None and (indicator_ids is None or i.id in indicator_ids)
    }
    return [name for name in ONLINE_SOURCES if name in kinds]


def run_fetch(
    settings: Settings,
    catalogue: Catalogue,
    store: Store,
    source: str,
    *,
    force: bool = False,
    only: set[str] | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """One run of one source against the store, the clock in the settings' time zone."""
    spec = ONLINE_SOURCES[source]
    zone = ZoneInfo(settings.timezone)

    def clock() -> datetime:
        return datetime.now(zone)

    with spec.client(getattr(settings, spec.url_field), timeout=settings.http_timeout) as client:
        return fetch_source(
            spec.adapter(client, catalogue, clock), catalogue, store, clock=clock, raw_dir=settings.raw_dir,
            force=force, only=only, progress=progress,
        )


def check_online(settings: Settings, catalogue: Catalogue, source: str) -> tuple[int, list[str]]:
    """`validate --online` for one source: (tables checked, problems)."""
    spec = ONLINE_SOURCES[source]
    with spec.client(getattr(settings, spec.url_field), timeout=settings.http_timeout) as client:
        return spec.check(catalogue, client)
