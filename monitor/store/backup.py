"""Backups that restore: a consistent copy of the database with SQLite's online backup API, and the way back.

A backup reads one snapshot of the live database (a read transaction in WAL mode, so the scheduler and the web go
on writing meanwhile), copies it into a temporary file next to the destination, turns the copy into one
self-contained file (journal_mode DELETE), checks it (PRAGMA integrity_check, the schema version, the row counts),
fsyncs it and renames it into place. A restore checks the copy the same way, makes sure nobody has the database
open, and replaces it with a rename; the old database's stale -wal/-shm are removed first. The caller (the CLI)
checks the scheduler lock before, as only monitor.service knows it. File names come from an injected clock.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.core.errors import StoreError
from monitor.store.database import Store, store_failed
from monitor.store.migrations import MIGRATIONS, schema_version

PREFIX = "monitor-"
NAME_PATTERN = re.compile(r"^monitor-\d{8}-\d{6}\.db$")  # monitor-YYYYMMDD-HHMMSS.db, sorted by time as by name
REQUIRED_TABLES = ("fetch_runs", "observations")  # a file without them is not a monitor database


@dataclass(frozen=True)
class CopyReport:
    """What a checked copy holds: its size in bytes, its schema version and the rows of every table."""

    path: Path
    size: int
    schema_version: int
    counts: dict[str, int]


@contextmanager
def _replaced_atomically(dest: Path, suffix: str, failure: str) -> Iterator[Path]:
    """A temporary file next to `dest` for the block to fill; then fsynced and renamed over `dest` (and the folder
    fsynced). On any failure the temporary file is removed and `dest` is untouched; SQLite and OS errors become one
    StoreError saying `failure`."""
    temporary = dest.with_name(f".{dest.name}{suffix}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _remove(temporary)
        yield temporary
        _fsync(temporary)
        os.replace(temporary, dest)
        _fsync(dest.parent)
    except (sqlite3.Error, OSError) as exc:
        _remove(temporary)
        raise store_failed(dest, failure, exc) from exc
    except BaseException:
        _remove(temporary)
        raise


def backup_name(now: datetime) -> str:
    """The file name of a backup taken at `now` (local time): monitor-20261127-041500.db."""
    return f"{PREFIX}{now:%Y%m%d-%H%M%S}.db"


def write_backup(store: Store, dest: Path, *, overwrite: bool = False) -> CopyReport:
    """Copy the database `store` has open into `dest`, consistently, while others may write; check the copy.

    When `store`'s connection already holds a read transaction, the copy is of that transaction's snapshot.
    """
    dest = Path(dest)
    if _same_file(dest, store.path):
        raise StoreError(f"{dest}: kopien kan ikke skrives over selve databasen; velg en annen fil")
    if dest.exists() and not overwrite:
        raise StoreError(f"{dest} finnes fra før; velg en annen fil, eller bruk --force")
    with _replaced_atomically(dest, ".tmp", "kunne ikke ta sikkerhetskopi") as temporary:
        target = sqlite3.connect(temporary, isolation_level=None)
        try:
            with _snapshot(store.conn):
                store.conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file: no -wal beside it
            report = _inspect(target, dest)
        finally:
            target.close()
    return CopyReport(dest, dest.stat().st_size, report.schema_version, report.counts)


def backup_to_folder(store: Store, folder: Path, now: datetime, *, keep: int | None = None) -> tuple[CopyReport, list[Path]]:
    """A backup named by `now` in `folder`; with `keep`, the older backups beyond the newest `keep` are removed.

    Returns the copy's report and the files removed. Only files named like a backup (monitor-YYYYMMDD-HHMMSS.db)
    are ever removed.
    """
    report = write_backup(store, Path(folder) / backup_name(now))
    removed = prune(Path(folder), keep) if keep is not None else []
    return report, removed


def backups_in(folder: Path) -> list[Path]:
    """The backups in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if NAME_PATTERN.match(path.name) and path.is_file())


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups in `folder` (at least one is always kept); return those removed."""
    found = backups_in(folder)
    old = found[: max(len(found) - max(keep, 1), 0)]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def check_copy(path: Path) -> CopyReport:
    """Open a backup file and check it as `restore` does: integrity, a monitor schema this program knows, row counts."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: filen finnes ikke")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            report = _inspect(conn, path)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise store_failed(path, "kan ikke lese kopien", exc) from exc
    return CopyReport(path, path.stat().st_size, report.schema_version, report.counts)


def restore_database(copy: Path, db: Path) -> CopyReport:
    """Replace the database at `db` with the backup `copy`, atomically; refuse while anyone has `db` open.

    The copy is copied next to `db`, checked there (the file that will be put in place) and fsynced; the database
    is then probed for other connections, its stale -wal/-shm removed and the copy renamed over it.
    """
    copy, db = Path(copy), Path(db)
    if not copy.is_file():
        raise StoreError(f"{copy}: filen finnes ikke")
    if _same_file(copy, db):
        raise StoreError(f"{copy} er selve databasen; velg en sikkerhetskopi")
    with _replaced_atomically(db, ".restore.tmp", "kunne ikke gjenopprette databasen") as temporary:
        shutil.copyfile(copy, temporary)
        conn = sqlite3.connect(temporary, isolation_level=None)
        try:
            report = _inspect(conn, copy)
            conn.execute("PRAGMA journal_mode = DELETE")  # a copy of a WAL file: fold it into one file
        finally:
            conn.close()
        if db.exists():
            _refuse_if_open(db)
        for stale in (_sidecar(db, "-wal"), _sidecar(db, "-shm"), _sidecar(db, "-journal")):
            _remove(stale)
    return CopyReport(db, db.stat().st_size, report.schema_version, report.counts)


def _refuse_if_open(db: Path) -> None:
    """StoreError when any other connection (this process's or another's) has the database open.

    An exclusive lock in exclusive locking mode is only granted when no connection holds the database (in WAL
    mode every open connection keeps a shared lock on it), so this sees an idle `monitor serve` too.
    """
    probe = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        probe.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            probe.execute("BEGIN EXCLUSIVE")
            probe.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{db} er åpen i en annen prosess (tjenesten, `monitor serve` eller en kommando som kjører); "
                    "stopp den først"
                ) from exc
            raise
        except sqlite3.DatabaseError:  # not a database SQLite can read (often why one restores): nobody uses it
            return
        probe.execute("ROLLBACK")
    finally:
        probe.close()  # the last connection: SQLite checkpoints and removes the -wal and -shm itself


def _inspect(conn: sqlite3.Connection, shown: Path) -> CopyReport:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        listed = "; ".join(str(problem) for problem in problems[:3]) + (" …" if len(problems) > 3 else "")
        raise StoreError(f"{shown}: integritetssjekken feilet: {listed}")
    version = schema_version(conn)
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )]
    if version < 1 or not set(REQUIRED_TABLES) <= set(tables):
        raise StoreError(f"{shown}: dette er ikke en database fra overvåkingen (skjemaversjon {version})")
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{shown}: skjemaversjon {version} er nyere enn programmet kjenner ({len(MIGRATIONS)}); oppgrader det først"
        )
    counts = {table: int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]) for table in tables}
    return CopyReport(shown, 0, version, counts)


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """A read transaction for the copy, unless the caller already holds one (then the copy is of its snapshot)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read
        yield
    finally:
        conn.execute("COMMIT")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _sidecar(db: Path, suffix: str) -> Path:
    return db.with_name(db.name + suffix)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file, or a directory's entries (the rename), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
