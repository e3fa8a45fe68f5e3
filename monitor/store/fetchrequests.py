"""Fetches asked for in the web UI: the web records the wish, the scheduler carries it out.

A request is pending until the scheduler claims it (started_at) and done when the fetch has ended
(finished_at). While a request for a source is pending, asking again adds nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitor.core import timestamps
from monitor.store.database import Store, store_failed


@dataclass(frozen=True)
class FetchRequest:
    """One row of `fetch_requests`."""

    id: int
    source: str
    requested_by: str
    requested_at: str  # UTC ISO
    started_at: str | None
    finished_at: str | None

    @property
    def pending(self) -> bool:
        return self.finished_at is None


def _rows(store: Store, sql: str, params: list[object]) -> list[FetchRequest]:
    return [FetchRequest(*row) for row in store.conn.execute(sql, params)]


_COLUMNS = "id, source, requested_by, requested_at, started_at, finished_at"


def request_fetch(store: Store, source: str, requested_by: str, now: datetime) -> tuple[FetchRequest, bool]:
    """Ask for a fetch of `source`; returns the request and whether it is new (False: one was already open)."""
    try:
        with store.transaction():
            open_ = _rows(store, f"SELECT {_COLUMNS} FROM fetch_requests WHERE source = ? AND finished_at IS NULL "
                                 "ORDER BY id LIMIT 1", [source])
            if open_:
                return open_[0], False
            cursor = store.conn.execute(
                "INSERT INTO fetch_requests (source, requested_by, requested_at) VALUES (?, ?, ?)",
                [source, requested_by, timestamps.encode(now)],
            )
            assert cursor.lastrowid is not None
            return FetchRequest(cursor.lastrowid, source, requested_by, timestamps.encode(now), None, None), True
    except sqlite3.Error as exc:
        raise store_failed(store.path, f"kunne ikke registrere bestillingen av henting fra {source}", exc) from exc


def claim_pending(store: Store, now: datetime) -> list[FetchRequest]:
    """Mark every request not yet started as started, and return them (oldest first)."""
    try:
        with store.transaction():
            waiting = _rows(store, f"SELECT {_COLUMNS} FROM fetch_requests WHERE started_at IS NULL ORDER BY id", [])
            store.conn.executemany("UPDATE fetch_requests SET started_at = ? WHERE id = ?",
                                   [(timestamps.encode(now), request.id) for request in waiting])
    except sqlite3.Error as exc:
        raise store_failed(store.path, "kunne ikke ta bestilte hentinger", exc) from exc
    return waiting


def mark_finished(store: Store, request_id: int, now: datetime) -> None:
    """The fetch asked for has ended (whatever its outcome: that is in fetch_runs)."""
    try:
        with store.transaction():
            store.conn.execute("UPDATE fetch_requests SET finished_at = ? WHERE id = ?", [timestamps.encode(now), request_id])
    except sqlite3.Error as exc:
        raise store_failed(store.path, f"kunne ikke avslutte bestilt henting {request_id}", exc) from exc


def latest_requests(store: Store) -> dict[str, FetchRequest]:
    """The newest request of each source."""
    rows = _rows(store, f"SELECT {_COLUMNS} FROM fetch_requests ORDER BY id", [])
    return {row.source: row for row in rows}


def run_pending(store: Store, run_source: Callable[[str], None], clock: Callable[[], datetime]) -> list[FetchRequest]:
    """Carry out every pending request: claim, run the source once per source, mark finished.

    A source asked for twice is fetched once. A fetch that raises still finishes its requests (the
    failure is in fetch_runs, or in the log); the error is raised after all are marked.
    """
    claimed = claim_pending(store, clock())
    by_source: dict[str, list[FetchRequest]] = {}
    for request in claimed:
        by_source.setdefault(request.source, []).append(request)
    first_error: Exception | None = None
    for source, requests in by_source.items():
        try:
            run_source(source)
        except Exception as exc:  # one failing source must not leave the others unmarked
            first_error = first_error or exc
        for request in requests:
            mark_finished(store, request.id, clock())
    if first_error is not None:
        raise first_error
    return claimed
