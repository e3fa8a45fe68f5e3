"""When each source is checked: the daily schedule, shared by the scheduler and the evaluation's clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

QUIET_HOURS = range(2, 3)  # 02:00–02:59 is skipped or doubled on DST nights: no job runs then


@dataclass(frozen=True)
class SourceJob:
    """When a source is checked. SSB publishes at 08:00 and refreshes metadata at 05:00 and 11:30."""

    source: str
    hour: int
    minute: int

    def trigger(self, timezone: ZoneInfo) -> CronTrigger:
        """A daily cron trigger in local time."""
        if self.hour in QUIET_HOURS:
            raise ValueError(f"{self.source}: no job may run between 02:00 and 03:00 (DST)")
        return CronTrigger(hour=self.hour, minute=self.minute, timezone=timezone)


# SSB at 08:30, away from 07:55–08:15 and the 05:00/11:30 metadata refreshes; FHI and Udir after it; the KOSTRA
# peer comparison (kostra.yaml, run-log source "ssb-kostra") last, so the two SSB runs never share SSB's rate window.
JOBS = (SourceJob("ssb", 8, 30), SourceJob("fhi", 9, 0), SourceJob("udir", 9, 15), SourceJob("ssb-kostra", 9, 30))


def next_check(source: str, now: datetime, timezone: ZoneInfo) -> datetime | None:
    """The next scheduled check of a source after `now` (None for a source with no job)."""
    for job in JOBS:
        if job.source == source:
            fire = job.trigger(timezone).get_next_fire_time(None, now)
            return fire if isinstance(fire, datetime) else None
    return None
