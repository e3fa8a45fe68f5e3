"""The start-up summary: the first evaluation after `monitor init`, and the first after downtime.

`monitor init` arms it (`arm_startup_summary`: a row in `alert_state` with no evaluation yet). `episodes.record`
asks `startup_kind` whether this run is such a one ("first", or "resync" when the previous evaluation is more
than MONITOR_ALERT_RESYNC_AFTER_DAYS ago); if so, what is wrong is recorded as known and `queue_startup` queues
one summary per primary recipient instead of one notice per episode.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.alerts.episodes import AlertConfig, Digest, Notice, RecordResult, _reason, digests, unconfirmed_note
from monitor.catalogue.indicators import Catalogue
from monitor.core import timestamps
from monitor.store.database import Store


def arm_startup_summary(store: Store) -> bool:
    """`monitor init`: make the first evaluation send a start-up summary, unless alerts have run here before.

    True when armed now. A database that has had an evaluation (or any episode, from before this existed) is
    left alone, so running `monitor init` again after an upgrade never re-arms it.
    """
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM alert_state").fetchone() or conn.execute("SELECT 1 FROM alert_episodes LIMIT 1").fetchone():
            return False
        conn.execute("INSERT INTO alert_state (id, evaluated_at, summary_at) VALUES (1, NULL, NULL)")
    return True


def startup_kind(conn: sqlite3.Connection, now: datetime, resync_after: timedelta | None) -> tuple[str | None, datetime | None]:
    """("first" | "resync" | None, the previous evaluation): None for an ordinary run.

    No row: a database `monitor init` did not arm (one migrated by a program, or an install upgraded with
    alerts already running): ordinary runs from the start.
    """
    row = conn.execute("SELECT evaluated_at FROM alert_state WHERE id = 1").fetchone()
    if row is None:
        return None, None
    if row[0] is None:
        return "first", None
    previous = timestamps.decode(row[0])
    if resync_after is not None and now - previous > resync_after:
        return "resync", previous
    return None, previous


@dataclass(frozen=True)
class Startup:
    """What a start-up summary says besides its digest: first run or after downtime, and since when."""

    kind: str  # first | resync
    previous: datetime | None  # the evaluation before this one (resync)
    silenced: int  # open episodes held back by a silence (ops' summary says how many)


def queue_startup(
    conn: sqlite3.Connection, catalogue: Catalogue, due: list[Notice], config: AlertConfig, now: datetime,
    result: RecordResult, previous: datetime | None,
) -> None:
    """One summary per primary recipient: ops get the whole picture, each confirmed owner what is theirs.

    Every episode in a summary counts as announced (its reminder clock starts now); nobody gets a Cc, so each
    person gets exactly one e-mail. What has no recipient (no MONITOR_ALERT_TO) stays unannounced.
    """
    from monitor.alerts.mail import render_startup
    from monitor.alerts.outbox import enqueue

    assert result.startup is not None
    stamp = timestamps.encode(now)
    owners, _ = digests(catalogue, due, ())  # the confirmed owners' shares (everything else has no recipient here)
    summaries = [digest for digest in owners if digest.to != config.ops]
    if config.ops:
        notes = tuple(dict.fromkeys(note for n in due if (note := unconfirmed_note(catalogue, n.about)) is not None))
        summaries.insert(0, Digest(config.ops, (), _reason(set(), True), tuple(due), notes))
    covered: set[tuple[int, str]] = set()
    for digest in summaries:
        silenced = result.silenced if digest.to == config.ops else 0
        message = render_startup(digest, config, now, Startup(result.startup, previous, silenced))
        outbox_id = enqueue(conn, message, config.sender, digest.to, (), now)
        result.outbox_ids.append(outbox_id)
        for notice in digest.notices:
            conn.execute("INSERT INTO alert_notices (outbox_id, episode_id, event) VALUES (?,?,?)",
                         (outbox_id, notice.episode_id, notice.event))
            if notice.event == "resolved":
                conn.execute("UPDATE alert_episodes SET resolved_notified = 1 WHERE id = ?", (notice.episode_id,))
            else:
                conn.execute("UPDATE alert_episodes SET last_notified_at = ? WHERE id = ?", (stamp, notice.episode_id))
            covered.add((notice.episode_id, notice.event))
    result.notices = len(covered)
    result.unroutable = len({(n.episode_id, n.event) for n in due} - covered)


