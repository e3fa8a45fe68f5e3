"""The SQLite store: append-only observation vintages and the fetch/import run log."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any


from monitor.core import timestamps
from monitor.core.errors import StoreError
from monitor.core.usertext import sqlite_reason
from monitor.store.migrations import MIGRATIONS, migrate, schema_version
from monitor.core.model import Observation, RunRecord, TableMeta, Vintage

BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger(__name__)


def store_failed(path: Path, what: str, exc: sqlite3.Error | OSError) -> StoreError:
    """A StoreError in bokmål ("PATH: kunne ikke lagre …: databasen er låst …"); SQLite's own words go to the log."""
    log.warning("%s: %s: %s: %s", path, what, type(exc).__name__, exc)
    return StoreError(f"{path}: {what}: {sqlite_reason(exc)}")


class Store:
    """One connection to the monitor's SQLite database (WAL, busy timeout, explicit transactions)."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: her er ingen database; kjør `monitor init` først")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            raise store_failed(self.path, "kan ikke åpne databasen", exc) from exc
        self.conn = conn

    def _dicts(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Bring the schema up to date; return the migration versions applied (empty if none)."""
        try:
            return migrate(self.conn)
        except (sqlite3.Error, RuntimeError) as exc:
            if isinstance(exc, sqlite3.Error):
                raise store_failed(self.path, "migreringen feilet", exc) from exc
            log.warning("%s: %s", self.path, exc)  # the one RuntimeError: a schema newer than this program's
            raise StoreError(f"{self.path}: databasen er laget av en nyere versjon av programmet; oppgrader det") from exc

    def require_current_schema(self) -> None:
        """Fail clearly when the database has not been initialised or migrated."""
        version = schema_version(self.conn)
        if version != len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: skjemaversjon {version}, men programmet venter {len(MIGRATIONS)}; kjør `monitor init`"
            )

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction: every query inside sees the same snapshot of the database (WAL)."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- observations -----------------------------------------------------------------------------

    def new_vintages(self, observations: Iterable[Observation], *, within: str | None = None) -> list[Observation]:
        """The observations that differ (value or status) from the latest stored vintage of their key.

        With `within`, compare only against vintages carrying that label (used for the baseline, which
        must not be re-added on top of newer data).
        """
        pending = list(observations)
        latest = self._latest_for({obs.indicator_id for obs in pending}, within)
        changed: list[Observation] = []
        seen: dict[tuple[str, str, str], tuple[float | None, str | None]] = {}
        for obs in pending:
            current = seen.get(obs.key, latest.get(obs.key))
            if current != (obs.value, obs.status):
                changed.append(obs)
                seen[obs.key] = (obs.value, obs.status)
        return changed

    def _latest_for(
        self, indicator_ids: set[str], within: str | None
    ) -> dict[tuple[str, str, str], tuple[float | None, str | None]]:
        result: dict[tuple[str, str, str], tuple[float | None, str | None]] = {}
        ids = sorted(indicator_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            if within is None:
                sql = f"SELECT indicator_id, region, period, value, status FROM latest_observations WHERE indicator_id IN ({marks})"
                params: list[str] = chunk
            else:
                sql = (
                    "SELECT indicator_id, region, period, value, status FROM observations "
                    f"WHERE indicator_id IN ({marks}) AND vintage = ? ORDER BY retrieved_at, id"
                )
                params = chunk + [within]
            rows = self.conn.execute(sql, params)
            for indicator_id, region, period, value, status in rows:
                result[(indicator_id, region, period)] = (value, status)
        return result

    def write_run(
        self,
        run: RunRecord,
        observations: Iterable[Observation],
        *,
        vintage: str | None = None,
        retrieved_at: datetime | None = None,
        skip_if_unchanged: bool = False,
        table_meta: TableMeta | None = None,
    ) -> tuple[int | None, int]:
        """Store one fetch or import in one transaction: its run row and its new vintages.

        A named `vintage` is compared only with earlier vintages of the same name. `retrieved_at`
        (default: the run's end) says when the values became known. Returns (run_id, number of new
        vintages). With skip_if_unchanged, a run that brings no new vintage writes nothing at all
        (run_id None), so the database stays byte-for-byte unchanged.
        """
        received = list(observations)
        try:
            with self.transaction():
                changed = self.new_vintages(received, within=vintage)
                if skip_if_unchanged and not changed:
                    return None, 0
                run_id = self._insert_run(run, "ok" if changed else "unchanged", None, len(received), len(changed))
                known_at = timestamps.encode(retrieved_at or run.finished_at)
                self.conn.executemany(
                    "INSERT INTO observations (indicator_id, region, period, value, status, source, "
                    "source_updated, retrieved_at, vintage, run_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (o.indicator_id, o.region, o.period, o.value, o.status, o.source, o.source_updated,
                         known_at, vintage, run_id)
                        for o in changed
                    ],
                )
                if table_meta is not None:
                    self._save_table_meta(table_meta, run.finished_at)
        except sqlite3.Error as exc:
            raise store_failed(self.path, f"kunne ikke lagre {run.source} {run.target}", exc) from exc
        return run_id, len(changed)

    def save_table_meta(self, metas: Iterable[TableMeta], checked_at: datetime) -> None:
        """Remember what a source says about its tables (one transaction)."""
        try:
            with self.transaction():
                for meta in metas:
                    self._save_table_meta(meta, checked_at)
        except sqlite3.Error as exc:
            raise store_failed(self.path, "kunne ikke lagre tabellopplysningene", exc) from exc

    def _save_table_meta(self, meta: TableMeta, checked_at: datetime) -> None:
        # Fields the source did not send this time keep what we knew.
        self.conn.execute(
            "INSERT INTO source_tables (source, table_id, label, updated, first_period, last_period, next_update, "
            "discontinued, checked_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (source, table_id) DO UPDATE SET "
            "label = COALESCE(excluded.label, label), updated = COALESCE(excluded.updated, updated), "
            "first_period = COALESCE(excluded.first_period, first_period), "
            "last_period = COALESCE(excluded.last_period, last_period), "
            "next_update = COALESCE(excluded.next_update, next_update), "
            "discontinued = excluded.discontinued, checked_at = excluded.checked_at",
            (meta.source, meta.table_id, meta.label, meta.updated, meta.first_period, meta.last_period,
             meta.next_update, int(meta.discontinued), timestamps.encode(checked_at)),
        )

    def table_meta(self, source: str) -> dict[str, TableMeta]:
        """What we know about each of a source's tables."""
        rows = self.conn.execute(
            "SELECT source, table_id, label, updated, first_period, last_period, next_update, discontinued "
            "FROM source_tables WHERE source = ?",
            [source],
        )
        return {
            table_id: TableMeta(source, table_id, label, updated, first, last, next_update, bool(discontinued))
            for source, table_id, label, updated, first, last, next_update, discontinued in rows
        }

    def last_run(self, source: str, target: str, outcomes: tuple[str, ...] = ("ok", "unchanged")) -> dict[str, Any] | None:
        """The newest run of a source/target with one of the given outcomes."""
        marks = ",".join("?" * len(outcomes))
        rows = list(self._dicts(
            f"SELECT * FROM fetch_runs WHERE source = ? AND target = ? AND outcome IN ({marks}) ORDER BY id DESC LIMIT 1",
            [source, target, *outcomes],
        ))
        return rows[0] if rows else None

    def failing_since(self, source: str, target: str) -> str | None:
        """When the current run of failures of a source/target began (UTC ISO): the first failed attempt after
        the last success, or None when the newest attempt did not fail."""
        row = self.conn.execute(
            "SELECT MIN(finished_at) FROM fetch_runs WHERE source = ? AND target = ? AND outcome = 'failed' AND id > "
            "COALESCE((SELECT MAX(id) FROM fetch_runs WHERE source = ? AND target = ? "
            "AND outcome IN ('ok', 'unchanged')), 0)",
            (source, target, source, target),
        ).fetchone()
        return str(row[0]) if row[0] is not None else None

    def refusal(self, source: str, table: str, indicator_id: str) -> tuple[str, str] | None:
        """The error and start (UTC ISO) of an indicator's current refusal by its table, or None.

        A table that lacks an indicator's code or label fails that indicator alone: a failed run with the target
        "<table>:<indicator id>" next to the table's own run (same started_at). The refusal holds until a later
        answer of the table is read without one (a fetched run with no refusal beside it); a change check that
        only finds the table unchanged does not end it, since the answer that refused is still the newest.
        """
        target = f"{table}:{indicator_id}"
        newest = self.conn.execute(
            "SELECT id, error FROM fetch_runs WHERE source = ? AND target = ? AND outcome = 'failed' "
            "ORDER BY id DESC LIMIT 1", (source, target),
        ).fetchone()
        if newest is None:
            return None
        # the newest fetched answer of the table that refused nothing: the refusal's streak starts after it
        clean = self.conn.execute(
            "SELECT MAX(t.id) FROM fetch_runs t WHERE t.source = ? AND t.target = ? "
            "AND t.outcome IN ('ok', 'unchanged') AND t.raw_path IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM fetch_runs r WHERE r.source = t.source AND r.target = ? AND r.outcome = 'failed' "
            "AND r.started_at = t.started_at)", (source, table, target),
        ).fetchone()[0]
        if clean is not None and clean > newest[0]:
            return None
        since = self.conn.execute(
            "SELECT MIN(finished_at) FROM fetch_runs WHERE source = ? AND target = ? AND outcome = 'failed' AND id > ?",
            (source, target, clean or 0),
        ).fetchone()[0]
        return str(newest[1] or ""), str(since)

    def last_raw(self, source: str, target: str) -> dict[str, Any] | None:
        """The newest successful run of a source/target that archived a response body."""
        rows = list(self._dicts(
            "SELECT * FROM fetch_runs WHERE source = ? AND target = ? AND outcome IN ('ok', 'unchanged') "
            "AND raw_path IS NOT NULL ORDER BY id DESC LIMIT 1",
            [source, target],
        ))
        return rows[0] if rows else None

    def record_failure(self, run: RunRecord, error: str) -> int:
        """Log a failed fetch or import; observations are not touched."""
        try:
            with self.transaction():
                return self._insert_run(run, "failed", error, 0, 0)
        except sqlite3.Error as exc:
            raise store_failed(self.path, f"kunne ikke logge feilen for {run.source} {run.target}", exc) from exc

    def _insert_run(self, run: RunRecord, outcome: str, error: str | None, rows: int, new: int) -> int:
        cursor = self.conn.execute(
            "INSERT INTO fetch_runs (source, target, started_at, finished_at, outcome, error, row_count, "
            "new_count, actor, file_name, file_sha256, raw_path, raw_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run.source, run.target, timestamps.encode(run.started_at), timestamps.encode(run.finished_at), outcome,
             error, rows, new, run.actor, run.file_name, run.file_sha256, run.raw_path, run.raw_sha256),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def latest(self, indicator_id: str | None = None, region: str | None = None) -> list[Vintage]:
        """The latest vintage of every key (optionally of one indicator or one region), by indicator, region, period.

        A region filter is on a PARTITION BY column of the view, so SQLite applies it before the window.
        """
        clauses = [(column, value) for column, value in (("indicator_id", indicator_id), ("region", region)) if value]
        where = ("WHERE " + " AND ".join(f"{column} = ?" for column, _ in clauses)) if clauses else ""
        return self._vintages(
            f"SELECT * FROM latest_observations {where} ORDER BY indicator_id, region, period",
            [value for _, value in clauses],
        )

    def vintages(self, indicator_id: str, region: str | None = None) -> list[Vintage]:
        """Every vintage of one indicator (optionally in one region only), oldest first within each key."""
        if region is not None:
            return self._vintages(
                "SELECT * FROM observations WHERE indicator_id = ? AND region = ? ORDER BY period, id",
                [indicator_id, region],
            )
        return self._vintages(
            "SELECT * FROM observations WHERE indicator_id = ? ORDER BY region, period, id", [indicator_id]
        )

    def all_vintages(self, region: str) -> list[Vintage]:
        """Every vintage for one region, oldest first within each key."""
        return self._vintages(
            "SELECT * FROM observations WHERE region = ? ORDER BY indicator_id, period, retrieved_at, id", [region]
        )

    def vintage_rows(self, indicator_id: str, known_by: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Every vintage of one indicator known by `known_by` (a stored UTC stamp; all when None), streamed from
        the cursor as (region, period, value, status, source, source_updated, retrieved_at, vintage), in key order
        (region, period) and within a key in the order they became known. Rows, not `Vintage`s: the analysts'
        exports read a million of them."""
        cutoff, params = (" AND retrieved_at <= ?", [indicator_id, known_by]) if known_by else ("", [indicator_id])
        return iter(self.conn.execute(
            "SELECT region, period, value, status, source, source_updated, retrieved_at, vintage FROM observations "
            f"WHERE indicator_id = ?{cutoff} ORDER BY region, period, retrieved_at, id", params,
        ))

    def vintage_facets(
        self, indicator_ids: Iterable[str], known_by: str | None = None
    ) -> tuple[list[str], list[str], dict[str, str | None]]:
        """The regions, the periods and the moments a vintage became known (retrieved_at → its vintage name, if
        any) among the indicators' vintages known by `known_by` (all when None); each sorted as text."""
        ids = list(indicator_ids)
        if not ids:
            return [], [], {}
        where = f"indicator_id IN ({','.join('?' * len(ids))})" + (" AND retrieved_at <= ?" if known_by else "")
        params = [*ids, known_by] if known_by else ids

        def distinct(column: str) -> list[str]:
            sql = f"SELECT DISTINCT {column} FROM observations WHERE {where} ORDER BY 1"
            return [row[0] for row in self.conn.execute(sql, params)]

        moments = dict(self.conn.execute(
            f"SELECT retrieved_at, MAX(vintage) FROM observations WHERE {where} GROUP BY retrieved_at ORDER BY 1", params
        ).fetchall())
        return distinct("region"), distinct("period"), moments

    def _vintages(self, sql: str, params: list[Any]) -> list[Vintage]:
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [Vintage(**dict(zip(names, row))) for row in cursor]

    def runs(self, source: str | None = None) -> list[dict[str, Any]]:
        """The run log, newest first."""
        if source is None:
            return self._dicts("SELECT * FROM fetch_runs ORDER BY id DESC")
        return self._dicts("SELECT * FROM fetch_runs WHERE source = ? ORDER BY id DESC", (source,))

    def count_observations(self) -> int:
        """The number of stored vintages."""
        return int(self.conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0])

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever anything the evaluation reads changes: a cheap key for caching reads.

        Observations and runs are append-only (their newest id moves on every write); source_tables is
        small and updated in place, so its rows are part of the key.
        """
        row = self.conn.execute(
            "SELECT (SELECT MAX(id) FROM observations), (SELECT MAX(id) FROM fetch_runs)"
        ).fetchone()
        tables = tuple(self.conn.execute("SELECT * FROM source_tables ORDER BY source, table_id"))
        return (row[0], row[1], tables)

    # -- reading for the web pages ---------------------------------------------------------------------

    def newest_success(self, skip: tuple[str, ...] = ("baseline",)) -> str | None:
        """When a fetch or import last succeeded (UTC ISO), or None. Loading the printed baseline (`monitor init`,
        source "baseline") is neither: it is skipped unless `skip` says otherwise."""
        marks = ",".join("?" * len(skip)) or "''"
        row = self.conn.execute(
            f"SELECT MAX(finished_at) FROM fetch_runs WHERE outcome IN ('ok', 'unchanged') AND source NOT IN ({marks})",
            skip,
        ).fetchone()
        return str(row[0]) if row[0] is not None else None

    def runs_touching(
        self, source: str | None, targets: Iterable[str], indicator_id: str, limit: int = 50, region: str | None = None
    ) -> list[dict[str, Any]]:
        """The runs of a source's tables, and every run that wrote a vintage of the indicator, newest first.

        With `region`, only runs that wrote a vintage of the indicator for that region count (much less to
        read when the database holds many regions).
        """
        wanted = sorted(set(targets))
        marks = ",".join("?" * len(wanted))
        by_table = f"(source = ? AND target IN ({marks})) OR " if source is not None and wanted else ""
        params: list[Any] = [source, *wanted] if by_table else []
        in_region, region_params = (" AND region = ?", [region]) if region is not None else ("", [])
        return list(self._dicts(
            f"SELECT * FROM fetch_runs WHERE {by_table}id IN (SELECT run_id FROM observations WHERE indicator_id = ?"
            f"{in_region}) ORDER BY id DESC LIMIT ?",
            [*params, indicator_id, *region_params, limit],
        ))
