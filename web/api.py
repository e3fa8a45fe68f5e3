"""The JSON API (to be built): indicators, observations with vintages, evaluations, JSON-stat 2.0."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")
