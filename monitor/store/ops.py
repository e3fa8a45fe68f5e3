"""What operations watch in the store: the run log per source, the stored data's size, the outbox and the scheduler.

Read by `/metrics` and `/healthz` (web) through `monitor.report.metrics`. The run-log and size figures change only
when the store's fingerprint moves (see `Store.fingerprint`), so the web keeps them with its cached reads; the
outbox and the scheduler's heartbeat change without it and are read on every request (one small query each).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.core import timestamps

# The outbox's claim lease (monitor.alerts.outbox): longer than any SMTP conversation can take, so a live
# sender's claim is never taken over; a dead sender's claim is retried after this. Here, so that the counts of
# held messages (read by the web, which does not import the alerts) use the same lease.
CLAIM_LEASE = timedelta(minutes=15)
SUCCESS = ("ok", "unchanged")
OUTCOMES = ("ok", "unchanged", "failed")
_SIZES: dict[Hashable, tuple[int, int, int]] = {}  # database → (newest observation id counted, observations, vintages)
_SIZES_LOCK = threading.Lock()


@dataclass(frozen=True)
class SourceRuns:
    """One source in the run log."""

    source: str
    last_success: datetime | None
    last_attempt: datetime | None
    consecutive_failures: int  # the longest current streak of failed runs of one of its tables since that table's last success
    runs: dict[str, int]  # outcome → number of runs ever logged (ok, unchanged, failed)


@dataclass(frozen=True)
class StoredData:
    """The run log per source and the size of the stored data: a function of the store's fingerprint."""

    sources: dict[str, SourceRuns]
    observations: int  # distinct (indicator, region, period) keys
    vintages: int  # stored rows: every value as it was known at a time


@dataclass(frozen=True)
class Outbox:
    """The alert e-mails not sent, in three disjoint groups."""

    waiting: int  # never tried, or their claim went stale: the next send run takes them
    held: int  # claimed by a run whose lease has not run out (sending now, or killed mid-send)
    failed: int  # the last attempt failed (the error is kept); the next send run tries again


def stored_data(conn: sqlite3.Connection, identity: Hashable) -> StoredData:
    """The run log per source and the number of observations and vintages (call inside one read transaction).

    `identity` names the database file (e.g. its path and inode): the counts are kept per identity."""
    counts: dict[str, dict[str, int]] = {}
    for source, outcome, number in conn.execute("SELECT source, outcome, COUNT(*) FROM fetch_runs GROUP BY source, outcome"):
        counts.setdefault(source, dict.fromkeys(OUTCOMES, 0))[outcome] = int(number)
    clocks = {
        source: (success, attempt)
        for source, success, attempt in conn.execute(
            "SELECT source, MAX(CASE WHEN outcome IN ('ok', 'unchanged') THEN finished_at END), MAX(finished_at) "
            "FROM fetch_runs GROUP BY source"
        )
    }
    streaks = dict(conn.execute(
        "SELECT source, MAX(streak) FROM (SELECT f.source, f.target, COUNT(*) AS streak FROM fetch_runs f "
        "WHERE f.outcome = 'failed' AND f.id > COALESCE((SELECT MAX(s.id) FROM fetch_runs s WHERE s.source = f.source "
        "AND s.target = f.target AND s.outcome IN ('ok', 'unchanged')), 0) GROUP BY f.source, f.target) GROUP BY source"
    ).fetchall())
    sources = {
        source: SourceRuns(
            source, _moment(clocks[source][0]), _moment(clocks[source][1]), int(streaks.get(source) or 0), runs,
        )
        for source, runs in sorted(counts.items())
    }
    observations, vintages = _sizes(conn, identity)
    return StoredData(sources, observations, vintages)


def _sizes(conn: sqlite3.Connection, identity: Hashable) -> tuple[int, int]:
    """(observations, vintages). Counting the distinct keys of a million vintages takes half a second, so the counts
    are kept per database (`identity`) with the newest id they cover, and later only the rows after it are counted:
    observations are append-only (never updated or deleted), so a new row is a new key when no earlier row has it."""
    newest = conn.execute("SELECT MAX(id) FROM observations").fetchone()[0] or 0
    with _SIZES_LOCK:
        known = _SIZES.get(identity)
    if known is not None and known[0] <= newest:
        covered, observations, vintages = known
        added, keys = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(NOT EXISTS (SELECT 1 FROM observations p WHERE p.indicator_id = o.indicator_id "
            "AND p.region = o.region AND p.period = o.period AND p.id < o.id)), 0) FROM observations o "
            "WHERE o.id > ? AND o.id <= ?",
            (covered, newest),
        ).fetchone()
        observations, vintages = observations + int(keys), vintages + int(added)
    else:
        vintages = int(conn.execute("SELECT COUNT(*) FROM observations WHERE id <= ?", (newest,)).fetchone()[0])
        observations = int(conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM observations WHERE id <= ? GROUP BY region, indicator_id, period)",
            (newest,),
        ).fetchone()[0])
    with _SIZES_LOCK:
        _SIZES[identity] = (newest, observations, vintages)
    return observations, vintages


def outbox(conn: sqlite3.Connection, now: datetime) -> Outbox:
    """The unsent e-mails now: waiting, held (a live claim) and failed (the last attempt's error kept)."""
    stale = timestamps.encode(now - CLAIM_LEASE)
    row = conn.execute(
        "SELECT COALESCE(SUM(claimed_at >= ?), 0), "
        "COALESCE(SUM((claimed_at IS NULL OR claimed_at < ?) AND last_error IS NOT NULL), 0), COUNT(*) "
        "FROM alert_outbox WHERE sent_at IS NULL",
        (stale, stale),
    ).fetchone()
    held, failed, unsent = int(row[0]), int(row[1]), int(row[2])
    return Outbox(unsent - held - failed, held, failed)


def heartbeat(conn: sqlite3.Connection) -> datetime | None:
    """The scheduler's last heartbeat (the lock row, `monitor.service.lock`); None when no scheduler holds the lock."""
    row = conn.execute("SELECT heartbeat_at FROM scheduler_lock WHERE id = 1").fetchone()
    return _moment(row[0]) if row is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
