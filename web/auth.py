"""Users, roles and login (to be built): write routes need a logged-in editor or admin."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    """Hook authentication into the app."""
