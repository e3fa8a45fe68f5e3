"""Versioned schema migrations for the SQLite store, tracked in PRAGMA user_version."""

from __future__ import annotations

import sqlite3

# Each entry moves the schema from version N to N+1. Never edit a released entry: append a new one.
MIGRATIONS: list[str] = [
    # 1: observations as append-only vintages; the run log.
    """
    CREATE TABLE fetch_runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,              -- 'ssb', 'fhi', 'import', 'baseline', …
        target TEXT NOT NULL,              -- table id, file name, …
        started_at TEXT NOT NULL,          -- UTC, ISO 8601
        finished_at TEXT NOT NULL,         -- UTC, ISO 8601
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'unchanged', 'failed')),
        error TEXT,
        row_count INTEGER NOT NULL DEFAULT 0,   -- observations received
        new_count INTEGER NOT NULL DEFAULT 0,   -- new vintages written
        actor TEXT,
        file_name TEXT,
        file_sha256 TEXT,
        raw_path TEXT,
        raw_sha256 TEXT
    );
    CREATE INDEX fetch_runs_source ON fetch_runs (source, target, id);

    CREATE TABLE observations (
        id INTEGER PRIMARY KEY,
        indicator_id TEXT NOT NULL,
        region TEXT NOT NULL,
        period TEXT NOT NULL,
        value REAL,
        status TEXT,
        source TEXT NOT NULL,
        source_updated TEXT,
        retrieved_at TEXT NOT NULL,        -- UTC, ISO 8601: when this vintage became known (the
                                           -- baseline: the handlingsprogram's adoption date)
        vintage TEXT,                      -- a named vintage, e.g. 'Handlingsprogram 2024–2027'
        run_id INTEGER REFERENCES fetch_runs (id),
        CHECK (value IS NOT NULL OR status IS NOT NULL)
    );
    CREATE INDEX observations_key ON observations (indicator_id, region, period, retrieved_at, id);

    -- Vintages are never changed or removed.
    CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations
    BEGIN SELECT RAISE(ABORT, 'observations are append-only: a vintage is never changed'); END;
    CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
    BEGIN SELECT RAISE(ABORT, 'observations are append-only: a vintage is never deleted'); END;

    -- "Latest" is a query: the vintage that became known last (ties: the one written last).
    CREATE VIEW latest_observations AS
    SELECT id, indicator_id, region, period, value, status, source, source_updated, retrieved_at, vintage, run_id
    FROM (
        SELECT o.*, ROW_NUMBER() OVER (
            PARTITION BY indicator_id, region, period ORDER BY retrieved_at DESC, id DESC
        ) AS newest
        FROM observations o
    ) WHERE newest = 1;
    """,
    # 2: what each source says about its tables (updated stamp, periods, next update, discontinued).
    """
    CREATE TABLE source_tables (
        source TEXT NOT NULL,
        table_id TEXT NOT NULL,
        label TEXT,
        updated TEXT,                      -- the source's own "last updated", as it gave it
        first_period TEXT,
        last_period TEXT,
        next_update TEXT,
        discontinued INTEGER NOT NULL DEFAULT 0,
        checked_at TEXT NOT NULL,          -- UTC, when we last learned any of the above
        PRIMARY KEY (source, table_id)
    );
    """,
    # 3: the single-scheduler lock: one row while a scheduler runs, kept fresh by its heartbeat.
    """
    CREATE TABLE scheduler_lock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL
    );
    """,
    # 4: web users (viewer/editor/admin), login attempts for rate limiting, fetches asked for in the UI.
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        created_at TEXT NOT NULL
    );
    CREATE TABLE login_attempts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL,
        remote_addr TEXT NOT NULL,
        at TEXT NOT NULL,
        succeeded INTEGER NOT NULL
    );
    CREATE INDEX login_attempts_recent ON login_attempts (username, at);
    CREATE INDEX login_attempts_addr ON login_attempts (remote_addr, at);
    -- An admin's "fetch now" in the UI: the web only records the wish; the scheduler carries it out.
    CREATE TABLE fetch_requests (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    );
    CREATE INDEX observations_region ON observations (region, indicator_id, period);
    """,
    # 5: e-mail alerts: episodes (at most one open per kind and subject), silences, the outbox and which
    # episode events each outbox message carries.
    """
    CREATE TABLE alert_episodes (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('fetch_failing', 'late', 'off_target')),
        subject TEXT NOT NULL,             -- indicator id; for fetch_failing the source table ('ssb:12143')
        opened_at TEXT NOT NULL,           -- UTC, ISO 8601: the run that first saw the condition
        last_notified_at TEXT,             -- when the opening notice or the latest reminder was queued;
                                           -- NULL: not yet announced (silenced, or nobody to send it to)
        reminders INTEGER NOT NULL DEFAULT 0,
        resolved_at TEXT,                  -- NULL while the episode is open
        resolved_notified INTEGER NOT NULL DEFAULT 0,  -- 1 when a "resolved" notice was queued
        detail TEXT                        -- the latest explanation, in bokmål
    );
    CREATE UNIQUE INDEX alert_episodes_open ON alert_episodes (kind, subject) WHERE resolved_at IS NULL;
    CREATE INDEX alert_episodes_history ON alert_episodes (kind, subject, opened_at);

    CREATE TABLE alert_silences (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,              -- indicator id, Kilde text, fetch source ('ssb') or table ('ssb:12143')
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT,
        until TEXT NOT NULL,               -- UTC, ISO 8601, exclusive: the silence stops applying then
        removed_at TEXT                    -- ended early by `monitor silence remove`
    );

    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,   -- the Message-ID header, fixed when queued, the same on every attempt
        created_at TEXT NOT NULL,
        sender TEXT NOT NULL,
        mail_to TEXT NOT NULL,             -- JSON list of addresses
        mail_cc TEXT NOT NULL,             -- JSON list of addresses
        subject TEXT NOT NULL,
        message TEXT NOT NULL,             -- the whole RFC 5322 message (7-bit), sent byte for byte
        claimed_at TEXT,                   -- claim lease start (compare-and-set); stale after a while
        claim_token TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT                       -- NULL until the SMTP server accepted it
    );
    CREATE INDEX alert_outbox_pending ON alert_outbox (sent_at, id);

    CREATE TABLE alert_notices (
        outbox_id INTEGER NOT NULL REFERENCES alert_outbox (id),
        episode_id INTEGER NOT NULL REFERENCES alert_episodes (id),
        event TEXT NOT NULL CHECK (event IN ('opened', 'reminder', 'resolved')),
        PRIMARY KEY (outbox_id, episode_id, event)
    );
    CREATE INDEX alert_notices_episode ON alert_notices (episode_id);
    """,
    # 6: a per-user session version: logging out or a new password raises it, which ends every session (every
    # copy of every session cookie) the user had. Login attempts are counted by (address, username).
    """
    ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX login_attempts_addr_user ON login_attempts (remote_addr, username, at);
    """,
    # 7: when alerts were last evaluated, so that the first evaluation after `monitor init`, and the first after a
    # long downtime, send one start-up summary per recipient instead of one alert per episode (docs/alerts.md).
    """
    CREATE TABLE alert_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        evaluated_at TEXT,                 -- UTC: the latest evaluation; NULL: `monitor init` armed the start-up
                                           -- summary and no evaluation has run since
        summary_at TEXT                    -- UTC: the latest start-up summary
    );
    """,
]


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version the database is at."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every pending migration, each in its own transaction; return the versions applied.

    `conn` must be in autocommit mode (isolation_level=None) so that BEGIN/COMMIT are ours.
    """
    applied: list[int] = []
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this program knows ({len(MIGRATIONS)})"
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(version)
    return applied


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers contain inner semicolons)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
