"""Release calendars: when each period of an indicator should exist, so lateness is judged against a date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.catalogue.indicators import Frequency

WAVE_YEARS = {Frequency.BIENNIAL: 2, Frequency.TRIENNIAL: 3, Frequency.QUADRENNIAL: 4}


class ReleaseRule(BaseModel):
    """When a source publishes period Y: on `due` (MM-DD) in year Y + `year_offset` (+ the indicator's lag).

    kind:
    - kostra: KOSTRA's calendar, unrevised figures 15 March and final figures mid-June of Y+1;
    - annual: every year;
    - waves: a survey every `every` years (from the frequency when omitted), anchored at `anchor`;
    - none: no calendar (sporadic or unknown frequency); never judged late.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["kostra", "annual", "waves", "none"]
    due: str = "06-30"
    year_offset: int = Field(default=1, ge=0, le=3)
    grace_days: int = Field(default=14, ge=0, le=365)
    every: int | None = Field(default=None, ge=2, le=10)
    anchor: int | None = Field(default=None, ge=1990, le=2100)

    @field_validator("due")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            date.fromisoformat(f"2000-{value}")
        except ValueError as exc:
            raise ValueError(f"`due` må være MM-DD, ikke {value!r}") from exc
        return value


KOSTRA_PRELIMINARY = ReleaseRule(kind="kostra", due="03-15", grace_days=7)
KOSTRA_FINAL_DUE = "06-15"


def due_date(rule: ReleaseRule, year: int, lag: int) -> date:
    """The day period `year` should be published."""
    month, day = (int(part) for part in rule.due.split("-"))
    return date(year + rule.year_offset + lag, month, day)


def wave_years(rule: ReleaseRule, frequency: Frequency, held_years: list[int]) -> tuple[int, int] | None:
    """(anchor, every) for a survey: the catalogue's anchor, else the latest year that has data."""
    every = rule.every or WAVE_YEARS.get(frequency)
    anchor = rule.anchor if rule.anchor is not None else (max(held_years) if held_years else None)
    if every is None or anchor is None:
        return None
    return anchor, every


def expected_latest(
    rule: ReleaseRule, frequency: Frequency, lag: int, today: date, held_years: list[int]
) -> int | None:
    """The latest period that should exist on `today`, or None when there is no calendar."""
    if rule.kind == "none":
        return None
    year = today.year
    if rule.kind == "waves":
        waves = wave_years(rule, frequency, held_years)
        if waves is None:
            return None
        anchor, every = waves
        candidate = anchor + ((year - anchor) // every) * every
        while candidate > anchor - every * 50 and due_date(rule, candidate, lag) > today:
            candidate -= every
        return candidate
    candidate = year
    while due_date(rule, candidate, lag) > today:
        candidate -= 1
    return candidate


def next_expected(
    rule: ReleaseRule, frequency: Frequency, lag: int, today: date, held_years: list[int]
) -> tuple[int, date] | None:
    """The next period to come after today's expected one, and its due date."""
    latest = expected_latest(rule, frequency, lag, today, held_years)
    if latest is None:
        return None
    step = 1
    if rule.kind == "waves":
        waves = wave_years(rule, frequency, held_years)
        step = waves[1] if waves else 1
    return latest + step, due_date(rule, latest + step, lag)


def grace_end(rule: ReleaseRule, year: int, lag: int) -> date:
    """The last day a missing period counts as `due` rather than `late`."""
    return due_date(rule, year, lag) + timedelta(days=rule.grace_days)
