"""The import page: editors upload CSV or XLSX, checked and stored exactly as `monitor import` does.

The upload is written to a private temporary directory under its original file name (so the run log
and the messages name the file the editor chose) and handed to `monitor.imports.indicators.import_file`: every
row is checked, every problem is listed with its line or cell, and nothing is stored unless all rows
are right. The actor is the logged-in user. Templates come from `monitor.imports.templates`. A KOSTRA file (format
"kostra") goes to `monitor.imports.kostra` instead, as `monitor kostra import` does.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from monitor.core.errors import ImportFileError, MonitorError
from monitor.imports.indicators import FORMATS, import_file
from monitor.evaluate.kostra import expected_kostra_year
from monitor.imports.kostra import import_kostra_file, render_template_csv, template_lines
from web.store import get_store
from monitor.imports.templates import find_source, held_values, import_sources, render_csv, render_xlsx, template_rows
from web import clock
from web.auth import current_user, login_required

log = logging.getLogger("web.uploads")
bp = Blueprint("uploads", __name__)

FORMAT_WORDS = {
    "auto": "Automatisk (importformatet, eller Miljødirektoratets utslippsfil eller Nkoms dekningsfil når den gjenkjennes)",
    "standard": "Importformatet (CSV eller XLSX fra malen)",
    "miljodir": "Miljødirektoratets utslippsstatistikk (XLSX)",
    "nkom": "Nkoms dekning og abonnement, årlig (XLSX: bredbånd, fiber, 5G)",
    "kostra": "KOSTRA-tall (CSV eller XLSX fra KOSTRA-malen)",
}
KOSTRA_FORMAT = "kostra"  # a web choice only: the file goes to monitor.imports.kostra, not monitor.imports.indicators
MIMETYPES = {
    "csv": "text/csv",  # send_file adds "; charset=utf-8" to text/* itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FALLBACK_NAME = "opplasting"


def upload_name(name: str | None) -> str:
    """The uploaded file's own name, safe as a file name: no directories, no control characters."""
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = re.sub(r"[\x00-\x1f\x7f]", "", text).strip()
    if text in ("", ".", ".."):
        return FALLBACK_NAME
    encoded = text.encode("utf-8")
    if len(encoded) > 200:  # file systems allow 255 bytes; keep the extension
        suffix = Path(text).suffix[:10]
        text = encoded[: 200 - len(suffix.encode("utf-8"))].decode("utf-8", "ignore") + suffix
    return text


def size_text(size: int) -> str:
    """A byte count as people read it: '5 MB', '1,5 MB', '4 KB'."""
    megabytes = size / (1024 * 1024)
    if megabytes >= 1:
        return f"{megabytes:.1f}".removesuffix(".0").replace(".", ",") + " MB"
    return f"{max(1, round(size / 1024))} KB"


def _limit_text() -> str:
    return size_text(clock.settings().max_upload_bytes)


def _page(**context: object) -> str:
    kostra = clock.kostra() is not None
    formats = {key: words for key, words in FORMAT_WORDS.items() if kostra or key != KOSTRA_FORMAT}
    return render_template(
        "uploads_import.html", sources=import_sources(clock.catalogue()), formats=formats,
        limit=_limit_text(), kostra_years=_kostra_years() if kostra else [], **context,
    )


def _kostra_years() -> list[int]:
    """The years a KOSTRA template is offered for: the newest KOSTRA should have published, and the two before."""
    expected = expected_kostra_year(clock.today())
    return [expected, expected - 1, expected - 2]


@bp.get("/import")
@login_required("editor")
def import_page() -> ResponseReturnValue:
    """The upload form and the template downloads."""
    return _page(chosen_format="auto")


@bp.post("/import")
@login_required("editor")
def import_upload() -> ResponseReturnValue:
    """Check and store an uploaded file; list every problem when there is one (then nothing is stored)."""
    upload = request.files.get("fil")
    fmt = request.form.get("format", "auto")
    kostra = clock.kostra()
    if fmt not in FORMATS and not (fmt == KOSTRA_FORMAT and kostra is not None):
        return _page(chosen_format="auto", problems=[f"Ukjent format {fmt[:40]!r}; velg et av alternativene."]), 400
    if upload is None or not upload.filename:
        return _page(chosen_format=fmt, problems=["Velg en CSV- eller XLSX-fil å importere."]), 400
    user = current_user()
    assert user is not None  # login_required
    name = upload_name(upload.filename)
    with tempfile.TemporaryDirectory(prefix="monitor-import-") as folder:
        path = Path(folder) / name
        upload.save(path)
        try:
            store = get_store()
            if fmt == KOSTRA_FORMAT and kostra is not None:
                result = import_kostra_file(store, kostra, path, now=clock.now(), actor=user.username)
            else:
                bridge = request.form.get("bro") == "ja"  # a manual bridge over a source outage (issue 17 §5)
                result = import_file(
                    store, clock.catalogue(), path, now=clock.now(), actor=user.username, fmt=fmt, bridge=bridge
                )
        except ImportFileError as exc:
            problems = [problem.replace(folder + "/", "") for problem in exc.problems]
            log.info("import av %r av %s avvist: %d feil", name, user.username, len(problems))
            return _page(chosen_format=fmt, file_name=name, problems=problems), 422
    log.info("import av %r av %s: %d rader, %d nye verdier", name, user.username, result.rows, result.new_vintages)
    return _page(chosen_format=fmt, file_name=name, result=result)


@bp.get("/import/mal/<source>.<any(xlsx, csv):fmt>")
@login_required("editor")
def template_download(source: str, fmt: str) -> ResponseReturnValue:
    """A source's import template, pre-filled with its indicators, periods and the values held."""
    catalogue = clock.catalogue()
    try:
        chosen = find_source(catalogue, source)
    except MonitorError:
        abort(404, description=f"Ingen importmal for «{source}».")
    now = clock.now()
    store = get_store()
    held = held_values(store, catalogue)
    rows = template_rows(chosen, held, now.year)
    if fmt == "csv":
        data = render_csv(rows)
    else:
        data = render_xlsx(chosen, rows, now.date(), catalogue.municipality.current_code)
    return send_file(io.BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"import-{chosen.slug}.{fmt}", max_age=0)


@bp.get("/import/mal/kostra-<int:year>.csv")
@login_required("editor")
def kostra_template_download(year: int) -> ResponseReturnValue:
    """The KOSTRA figures SSB's API does not give for `year`, to fill in (as `monitor kostra template`)."""
    kostra = clock.kostra()
    if kostra is None or not 2015 <= year <= 2100:
        abort(404, description="Ingen KOSTRA-mal for dette året.")
    store = get_store()
    lines = template_lines(kostra, store, year)
    return send_file(io.BytesIO(render_template_csv(lines)), mimetype=MIMETYPES["csv"], as_attachment=True,
                     download_name=f"import-kostra-{year}.csv", max_age=0)


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over MONITOR_MAX_UPLOAD_BYTES: a page in bokmål (JSON under /api)."""
    message = f"Filen er større enn grensen på {_limit_text()}. Del den opp, eller be driften øke MONITOR_MAX_UPLOAD_BYTES."
    if request.path.startswith("/api/"):
        return {"error": "Filen er for stor", "detail": message, "status": 413}, 413
    current_app.logger.info("for stor opplasting til %s", request.path)
    return render_template("auth_refused.html", title="Filen er for stor", message=message), 413
