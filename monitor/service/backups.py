"""The scheduler's daily backup job (MONITOR_BACKUP_DIR, MONITOR_BACKUP_KEEP): a checked copy, the oldest pruned."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from monitor.core.errors import MonitorError
from monitor.core.numbers import format_number
from monitor.store.backup import CopyReport, backup_to_folder
from monitor.store.database import Store

log = logging.getLogger("monitor.service.backups")

BACKUP_HOUR, BACKUP_MINUTE = 4, 15  # a quiet hour: after the 02:00–03:00 daylight-saving hour, before the fetches


def daily_backup(db: Path, folder: Path, keep: int, now: datetime) -> CopyReport | None:
    """The job: a backup of `db` named by `now` in `folder`, keeping the newest `keep`; logged, never raised.

    Returns the copy's report, or None when it failed (the reason is logged as an error, the database untouched).
    """
    try:
        with Store(db, create=False) as store:
            report, removed = backup_to_folder(store, folder, now, keep=keep)
    except MonitorError as exc:
        log.error("sikkerhetskopien feilet: %s", exc, extra={"outcome": "failed"})
        return None
    log.info(
        "sikkerhetskopi %s: %s byte, %s observasjoner, integritetssjekk ok; %d eldre fjernet (beholder %d)",
        report.path, format_number(report.size, 0), format_number(report.counts.get("observations", 0), 0),
        len(removed), keep, extra={"outcome": "ok"},
    )
    return report
