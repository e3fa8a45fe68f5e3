"""The export page: the årsrapport tables as XLSX, CSV or HTML, as of any date, the same as `monitor export`."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request

from monitor.export_formats import render_arsrapport
from monitor.errors import MonitorError
from web import clock
from web.views import open_store

bp = Blueprint("downloads", __name__)

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@bp.get("/eksport")
def export_page() -> str:
    """A form for the årsrapport export."""
    today = clock.now().date()
    return render_template("export.html", first=2019, last=today.year - 1, today=today, error=None)


@bp.get("/eksport/arsrapport")
def arsrapport() -> Response | tuple[str, int]:
    """The file itself; bad input gives the form again with the reason."""
    today = clock.now().date()
    try:
        first, last = int(request.args.get("fra", "")), int(request.args.get("til", ""))
        fmt = request.args.get("format", "xlsx")
        if fmt not in MEDIA:
            raise ValueError(f"ukjent format {fmt!r}")
        as_of_text = request.args.get("per", "")
        as_of = date.fromisoformat(as_of_text) if as_of_text else None
        with open_store() as store:
            content, data_per = render_arsrapport(
                clock.catalogue(), store, first, last, fmt, as_of, today, ZoneInfo(clock.settings().timezone)
            )
    except (ValueError, MonitorError) as exc:
        message = str(exc) if isinstance(exc, MonitorError) else f"ugyldig valg: {exc}"
        return render_template("export.html", first=2019, last=today.year - 1, today=today, error=message), 400
    name = f"arsrapport-indikatorer-{first}-{last}-per-{data_per.replace('.', '-')}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(content, mimetype=MEDIA[fmt], headers={"Content-Disposition": f'{disposition}; filename="{name}"'})
