"""The JSON API: indicators with their evaluation, vintages and fetch history, JSON-stat 2.0 series, and the
KOSTRA peer comparison (/api/kostra).

Read-only GET routes under /api. They answer to the same gate as the pages (`web.auth`): with
MONITOR_READ_OPEN=false an anonymous request gets 401 JSON. The answers are built in
`monitor.report.api` from the store and the (cached) evaluation; no SQL here. Who imported a file
(`fetch_history[].actor`) is a login name: anonymous readers get «en redaktør» instead.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort

from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.report.api import indicator_detail, indicator_list_json, indicator_rows, jsonstat_dataset
from monitor.report.kostra import kostra_json
from web.store import get_store
from web import auth, clock
from web.kostra import year_arg

bp = Blueprint("api", __name__, url_prefix="/api")


def _json(data: dict[str, Any]) -> Response:
    # Keys in the order they were built (Flask's jsonify sorts them); UTF-8 rather than \u escapes.
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/json")


def _indicator(catalogue: Catalogue, indicator_id: str) -> Indicator:
    found = catalogue.by_id.get(indicator_id)
    if found is None:
        abort(404, description=f"Det finnes ingen aktiv indikator med id-en «{indicator_id}».")
    return found


@bp.get("/indicators")
def indicators() -> Response:
    """Every active indicator: the catalogue's facts and the evaluation now."""
    catalogue, now = clock.catalogue(), clock.now()
    store = get_store()
    reads = clock.kommune(store, (catalogue, now))
    # The rows change only with the data and the day: serialised once per cached reading.
    rows = reads.derived("api.indicators", lambda: json.dumps(indicator_rows(catalogue, reads.evaluations), ensure_ascii=False))
    return Response(indicator_list_json(catalogue, rows, now), mimetype="application/json")


@bp.get("/indicators/<indicator_id>")
def indicator(indicator_id: str) -> Response:
    """One indicator: facts, evaluation, every vintage of every period, and the fetch history."""
    catalogue, now = clock.catalogue(), clock.now()
    found = _indicator(catalogue, indicator_id)
    store = get_store()
    reads = clock.kommune(store, (catalogue, now))
    detail = indicator_detail(catalogue, store, found, reads.by_id[found.id], now)
    detail["fetch_history"] = [{**run, "actor": auth.shown_name(run.get("actor"))} for run in detail["fetch_history"]]
    return _json(detail)


@bp.get("/indicators/<indicator_id>/jsonstat")
def indicator_jsonstat(indicator_id: str) -> Response:
    """The indicator's latest series for the kommune as a JSON-stat 2.0 dataset."""
    catalogue, now = clock.catalogue(), clock.now()
    found = _indicator(catalogue, indicator_id)
    store = get_store()
    vintages = clock.kommune(store, (catalogue, now)).vintages.get(found.id, [])
    return _json(jsonstat_dataset(catalogue, found, vintages))


@bp.get("/kostra")
def kostra() -> Response:
    """The KOSTRA peer comparison for a year (?ar=, default the newest with figures for Asker)."""
    catalogue = clock.kostra()
    if catalogue is None:
        abort(404, description="KOSTRA-sammenligningen er ikke satt opp for denne kommunen (kostra.yaml mangler).")
    year, now = year_arg(), clock.now()
    store = get_store()
    pages = clock.kostra_pages_for(store, catalogue, year)
    data = clock.kostra_derived(store, ("api", year), lambda: json.dumps(kostra_json(catalogue, pages, now), ensure_ascii=False))
    return Response(data, mimetype="application/json")
