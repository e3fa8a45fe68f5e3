"""The KOSTRA pages: an index of the tjenesteområder and one page per tjenesteområde (Asker against its peers)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from monitor.evaluate.indicator import TARGET_WORDS
from monitor.catalogue.kostra import KostraCatalogue
from monitor.evaluate.kostra import FRESHNESS_WORDS, STANDING_WORDS
from monitor.report.kostra import area_for_slug, kostra_summaries
from web import clock
from web.store import get_store

bp = Blueprint("kostra", __name__)

FRESHNESS_ORDER = ("failing", "late", "due", "manual", "empty", "fresh")
STANDING_ORDER = ("best", "middle", "worst", "equal", "by_size", "unranked")


def year_arg() -> int | None:
    """The year asked for in `?ar=`, None when not given; 400 when it is not a year from 2015."""
    text = request.args.get("ar", "")
    if not text:
        return None
    if not text.isdigit() or not 2015 <= int(text) <= 2100:
        abort(400, description=f"Ugyldig år: {text!r}. Velg et år fra 2015.")
    return int(text)


def _kostra() -> KostraCatalogue:
    catalogue = clock.kostra()
    if catalogue is None:
        abort(404, description="KOSTRA-sammenligningen er ikke satt opp for denne kommunen (kostra.yaml mangler).")
    return catalogue


@bp.get("/kostra")
def index() -> str:
    """Every tjenesteområde with its rows' freshness and Asker's standing."""
    kostra = _kostra()
    store = get_store()
    pages = clock.kostra_pages_for(store, kostra)
    year, summaries = (pages[0].year if pages else kostra.layout_year), kostra_summaries(pages)
    return render_template(
        "kostra_index.html", year=year, summaries=summaries, kostra=kostra,
        freshness_order=FRESHNESS_ORDER, freshness_words=FRESHNESS_WORDS,
        standing_order=STANDING_ORDER, standing_words=STANDING_WORDS,
    )


@bp.get("/kostra/<slug>")
def area(slug: str) -> str:
    """One tjenesteområde: the handlingsprogram's table with rank, colouring, freshness and SSB links."""
    kostra = _kostra()
    found = area_for_slug(kostra, slug)
    if found is None:
        abort(404, description="Det finnes ikke noe tjenesteområde med dette navnet i KOSTRA-sammenligningen.")
    year = year_arg()
    catalogue, now = clock.catalogue(), clock.now()
    store = get_store()
    page = clock.kostra_pages_for(store, kostra, year)[kostra.areas.index(found)]
    # The handlingsprogram's own indicator on a row's subject: its target and today's state, next to the peers.
    evaluations = clock.kommune(store, (catalogue, now)).by_id
    related = {
        line.row.id: (catalogue.by_id[line.row.indicator], evaluations.get(line.row.indicator))
        for line in page.rows if line.row.indicator is not None and line.row.indicator in catalogue.by_id
    }
    return render_template(
        "kostra_area.html", page=page, kostra=kostra, related=related, target_words=TARGET_WORDS,
        freshness_order=FRESHNESS_ORDER, freshness_words=FRESHNESS_WORDS, standing_words=STANDING_WORDS,
    )
