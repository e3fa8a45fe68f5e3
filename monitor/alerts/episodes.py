"""E-mail alerts: what is wrong now, episodes (opened, reminded, resolved), silences, routing and digests.

Healthchecks-style: every run compares the conditions found by the evaluation with the open episodes in
`alert_episodes` and records the transitions. In the same transaction each notice that is due (an episode
opened, a reminder after `remind_after`, an episode resolved) goes into one digest per primary recipient,
and each digest becomes one row of `alert_outbox`; `monitor.alerts.outbox` delivers them. Pure except for the
store: `now` is always an argument.

The conditions (what is wrong now, and the kinds of episode) come from monitor/alerts/conditions.py.

Start-up summary: the first evaluation after `monitor init` (`arm_startup_summary`), and the first after
`resync_after` without one (downtime), record what is wrong as known (episodes opened as already notified,
episodes gone meanwhile resolved) and queue one summary per primary recipient (counts and links) instead of one
notice per episode (monitor/alerts/startup.py); from then on notices go out per episode. An owner marked `confirmed: false` in the catalogue
gets nothing: what would go to them goes to ops with a note.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.alerts.conditions import Findings, Subject, describe, fetch_tables
from monitor.catalogue.indicators import Catalogue
from monitor.core import timestamps
from monitor.core.errors import SilenceError
from monitor.evaluate.indicator import short_label
from monitor.catalogue.kostra import KOSTRA_SOURCE
from monitor.sources.registry import label as source_label
from monitor.store.database import Store

KINDS = ("fetch_failing", "late", "off_target")
EVENTS = ("opened", "reminder", "resolved")
KIND_WORDS = {"fetch_failing": "innhenting feiler", "late": "forsinket", "off_target": "målet er ikke nådd"}
# Runs happen at about the same time each day; a reminder due "in 7 days" must not slip a whole day
# because today's run started a few minutes earlier than the one a week ago.
REMIND_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class Notice:
    """One line of a digest."""

    episode_id: int
    event: str  # opened | reminder | resolved
    about: Subject
    detail: str
    opened_at: datetime
    figure: str = ""


@dataclass(frozen=True)
class Digest:
    """One e-mail: its recipients and the notices it carries."""

    to: tuple[str, ...]
    cc: tuple[str, ...]
    reason: str  # why the primary recipient gets it, in bokmål
    notices: tuple[Notice, ...]
    notes: tuple[str, ...] = ()  # for ops: alerts here because their source's owner is not confirmed


@dataclass(frozen=True)
class AlertConfig:
    """What the alerts need from the settings."""

    ops: tuple[str, ...]  # MONITOR_ALERT_TO
    sender: str
    base_url: str
    remind_after: timedelta
    timezone: ZoneInfo
    resync_after: timedelta | None = None  # MONITOR_ALERT_RESYNC_AFTER_DAYS: a longer gap makes a start-up summary


@dataclass
class RecordResult:
    """What one run recorded and queued."""

    opened: int = 0
    resolved: int = 0
    notices: int = 0
    silenced: int = 0  # notices held back by a silence
    unroutable: int = 0  # notices with nobody to send them to (no MONITOR_ALERT_TO and no owner)
    outbox_ids: list[int] = field(default_factory=list)
    startup: str | None = None  # "first" (after `monitor init`) or "resync" (after downtime): summaries were sent


@dataclass(frozen=True)
class Silence:
    id: int
    target: str
    reason: str
    created_at: datetime
    created_by: str | None
    until: datetime
    removed_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.removed_at is None and now < self.until


def split_addresses(text: str | None) -> tuple[str, ...]:
    """MONITOR_ALERT_TO: one address or several separated by commas or semicolons."""
    if not text:
        return ()
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    return tuple(dict.fromkeys(part for part in parts if part))


# -- silences ----------------------------------------------------------------------------------------


def silence_targets(catalogue: Catalogue, kostra_tables: Iterable[str] = ()) -> dict[str, str]:
    """Every name a silence may use, with what it is: indicator ids, Kilde texts, fetch sources and tables."""
    targets: dict[str, str] = {}
    for table in kostra_tables:
        targets.setdefault(KOSTRA_SOURCE, "alle hentinger til KOSTRA-sammenligningen")
        targets[f"{KOSTRA_SOURCE}:{table}"] = f"SSB KOSTRA-tabell {table}"
    for indicator in catalogue.indicators:
        targets[indicator.id] = f"indikator: {short_label(indicator)}"
    for indicator in catalogue.indicators:
        targets.setdefault(indicator.source.name, "kilde")
        for source, table in fetch_tables(indicator):
            targets.setdefault(source, f"alle hentinger fra {source_label(source)}")
            targets.setdefault(f"{source}:{table}", f"{source_label(source)}-tabell {table}")
    return targets


def add_silence(
    store: Store, catalogue: Catalogue, target: str, until: datetime, reason: str, by: str | None, now: datetime,
    kostra_tables: Iterable[str] = (),
) -> int:
    """Silence every alert about `target` until `until` (exclusive); returns the silence's id."""
    if target not in silence_targets(catalogue, kostra_tables):
        raise SilenceError(
            f"ukjent indikator eller kilde {target!r}: bruk en indikator-id, en kildetekst (som «Asker kommune»), "
            "en hentekilde (ssb, fhi, udir) eller en tabell (ssb:12143)"
        )
    if until <= now:
        raise SilenceError(f"--until må være fram i tid (nå: {now:%Y-%m-%d %H:%M})")
    if not reason.strip():
        raise SilenceError("--reason kan ikke være tom")
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO alert_silences (target, reason, created_at, created_by, until) VALUES (?,?,?,?,?)",
            (target, reason.strip(), timestamps.encode(now), by, timestamps.encode(until)),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def remove_silence(store: Store, silence_id: int, now: datetime) -> Silence:
    """End a silence now; SilenceError if there is no such silence still in force."""
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM alert_silences WHERE id = ?", (silence_id,)).fetchone()
        if row is None:
            raise SilenceError(f"ingen demping med id {silence_id}")
        silence = _silence(row)
        if not silence.active(now):
            raise SilenceError(f"dempingen {silence_id} gjelder ikke lenger (utløpt eller fjernet)")
        conn.execute("UPDATE alert_silences SET removed_at = ? WHERE id = ?", (timestamps.encode(now), silence_id))
    return silence


def silences(store: Store, now: datetime, *, include_ended: bool = False) -> list[Silence]:
    """The silences in force (or all of them), oldest first."""
    rows = store.conn.execute(
        "SELECT id, target, reason, created_at, created_by, until, removed_at FROM alert_silences ORDER BY id"
    ).fetchall()
    found = [_silence(row) for row in rows]
    return found if include_ended else [silence for silence in found if silence.active(now)]


def _silence(row: Any) -> Silence:
    ident, target, reason, created_at, created_by, until, removed_at = row[:7]
    return Silence(ident, target, reason, timestamps.decode(created_at), created_by, timestamps.decode(until),
                   timestamps.decode(removed_at) if removed_at else None)


# -- routing -----------------------------------------------------------------------------------------


def route(catalogue: Catalogue, about: Subject, ops: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(to, cc, owned source): late data goes to the source's confirmed owner with ops in copy; everything else,
    and what an unconfirmed owner would get, to ops."""
    entry = catalogue.source_owner(about.source_name) if about.kind == "late" and about.source_name else None
    if entry is not None and entry.confirmed:
        cc = tuple(address for address in ops if address.lower() != entry.owner.lower())
        return (entry.owner,), cc, about.source_name
    return ops, (), None


def unconfirmed_note(catalogue: Catalogue, about: Subject) -> str | None:
    """For ops: why an alert that belongs to a source's owner came to them instead (the owner is not confirmed)."""
    entry = catalogue.source_owner(about.source_name) if about.kind == "late" and about.source_name else None
    if entry is None or entry.confirmed:
        return None
    return (f"Kilden «{entry.name}» har eieren {entry.owner} i katalogen, men adressen er ikke bekreftet "
            "(confirmed: false), så varslene om den går til deg i stedet. Sett confirmed: true når eieren har "
            "bekreftet at noen leser adressen.")


def _reason(sources: set[str], for_ops: bool) -> str:
    reasons = []
    if sources:
        names = sorted(sources)
        listed = names[0] if len(names) == 1 else ", ".join(f"«{n}»" for n in names[:-1]) + f" og «{names[-1]}»"
        reasons.append(f"du er oppført som eier av kilden «{listed}»" if len(names) == 1 else f"du er oppført som eier av kildene {listed}")
    if for_ops:
        reasons.append("du er driftsansvarlig for indikatormonitoren (MONITOR_ALERT_TO)")
    return " og ".join(reasons)


def digests(catalogue: Catalogue, notices: Iterable[Notice], ops: tuple[str, ...]) -> tuple[list[Digest], list[Notice]]:
    """One digest per primary recipient (To), plus the notices nobody can be sent."""
    grouped: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[set[str], list[bool], list[Notice]]] = {}
    notes: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[str, None]] = {}
    nobody: list[Notice] = []
    for notice in notices:
        to, cc, owned = route(catalogue, notice.about, ops)
        if not to:
            nobody.append(notice)
            continue
        sources, for_ops, items = grouped.setdefault((to, cc), (set(), [False], []))
        if owned is not None:
            sources.add(owned)
        else:
            for_ops[0] = True
        note = unconfirmed_note(catalogue, notice.about)
        if note is not None:
            notes.setdefault((to, cc), {})[note] = None
        items.append(notice)
    order = {event: index for index, event in enumerate(EVENTS)}
    made = [
        Digest(to, cc, _reason(sources, for_ops[0]),
               tuple(sorted(items, key=lambda n: (order[n.event], KINDS.index(n.about.kind), n.about.title))),
               tuple(notes.get((to, cc), {})))
        for (to, cc), (sources, for_ops, items) in grouped.items()
    ]
    return made, nobody


# -- recording a run ---------------------------------------------------------------------------------


def record(
    store: Store,
    catalogue: Catalogue,
    findings: Findings,
    config: AlertConfig,
    now: datetime,
) -> RecordResult:
    """Open and resolve episodes, and queue the digests that are due, in one transaction.

    A crash anywhere in here leaves nothing half done: the transitions and the outbox rows that announce
    them are committed together, so a notice is queued exactly once. The first evaluation after `monitor init`,
    and the first after more than `config.resync_after` without one, queue one start-up summary per recipient
    instead (monitor/alerts/startup.py).
    """
    from monitor.alerts.mail import render_digest
    from monitor.alerts.outbox import enqueue
    from monitor.alerts.startup import queue_startup, startup_kind

    result = RecordResult()
    stamp = timestamps.encode(now)
    active = {condition.about.key: condition for condition in findings.conditions}
    with store.transaction() as conn:
        result.startup, previous = startup_kind(conn, now, config.resync_after)
        in_force = [silence.target for silence in silences(store, now)]
        open_rows = {
            (row[1], row[2]): row
            for row in conn.execute(
                "SELECT id, kind, subject, opened_at, last_notified_at FROM alert_episodes WHERE resolved_at IS NULL"
            )
        }
        due: list[Notice] = []
        for key, condition in active.items():
            row = open_rows.get(key)
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO alert_episodes (kind, subject, opened_at, detail) VALUES (?,?,?,?)",
                    (*key, stamp, condition.detail),
                )
                assert cursor.lastrowid is not None
                episode_id, opened_at, notified = cursor.lastrowid, stamp, None
                result.opened += 1
            else:
                episode_id, opened_at, notified = row[0], row[3], row[4]
                conn.execute("UPDATE alert_episodes SET detail = ? WHERE id = ?", (condition.detail, episode_id))
            if notified is None:
                event = "opened"
            elif result.startup is not None or now - timestamps.decode(notified) >= config.remind_after - REMIND_SLACK:
                event = "reminder"  # in a start-up summary: still open, counted with the rest
            else:
                continue
            notice = Notice(episode_id, event, condition.about, condition.detail, timestamps.decode(opened_at),
                            condition.figure)
            if _silenced(notice.about, in_force):
                result.silenced += 1
                continue
            due.append(notice)
        for key, row in open_rows.items():
            if key in active or key in findings.unknown:
                continue
            episode_id, kind, subject, opened_at, notified = row
            conn.execute("UPDATE alert_episodes SET resolved_at = ? WHERE id = ?", (stamp, episode_id))
            result.resolved += 1
            if notified is None:
                continue  # nobody heard of it (silenced or unroutable all along): nothing to take back
            about = describe(catalogue, kind, subject)
            detail = findings.resolved_details.get(subject, "")
            notice = Notice(episode_id, "resolved", about, detail, timestamps.decode(opened_at),
                            findings.figures.get(subject, ""))
            if _silenced(about, in_force):
                result.silenced += 1
                continue
            due.append(notice)
        if result.startup is not None:
            queue_startup(conn, catalogue, due, config, now, result, previous)
        else:
            made, nobody = digests(catalogue, due, config.ops)
            result.unroutable = len(nobody)
            for digest in made:
                outbox_id = enqueue(conn, render_digest(digest, config, now), config.sender, digest.to, digest.cc, now)
                result.outbox_ids.append(outbox_id)
                for notice in digest.notices:
                    _mark(conn, outbox_id, notice, stamp)
                    result.notices += 1
        conn.execute(
            "INSERT INTO alert_state (id, evaluated_at, summary_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "evaluated_at = excluded.evaluated_at, summary_at = COALESCE(excluded.summary_at, alert_state.summary_at)",
            (stamp, stamp if result.startup is not None else None),
        )
    return result


def _silenced(about: Subject, in_force: list[str]) -> bool:
    return any(target in about.aliases for target in in_force)


def _mark(conn: sqlite3.Connection, outbox_id: int, notice: Notice, stamp: str) -> None:
    conn.execute(
        "INSERT INTO alert_notices (outbox_id, episode_id, event) VALUES (?,?,?)", (outbox_id, notice.episode_id, notice.event)
    )
    if notice.event == "resolved":
        conn.execute("UPDATE alert_episodes SET resolved_notified = 1 WHERE id = ?", (notice.episode_id,))
    else:
        conn.execute(
            "UPDATE alert_episodes SET last_notified_at = ?, reminders = reminders + ? WHERE id = ?",
            (stamp, 1 if notice.event == "reminder" else 0, notice.episode_id),
        )


def open_episodes(store: Store) -> list[dict[str, Any]]:
    """The open episodes, oldest first (for `monitor alerts status`)."""
    cursor = store.conn.execute(
        "SELECT id, kind, subject, opened_at, last_notified_at, reminders, detail FROM alert_episodes "
        "WHERE resolved_at IS NULL ORDER BY opened_at, id"
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
