"""Injected clocks: the tests never read the real clock or sleep to let time pass."""

from __future__ import annotations

from datetime import datetime


class FixedClock:
    """A settable "now" for the pipeline's clock argument."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class SleepClock:
    """monotonic() and sleep() for the HTTP client's throttle and backoff: sleeping only advances time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
