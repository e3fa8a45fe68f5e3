"""The export page: the årsrapport and KOSTRA tables as XLSX, CSV or HTML, as of any date, as `monitor export`."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request

from monitor.report.exports import plan_period
from monitor.report.formats import arsrapport_years, nothing_known, render_arsrapport
from monitor.report.kostra_export import render_kostra
from monitor.core.errors import MonitorError
from web import clock, security
from web.store import get_store

bp = Blueprint("downloads", __name__)

# Flask adds "; charset=utf-8" to text/* types itself: naming it here too sent it twice.
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "html": "text/html",
}


@bp.get("/eksport")
def export_page() -> tuple[str, int]:
    """A form for the årsrapport export."""
    return _form(None)


def _form(error: str | None, status: int = 200) -> tuple[str, int]:
    """The form; after an error it keeps what was chosen (issue 17 §16), each value only as the text it was."""
    today = clock.now().date()
    first, last = _default_years(None)
    chosen = {key: request.args.get(key, "")[:20] for key in ("fra", "til", "format", "per", "fremgang", "ar")}
    return render_template(
        "export.html", first=chosen["fra"] or first, last=chosen["til"] or last, plan=plan_period(), today=today,
        error=error, kostra=clock.kostra() is not None, chosen=chosen,
    ), status


def _default_years(as_of: date | None) -> tuple[int, int]:
    """The years with data (at `as_of`) through the plan period, as `monitor export arsrapport` without --from/--to."""
    return arsrapport_years(clock.catalogue(), get_store(), as_of, ZoneInfo(clock.settings().timezone))


def _as_of() -> date | None:
    text = request.args.get("per", "")
    return date.fromisoformat(text) if text else None


def _format() -> str:
    fmt = request.args.get("format", "xlsx")
    if fmt not in MEDIA:
        raise ValueError(f"ukjent format {fmt!r}")
    return fmt


def _file(content: bytes, fmt: str, name: str) -> Response:
    disposition = "inline" if fmt == "html" else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    if fmt == "html":  # a whole document with its own <style>: allow exactly that style, nothing else inline
        headers["Content-Security-Policy"] = security.policy(security.inline_style_hashes(content.decode("utf-8")))
    return Response(content, mimetype=MEDIA[fmt], headers=headers)


@bp.get("/eksport/arsrapport")
def arsrapport() -> Response | tuple[str, int]:
    """The file itself; bad input gives the form again with the reason."""
    now = clock.now()
    try:
        fmt, as_of = _format(), _as_of()
        first, last = int(request.args.get("fra", "")), int(request.args.get("til", ""))  # the form pre-fills them
        if first > last:
            return _form(f"Fra år ({first}) er etter til år ({last}): bytt om årene, så fra år er det første.", 400)
        notice = nothing_known(clock.catalogue(), get_store(), as_of, ZoneInfo(clock.settings().timezone))
        if notice:  # the file would be all blanks: say so instead (issue 17 §16)
            return _form(notice[:1].upper() + notice[1:] + ". Velg en senere dato.", 400)
        store = get_store()
        progress = request.args.get("fremgang") == "1"  # the form's checkbox, off by default
        content, data_per = render_arsrapport(
            clock.catalogue(), store, first, last, fmt, as_of, now, ZoneInfo(clock.settings().timezone),
            progress=progress,
        )
    except (ValueError, MonitorError) as exc:
        return _form(str(exc) if isinstance(exc, MonitorError) else f"ugyldig valg: {exc}", 400)
    return _file(content, fmt, f"arsrapport-indikatorer-{first}-{last}-per-{data_per.replace('.', '-')}.{fmt}")


@bp.get("/eksport/kostra")
def kostra() -> Response | tuple[str, int]:
    """The KOSTRA tables in the handlingsprogram's layout, the same as `monitor export kostra`."""
    kostra_catalogue = clock.kostra()
    if kostra_catalogue is None:
        return _form("KOSTRA-sammenligningen er ikke satt opp for denne kommunen (kostra.yaml mangler).", 404)
    try:
        fmt, as_of = _format(), _as_of()
        year_text = request.args.get("ar", "")
        year = int(year_text) if year_text else None
        store = get_store()
        content, data_per, chosen = render_kostra(
            kostra_catalogue, store, fmt, as_of, year, clock.now(), ZoneInfo(clock.settings().timezone)
        )
    except (ValueError, MonitorError) as exc:
        return _form(str(exc) if isinstance(exc, MonitorError) else f"ugyldig valg: {exc}", 400)
    return _file(content, fmt, f"kostra-{chosen}-per-{data_per.replace('.', '-')}.{fmt}")
