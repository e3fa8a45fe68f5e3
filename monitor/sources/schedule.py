"""A source's daily check: the cron trigger in local time, never in the DST hour (each source's job is in the registry)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

QUIET_HOURS = range(2, 3)  # 02:00–02:59 is skipped or doubled on DST nights: no job runs then


@dataclass(frozen=True)
class SourceJob:
    """When a source is checked. SSB publishes at 08:00 and refreshes metadata at 05:00 and 11:30."""

    source: str
    hour: int
    minute: int
    day_of_week: str | None = None  # e.g. "mon": weekly, for a source that publishes once a year; None: daily

    def trigger(self, timezone: ZoneInfo) -> CronTrigger:
        """A daily (or, with `day_of_week`, weekly) cron trigger in local time."""
        if self.hour in QUIET_HOURS:
            raise ValueError(f"{self.source}: no job may run between 02:00 and 03:00 (DST)")
        return CronTrigger(day_of_week=self.day_of_week, hour=self.hour, minute=self.minute, timezone=timezone)
