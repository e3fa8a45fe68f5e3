"""The scheduler lock: at most one scheduler per database, held by a row with a heartbeat."""

from __future__ import annotations

import os
import socket
import sqlite3
from datetime import datetime, timedelta

from monitor.core.errors import LockHeld, MonitorError
from monitor.store.database import Store

STALE_AFTER = timedelta(minutes=3)  # a holder that has not beaten for this long is gone
HEARTBEAT_EVERY = timedelta(seconds=30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(store: Store, now: datetime, *, host: str | None = None, pid: int | None = None) -> None:
    """Take the lock, or raise LockHeld naming the holder. A dead or silent holder's lock is taken over."""
    host = host or socket.gethostname()
    pid = pid or os.getpid()
    with store.transaction() as conn:
        row = conn.execute("SELECT host, pid, started_at, heartbeat_at FROM scheduler_lock WHERE id = 1").fetchone()
        if row is not None:
            holder_host, holder_pid, started_at, beat = row
            fresh = now - datetime.fromisoformat(beat) < STALE_AFTER
            same = holder_host == host and holder_pid == pid
            dead = holder_host == host and not _alive(holder_pid)
            if fresh and not same and not dead:
                raise LockHeld(
                    f"en annen planlegger kjører allerede mot {store.path} (vert {holder_host}, prosess {holder_pid}, "
                    f"startet {started_at}); stopp den først – det skal bare være én"
                )
        stamp = now.isoformat()
        conn.execute(
            "INSERT INTO scheduler_lock (id, host, pid, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
            "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at",
            (host, pid, stamp, stamp),
        )


def heartbeat(store: Store, now: datetime, *, host: str | None = None, pid: int | None = None) -> None:
    """Refresh the holder's heartbeat; raise LockHeld if the lock was taken over meanwhile."""
    host = host or socket.gethostname()
    pid = pid or os.getpid()
    try:
        with store.transaction() as conn:
            cursor = conn.execute(
                "UPDATE scheduler_lock SET heartbeat_at = ? WHERE id = 1 AND host = ? AND pid = ?",
                (now.isoformat(), host, pid),
            )
            if cursor.rowcount != 1:
                raise LockHeld("planleggerlåsen er tatt over av en annen prosess; denne planleggeren stopper")
    except sqlite3.Error as exc:
        raise MonitorError(f"{store.path}: kunne ikke oppdatere planleggerlåsen: {exc}") from exc


def release(store: Store, *, host: str | None = None, pid: int | None = None) -> None:
    """Give the lock back (only if we hold it)."""
    with store.transaction() as conn:
        conn.execute(
            "DELETE FROM scheduler_lock WHERE id = 1 AND host = ? AND pid = ?",
            (host or socket.gethostname(), pid or os.getpid()),
        )


def running_holder(conn: sqlite3.Connection, now: datetime, *, host: str | None = None) -> str | None:
    """Who holds the lock and is alive (a fresh heartbeat, and on this host a living process), in bokmål; None
    when no scheduler runs against the database (no lock row, a silent holder, or a dead process on this host)."""
    host = host or socket.gethostname()
    try:
        row = conn.execute("SELECT host, pid, started_at, heartbeat_at FROM scheduler_lock WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # an old schema without the lock table: no scheduler of this program ran on it
        return None
    if row is None:
        return None
    holder_host, holder_pid, started_at, beat = row
    if now - datetime.fromisoformat(beat) >= STALE_AFTER or (holder_host == host and not _alive(holder_pid)):
        return None
    return f"vert {holder_host}, prosess {holder_pid}, startet {started_at}, siste livstegn {beat}"
