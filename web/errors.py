"""Error pages: a MonitorError (with its `http_status`) or a 404/500 becomes a page in bokmål (or JSON under /api)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from monitor.core.errors import MonitorError


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    def render(status: int, title: str, message: str) -> tuple[Response | str, int]:
        if request.path.startswith("/api/"):
            return jsonify({"error": title, "detail": message, "status": status}), status
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(MonitorError)
    def monitor_error(exc: MonitorError) -> tuple[Response | str, int]:
        return render(exc.http_status, "Noe gikk galt", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        titles = {404: "Fant ikke siden", 403: "Ingen tilgang", 405: "Metoden er ikke tillatt",
                  413: "Filen er for stor", 400: "Ugyldig forespørsel"}
        texts = {404: "Adressen finnes ikke. Kanskje lenken er gammel, eller det er en skrivefeil i den.",
                 405: "Siden kan ikke brukes på denne måten.", 400: "Forespørselen kunne ikke forstås."}
        status = exc.code or 500
        # Werkzeug's own descriptions are English: they give way to a bokmål text.
        own = exc.description if exc.description and exc.description != type(exc).description else None
        return render(status, titles.get(status, "Feil"), own or texts.get(status, ""))
