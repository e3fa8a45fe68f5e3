"""The import page (to be built): editors upload CSV or XLSX with the CLI's validation."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("uploads", __name__)
