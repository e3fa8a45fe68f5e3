"""The web's clock and catalogue: what every page and API answer reads besides the store.

The clock is the real one in the configured time zone, unless the app config fixes it for tests:
`app.config["MONITOR_TODAY"]` (a `date` or "YYYY-MM-DD": noon that day, local time) or
`app.config["MONITOR_NOW"]` (an aware `datetime`). The catalogue and kostra.yaml are parsed once per app and
parsed again only when the file changes (its path, mtime, size or inode).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import date, datetime, time
from pathlib import Path
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from flask import current_app

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.catalogue.kostra import KostraCatalogue, kostra_path_for, load_kostra
from monitor.report.kostra import KostraAreaPage, kostra_pages
from monitor.report.readcache import KommuneReads, kommune_reads
from monitor.core.settings import Settings
from monitor.store.database import Store

_LOCK = threading.Lock()
_CATALOGUE_KEY = "monitor_catalogue"
_KOSTRA_KEY = "monitor_kostra"
T = TypeVar("T")


def settings() -> Settings:
    """The app's settings."""
    value = current_app.config["MONITOR_SETTINGS"]
    assert isinstance(value, Settings)
    return value


def zone() -> ZoneInfo:
    """The configured time zone (MONITOR_TIMEZONE)."""
    return ZoneInfo(settings().timezone)


def now() -> datetime:
    """The current moment, local time; fixed by MONITOR_NOW or MONITOR_TODAY in the app config."""
    fixed = current_app.config.get("MONITOR_NOW")
    if isinstance(fixed, datetime):
        return fixed.astimezone(zone())
    day = current_app.config.get("MONITOR_TODAY")
    if isinstance(day, str):
        day = date.fromisoformat(day)
    if isinstance(day, date):
        return datetime.combine(day, time(12, 0), tzinfo=zone())
    return datetime.now(zone())


def today() -> date:
    """Today's date, local time (see `now`)."""
    return now().date()


def catalogue() -> Catalogue:
    """The catalogue, parsed once and again only when the file changes."""
    return _parsed(settings().catalogue, _CATALOGUE_KEY, load_catalogue)


def kostra() -> KostraCatalogue | None:
    """kostra.yaml next to the catalogue, parsed once and again only when it changes; None when there is none."""
    path = kostra_path_for(settings().catalogue)
    if not path.exists():
        return None
    return _parsed(path, _KOSTRA_KEY, load_kostra)


def kostra_version() -> tuple[object, ...] | None:
    """What identifies the parsed kostra.yaml in use (path, mtime, size, inode), for cache keys; None without one."""
    cached = current_app.extensions.get(_KOSTRA_KEY)
    return None if cached is None else tuple(cached[0])


def _parsed(path: Path, slot: str, load: Callable[[Path], T]) -> T:
    """`load(path)`, remembered in the app under `slot` until the file's path, mtime, size or inode changes."""
    try:
        stat = path.stat()
        key: tuple[object, ...] = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except OSError:
        return load(path)  # raises an error naming the file
    cached = current_app.extensions.get(slot)
    if cached is not None and cached[0] == key:
        return cast(T, cached[1])
    with _LOCK:
        cached = current_app.extensions.get(slot)
        if cached is not None and cached[0] == key:
            return cast(T, cached[1])
        parsed = load(path)
        current_app.extensions[slot] = (key, parsed)
        return parsed


def kommune(store: Store, catalogue_now: tuple[Catalogue, datetime] | None = None) -> KommuneReads:
    """Every vintage for the kommune and every indicator's evaluation now (`monitor.report.readcache`).

    Reused while the stored data, the catalogue, the date and the next scheduled checks stay the same;
    the first request after any write reads and evaluates afresh. Pass the request's (catalogue, now)
    when the caller uses them too, so both see the same.
    """
    parsed, moment = catalogue_now or (catalogue(), now())
    return kommune_reads(parsed, store, moment, zone())


def kostra_derived(store: Store, key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
    """`build()` for the KOSTRA pages, kept with the kommune's cached reads (`monitor.report.readcache`): rebuilt after any
    write to the store, on a new day, or when kostra.yaml changes."""
    return kommune(store).derived(("kostra", kostra_version(), *key), build)


def kostra_pages_for(store: Store, kostra: KostraCatalogue, year: int | None = None) -> list[KostraAreaPage]:
    """Every tjenesteområde's KOSTRA page for `year` (default: the newest with figures for Asker), cached as above."""
    moment = now()
    return kostra_derived(store, ("pages", year), lambda: kostra_pages(kostra, store, moment, year))
