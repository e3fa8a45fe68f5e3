"""Pages for reading: the overview, one page per indicator, and the sources page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template

from monitor.assessment import evaluate_all
from monitor.catalogue import load_catalogue
from monitor.evaluate import STATE_WORDS, TARGET_WORDS, State
from monitor.settings import Settings
from monitor.store import Store

bp = Blueprint("views", __name__)


def settings() -> Settings:
    """The app's settings."""
    value = current_app.config["MONITOR_SETTINGS"]
    assert isinstance(value, Settings)
    return value


@bp.get("/")
def overview() -> str:
    """All indicators with their state (the first version; the full overview replaces this)."""
    config = settings()
    catalogue = load_catalogue(config.catalogue)
    zone = ZoneInfo(config.timezone)
    now = datetime.now(zone)
    with Store(config.db, create=False) as store:
        store.require_current_schema()
        evaluations = evaluate_all(catalogue, store, now.date(), now, zone)
    counts = {state: sum(1 for e in evaluations if e.state is state) for state in State}
    return render_template(
        "overview_first.html", evaluations=evaluations, catalogue=catalogue, today=now.date(), counts=counts,
        state_words=STATE_WORDS, target_words=TARGET_WORDS,
    )
