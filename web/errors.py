"""Error pages: a MonitorError or a 404/500 becomes a page in bokmål (or JSON under /api)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template_string, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from monitor.errors import MonitorError

PAGE = """<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">Til oversikten</a></p></main></body></html>"""


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    def render(status: int, title: str, message: str) -> tuple[Response | str, int]:
        if request.path.startswith("/api/"):
            return jsonify({"error": title, "detail": message, "status": status}), status
        return render_template_string(PAGE, title=title, message=message), status

    @app.errorhandler(MonitorError)
    def monitor_error(exc: MonitorError) -> tuple[Response | str, int]:
        return render(500, "Noe gikk galt", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        titles = {404: "Fant ikke siden", 403: "Ingen tilgang", 405: "Metoden er ikke tillatt",
                  413: "Filen er for stor", 400: "Ugyldig forespørsel"}
        status = exc.code or 500
        return render(status, titles.get(status, "Feil"), exc.description or "")
