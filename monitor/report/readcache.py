"""The kommune's vintages and evaluations, kept between web requests while nothing they depend on changes.

Every page and API answer starts from the same two things: every vintage for the kommune and the
evaluation of every indicator. Both are pure functions of the stored data, the catalogue and the clock,
so a long-running process keeps the last result per database and reuses it while

- the store's fingerprint (newest observation id, newest run id, the source-table rows) is unchanged,
- the catalogue is the same object (the web re-parses it only when the file changes),
- the local date is the same (states and late days count days), and
- no source's next scheduled check has passed (each evaluation shows it).

A write by any process (a fetch, an import, the scheduler) moves the fingerprint, so the next request
sees it. Nothing here is a second source of truth: on a miss everything is read and evaluated afresh,
in one read transaction. What is handed out is shared between threads and must not be changed.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from monitor.evaluate.assessment import evaluate_all, kommune_vintages
from monitor.catalogue.indicators import Catalogue
from monitor.evaluate.indicator import Evaluation
from monitor.core.model import Vintage
from monitor.store.database import Store

T = TypeVar("T")
DATABASES = 4  # databases remembered per process (a service has one; tests have many)
DERIVED = 64  # derived values remembered per KommuneReads (e.g. one per overview filter)


@dataclass(frozen=True, eq=False)
class KommuneReads:
    """Every vintage for the kommune's current code (per indicator) and every indicator's evaluation."""

    vintages: dict[str, list[Vintage]]
    evaluations: list[Evaluation]
    by_id: dict[str, Evaluation] = field(init=False, repr=False)
    _derived: OrderedDict[Hashable, Any] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {e.id: e for e in self.evaluations})
        object.__setattr__(self, "_derived", OrderedDict())
        object.__setattr__(self, "_lock", threading.Lock())

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value computed from these reads only (and `key`), built once and kept as long as they are."""
        with self._lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                found: T = self._derived[key]
                return found
        value = build()
        with self._lock:
            self._derived[key] = value
            while len(self._derived) > DERIVED:
                self._derived.popitem(last=False)
        return value


@dataclass(frozen=True)
class _Entry:
    catalogue: Catalogue
    key: tuple[Any, ...]
    valid_from: datetime
    valid_until: datetime
    reads: KommuneReads

    def serves(self, catalogue: Catalogue, key: tuple[Any, ...], now: datetime) -> bool:
        return self.catalogue is catalogue and self.key == key and self.valid_from <= now < self.valid_until


class ReadCache:
    """The newest `KommuneReads` per database (thread-safe; one computation at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.misses = 0

    def get(self, catalogue: Catalogue, store: Store, now: datetime, zone: ZoneInfo) -> KommuneReads:
        """The kommune's vintages and evaluations as of `now` (an aware local datetime)."""
        path = os.path.abspath(store.path)  # no resolve(): realpath costs syscalls on every request
        key = (now.date(), store.fingerprint())
        entry = self._entries.get(path)
        if entry is not None and entry.serves(catalogue, key, now):
            return entry.reads
        with self._lock:
            entry = self._entries.get(path)
            if entry is not None and entry.serves(catalogue, key, now):
                return entry.reads
            with store.reading():
                key = (now.date(), store.fingerprint())
                vintages = kommune_vintages(catalogue, store)
                evaluations = evaluate_all(catalogue, store, now.date(), now, zone, vintages=vintages)
            reads = KommuneReads(vintages, evaluations)
            self._entries[path] = _Entry(catalogue, key, now, _valid_until(evaluations, now, zone), reads)
            self._entries.move_to_end(path)
            while len(self._entries) > DATABASES:
                self._entries.popitem(last=False)
            self.misses += 1
            return reads


def _valid_until(evaluations: list[Evaluation], now: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight, or the first scheduled check before it."""
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0), tzinfo=zone)
    checks = [datetime.fromisoformat(e.next_check) for e in evaluations if e.next_check is not None]
    return min([midnight, *checks])


PROCESS_CACHE = ReadCache()


def kommune_reads(catalogue: Catalogue, store: Store, now: datetime, zone: ZoneInfo | None = None) -> KommuneReads:
    """The kommune's vintages and evaluations now, from this process's cache when still valid."""
    if zone is None:
        zone = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Oslo")
    return PROCESS_CACHE.get(catalogue, store, now, zone)
