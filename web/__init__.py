"""The Flask web UI in bokmål: reads the store and the evaluation; never starts a scheduler."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, render_template

from monitor.assessment import evaluate_all
from monitor.catalogue import load_catalogue
from monitor.evaluate import STATE_WORDS, TARGET_WORDS, State
from monitor.settings import Settings, load_settings
from monitor.store import Store


def create_app(settings: Settings | None = None) -> Flask:
    """The app factory. Settings come from MONITOR_* unless given (tests pass their own)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MONITOR_SETTINGS"] = settings

    @app.get("/")
    def overview() -> str:
        catalogue = load_catalogue(settings.catalogue)
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        with Store(settings.db, create=False) as store:
            store.require_current_schema()
            evaluations = evaluate_all(catalogue, store, today)
        counts = {state: sum(1 for e in evaluations if e.state is state) for state in State}
        return render_template(
            "overview.html", evaluations=evaluations, catalogue=catalogue, today=today, counts=counts,
            state_words=STATE_WORDS, target_words=TARGET_WORDS,
        )

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
