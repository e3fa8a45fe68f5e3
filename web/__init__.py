"""The Flask web UI in bokmål: reads the store and the evaluation; never starts a scheduler."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask

from monitor.core.errors import MonitorError
from monitor.core.settings import Settings, load_settings

log = logging.getLogger("web")


def create_app(settings: Settings | None = None, *, testing: bool = False) -> Flask:
    """The app factory. Settings come from MONITOR_* unless given (tests pass their own)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    if settings.secret_key is not None:
        secret = settings.secret_key.get_secret_value()
    else:
        # No insecure fallback: a random key, so sessions simply end when the process restarts.
        secret = secrets.token_hex(32)
        log.warning("MONITOR_SECRET_KEY er ikke satt: innlogginger varer bare til tjenesten startes på nytt")
    app.config.update(
        SECRET_KEY=secret,
        TESTING=testing,
        MONITOR_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.behind_tls,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
    )
    from web import analysts, api, auth, downloads, errors, kostra, ops, security, store, uploads, views

    store.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    for blueprint in (views.bp, auth.bp, uploads.bp, api.bp, analysts.bp, downloads.bp, kostra.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    ops.init_app(app)  # /healthz and /metrics
    return app


__all__ = ["MonitorError", "create_app"]
