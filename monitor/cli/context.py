"""What every `monitor` subcommand reads from its surroundings: the settings, the local time and who runs it."""

from __future__ import annotations

import getpass
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from monitor.core.settings import Settings


def current_settings() -> Settings:
    """The settings the root command loaded from MONITOR_* (kept as the click context's object)."""
    settings = click.get_current_context().find_root().obj
    assert isinstance(settings, Settings)
    return settings


def local_now(settings: Settings) -> datetime:
    """Now, in the configured time zone (the commands are where the real clock is read)."""
    return datetime.now(ZoneInfo(settings.timezone))


def login_name() -> str:
    """The operating-system user, for run logs when no --by or MONITOR_IMPORT_BY is given."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return "ukjent"
