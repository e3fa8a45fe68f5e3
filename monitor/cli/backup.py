"""`monitor backup` and `monitor restore`: checked copies of the database, taken while the service runs, and the way
back (refused while a scheduler or any other process has the database open). docs/operations.md#backup-and-restore."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import click

from monitor.cli.context import current_settings as _settings, local_now as _now
from monitor.core.errors import MonitorError
from monitor.core.numbers import format_number
from monitor.core.settings import Settings
from monitor.service.backups import daily_backup
from monitor.service.lock import running_holder
from monitor.store.backup import CopyReport, backup_to_folder, restore_database, write_backup
from monitor.store.database import Store
from monitor.store.migrations import MIGRATIONS


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Skriv kopien i denne mappen, med tidspunktet i navnet (monitor-ÅÅÅÅMMDD-TTMMSS.db).")
@click.option("--keep", type=click.IntRange(min=1), help="Med --dir: behold bare de N nyeste kopiene i mappen.")
@click.option("--force", is_flag=True, help="Skriv over FILE om den finnes.")
def backup(file: Path | None, folder: Path | None, keep: int | None, force: bool) -> None:
    """Ta en sikkerhetskopi av databasen (trygt mens tjenesten kjører); kopien kontrolleres med integrity_check."""
    settings = _settings()
    if (file is None) == (folder is None):
        raise click.UsageError("oppgi enten en fil (FILE) eller en mappe med --dir")
    if keep is not None and folder is None:
        raise click.UsageError("--keep gjelder bare sammen med --dir")
    removed: list[Path] = []
    with Store(settings.db, create=False) as store:
        store.require_current_schema()
        if folder is not None:
            report, removed = backup_to_folder(store, folder, _now(settings), keep=keep)
        else:
            assert file is not None
            report = write_backup(store, file, overwrite=force)
    click.echo(f"{report.path}: {size_text(report.size)}, skjemaversjon {report.schema_version}, integritetssjekk ok.")
    _echo_counts(report)
    if removed:
        click.echo(f"Fjernet {len(removed)} eldre kopi(er), beholder de {keep} nyeste: "
                   + ", ".join(path.name for path in removed))


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Erstatt databasen (MONITOR_DB) med en sikkerhetskopi; nektes mens planleggeren eller noe annet har den åpen."""
    settings = _settings()
    db = settings.db
    holder = None
    if db.exists():
        try:
            with closing(sqlite3.connect(db, timeout=10)) as conn:
                holder = running_holder(conn, _now(settings))
        except sqlite3.DatabaseError:  # a damaged database has no lock to read; the open check remains
            click.echo(f"Merk: {db} kan ikke leses (skadet?); sjekker bare at ingen prosess har den åpen.", err=True)
        if holder is not None:
            raise MonitorError(f"en planlegger kjører mot {db} ({holder}); stopp tjenesten før du gjenoppretter")
    report = restore_database(file, db)
    click.echo(f"{db}: gjenopprettet fra {file} ({size_text(report.size)}, skjemaversjon {report.schema_version}, "
               "integritetssjekk ok).")
    _echo_counts(report)
    if report.schema_version < len(MIGRATIONS):
        click.echo(f"Kopien har skjemaversjon {report.schema_version}; kjør `monitor init` for å migrere den "
                   f"til {len(MIGRATIONS)}.")


def scheduled_backup_job(settings: Settings) -> Callable[[], None] | None:
    """The scheduler's daily backup (MONITOR_BACKUP_DIR), or None when it is off."""
    folder = settings.backup_dir
    if folder is None:
        return None

    def job() -> None:
        daily_backup(settings.db, folder, settings.backup_keep, _now(settings))

    return job


def size_text(size: int) -> str:
    """A file size in bokmål: '812 kB', '12,4 MB' (1 kB = 1024 byte)."""
    if size < 1024 * 1024:
        return f"{format_number(size / 1024, 0)}\u00a0kB"
    return f"{format_number(size / (1024 * 1024), 1)}\u00a0MB"


def _echo_counts(report: CopyReport) -> None:
    for table, count in report.counts.items():
        click.echo(f"  {table}: {format_number(count, 0)} {'rad' if count == 1 else 'rader'}")
