"""The scheduler: one process, APScheduler 3 in Europe/Oslo time, a job per source, catch-up decided from fetch_runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from monitor.core import timestamps
from monitor.service.backups import BACKUP_HOUR, BACKUP_MINUTE
from monitor.sources.registry import JOBS
from monitor.sources.schedule import SourceJob

from monitor.store.database import Store

log = logging.getLogger("monitor.service.scheduler")

MISFIRE_GRACE = int(timedelta(hours=6).total_seconds())
REQUEST_INTERVAL = 30  # seconds between looks at fetch_requests


def previous_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The last time the trigger fired at or before `now` (looked for within the last 8 days)."""
    probe = trigger.get_next_fire_time(None, now - timedelta(days=8))
    last = None
    while probe is not None and probe <= now:
        last = probe
        probe = trigger.get_next_fire_time(probe, probe + timedelta(seconds=1))
    return last


def needs_catch_up(store: Store, job: SourceJob, now: datetime, timezone: ZoneInfo) -> bool:
    """True when the job's last scheduled time passed with no run of its source since (downtime)."""
    due = previous_fire(job.trigger(timezone), now)
    if due is None:
        return False
    row = store.conn.execute(
        "SELECT MAX(started_at) FROM fetch_runs WHERE source = ?", [job.source]
    ).fetchone()
    last = row[0]
    return last is None or timestamps.decode(last) < due


def build_scheduler(
    store: Store,
    run_source: Callable[[str], None],
    *,
    now: datetime,
    timezone: ZoneInfo,
    jobs: tuple[SourceJob, ...] = JOBS,
    sources: set[str] | None = None,
    heartbeat: Callable[[], None] | None = None,
    requests: Callable[[], None] | None = None,
    backup: Callable[[], None] | None = None,
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """A scheduler with one job per source; a job whose last run was missed runs once right away.

    `requests`, when given, runs every 30 seconds to carry out the fetches asked for in the web UI; `backup`, when
    given, runs daily at 04:15 (monitor/service/backups.py).
    """
    scheduler = scheduler or BlockingScheduler(timezone=timezone)
    for job in jobs:
        if sources is not None and job.source not in sources:
            continue
        catch_up = needs_catch_up(store, job, now, timezone)
        scheduler.add_job(
            run_source, job.trigger(timezone), args=[job.source], id=f"fetch-{job.source}", name=f"hent {job.source}",
            replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE,
            **({"next_run_time": now} if catch_up else {}),
        )
        if catch_up:
            log.info("%s: siste planlagte kjøring ble ikke gjort; tar den igjen nå", job.source)
    if heartbeat is not None:
        scheduler.add_job(heartbeat, "interval", seconds=30, id="heartbeat", replace_existing=True,
                          coalesce=True, max_instances=1)
    if requests is not None:
        # First look at once: a request made while no scheduler ran is carried out on start.
        scheduler.add_job(requests, "interval", seconds=REQUEST_INTERVAL, id="fetch-requests", name="bestilte hentinger",
                          replace_existing=True, coalesce=True, max_instances=1, next_run_time=now)
    if backup is not None:
        scheduler.add_job(backup, CronTrigger(hour=BACKUP_HOUR, minute=BACKUP_MINUTE, timezone=timezone), id="backup",
                          name="sikkerhetskopi", replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=MISFIRE_GRACE)
    scheduler.add_listener(_log_job_error, EVENT_JOB_ERROR)
    return scheduler


def _log_job_error(event: JobExecutionEvent) -> None:
    log.error("jobben %s feilet: %r", event.job_id, event.exception, exc_info=event.exception)
