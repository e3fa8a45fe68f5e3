"""Jinja filters: dates and times the Norwegian way (Babel, nb), in the configured time zone."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from flask import Blueprint

from monitor.core.numbers import format_number
from web import clock

LOCALE = "nb_NO"


def _moment(value: str | datetime) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed


def when(value: str | datetime | None) -> str:
    """A moment as "27.11.2026 kl. 09:30" in local time; "–" for none; the text itself if not a timestamp."""
    if value is None or value == "":
        return "–"
    moment = _moment(value)
    if moment is None:
        return str(value)
    if moment.tzinfo is None:
        return format_datetime(moment, "dd.MM.y 'kl.' HH:mm", locale=LOCALE)
    return format_datetime(moment, "dd.MM.y 'kl.' HH:mm", tzinfo=clock.zone(), locale=LOCALE)


def day(value: str | date | datetime | None) -> str:
    """A date as "27. november 2026" (a timestamp: its local date)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        moment = _moment(value)
        if moment is None:
            return value
        value = moment
    if isinstance(value, datetime):
        value = value.astimezone(clock.zone()).date() if value.tzinfo else value.date()
    return format_date(value, "d. MMMM y", locale=LOCALE)


def iso_day(value: str | date | datetime | None) -> str:
    """The machine-readable date for a <time datetime="…"> element."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        moment = _moment(value)
        if moment is None:
            return ""
        value = moment
    if isinstance(value, datetime):
        return value.isoformat()
    return value.isoformat()


def number(value: float | int, decimals: int = 0) -> str:
    """A plain number, Norwegian format."""
    return format_number(float(value), decimals)


def counted(value: int, one: str, many: str) -> str:
    """A count with its noun in the right number: 1 rad, 2 rader, 1 234 rader."""
    return f"{format_number(float(value), 0)} {one if value == 1 else many}"


def register(bp: Blueprint) -> None:
    """Make the filters available to every template of the app."""
    bp.add_app_template_filter(when, "when")
    bp.add_app_template_filter(day, "day")
    bp.add_app_template_filter(iso_day, "iso")
    bp.add_app_template_filter(number, "number")
    bp.add_app_template_filter(counted, "counted")
