"""The one format of a stored moment: UTC, ISO 8601, whole seconds ("2026-11-27T08:30:00+00:00").

Every timestamp the store writes (fetch runs, vintages, table checks, users, login attempts, fetch requests, alert
episodes, silences and the outbox) goes through `encode`; text in that format sorts and compares as the instant it
names, so SQL may compare stamps as text. `decode` reads one back as an aware datetime.
"""

from __future__ import annotations

from datetime import datetime, timezone


def encode(moment: datetime) -> str:
    """An aware moment as stored text; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def decode(text: str) -> datetime:
    """Stored text back as an aware datetime (in UTC, as stored); text without an offset is refused."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {text!r}")
    return moment
