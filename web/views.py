"""Pages for reading: the overview, one page per indicator, and the sources page.

Views open the store, call the read models in `monitor` and render; no SQL and no rules here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from monitor.evaluate.indicator import STATE_WORDS
from monitor.store.fetchrequests import request_fetch
from monitor.report.indicator import OUTCOME_WORDS, indicator_page
from monitor.report.kostra import rows_about
from monitor.report.readmodel import overview as read_overview
from monitor.report.sources import known_source, sources_page
from monitor.sources.registry import label as source_label
from web.store import get_store
from web import auth, charts, clock, formatting

bp = Blueprint("views", __name__)
formatting.register(bp)

# Links in the header (path, text, role needed to see it), shown when the app has a GET route at that path.
NAV = (("/", "Oversikt", None), ("/kostra", "KOSTRA", None), ("/kilder", "Kilder", None), ("/eksport", "Eksport", None), ("/import", "Import", "editor"))


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    """The header's links and the words every template uses."""
    paths = {rule.rule for rule in current_app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    nav = [(path, label, role) for path, label, role in NAV if path in paths]
    return {"nav": nav, "state_words": STATE_WORDS, "outcome_words": OUTCOME_WORDS}


@bp.get("/")
def overview() -> str:
    """All indicators, grouped satsingsområde → hovedmål → delmål, with filters and counts."""
    args = {key: request.args.get(key, "") for key in ("area", "state", "source", "fremgang")}
    catalogue, now = clock.catalogue(), clock.now()
    store = get_store()

    def content() -> Markup:
        page = read_overview(catalogue, store, now, args)
        sparklines = {line.indicator.id: charts.sparkline(line.points) for line in page.lines()}
        return Markup(render_template("overview_content.html", page=page, sparklines=sparklines))

    # The content depends only on the kommune's data, the day and the filters: render it once per
    # (cached reads, filters); the header (who is logged in, flash messages) is rendered per request.
    html = clock.kommune(store, (catalogue, now)).derived(("overview", tuple(sorted(args.items()))), content)
    return render_template("overview.html", content=html)


@bp.get("/indikator/<indicator_id>")
def indicator(indicator_id: str) -> str:
    """One indicator: chart, every vintage, source, clocks, fetch history and explanation."""
    kostra = clock.kostra()
    now = clock.now()
    store = get_store()
    page = indicator_page(clock.catalogue(), store, indicator_id, now)
    peers = []
    if page is not None and kostra is not None and any(row.indicator == indicator_id for row in kostra.rows):
        peers = rows_about(clock.kostra_pages_for(store, kostra), indicator_id)
    if page is None:
        abort(404, description="Det finnes ingen indikator med denne id-en.")
    return render_template("indicator.html", page=page, chart=charts.chart(page.indicator, page.points, page.printed, page.progress),
                           kostra_rows=peers)


@bp.get("/kilder")
def sources() -> str:
    """One row per source table: last attempt, last success, the source's stamp, next run, error."""
    store = get_store()
    page = sources_page(clock.catalogue(), store, clock.now(), kostra=clock.kostra())
    return render_template("sources.html", page=page)


@bp.post("/kilder/<source>/hent")
@auth.login_required("admin")
def request_source_fetch(source: str) -> ResponseReturnValue:
    """An admin asks for a fetch now: recorded in fetch_requests; the scheduler carries it out."""
    if not known_source(clock.catalogue(), source, clock.kostra()):
        abort(404, description="Ukjent kilde.")
    user = auth.current_user()
    who = user.username if user is not None else "ukjent"
    store = get_store()
    _, new = request_fetch(store, source, who, clock.now())
    label = source_label(source)
    if new:
        flash(f"Henting av {label} er bestilt. Planleggeren starter den innen et halvt minutt.")
    else:
        flash(f"Henting av {label} er allerede bestilt og venter på planleggeren.")
    return redirect(url_for("views.sources") + f"#kilde-{source}")
