"""The analysts' API: every indicator in one JSON-stat 2.0 dataset (/api/jsonstat) and every stored vintage as CSV
(/api/observations.csv).

Read-only GET routes under /api, behind the same gate as the rest of the API (`web.auth`: open reading by default;
with MONITOR_READ_OPEN=false an anonymous request gets 401 JSON). Neither answer names who imported a file.
Options: `?as_of=YYYY-MM-DD` (what was known by the end of that day) on both, and `?vintages=all` (the `versjon`
dimension) on the dataset; anything else in them is a 400 in bokmål.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date

from flask import Blueprint, Response, abort, request

from monitor.report.dataset import DatasetTooLarge, all_indicators_dataset, known_by_end_of
from monitor.report.observations import csv_chunks, observation_rows
from monitor.store.database import Store
from web import clock
from web.store import get_store

bp = Blueprint("analysts", __name__, url_prefix="/api")


def _as_of() -> date | None:
    """`?as_of=`: a date (YYYY-MM-DD), or None when not given; 400 otherwise."""
    text = request.args.get("as_of", "")
    if not text:
        return None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # 2025-02-30
    abort(400, description=f"Ugyldig dato i as_of: {text[:40]!r}. Skriv datoen som ÅÅÅÅ-MM-DD, for eksempel 2025-06-30.")


def _known_by(day: date | None) -> str | None:
    return known_by_end_of(day, clock.zone()) if day else None


@bp.get("/jsonstat")
def dataset() -> Response:
    """Every indicator × region × period (× versjon with ?vintages=all) as one JSON-stat 2.0 dataset."""
    choice = request.args.get("vintages", "latest")
    if choice not in ("latest", "all"):
        abort(400, description=f"Ugyldig verdi for vintages: {choice[:40]!r}. Bruk vintages=all, eller utelat den.")
    day = _as_of()
    try:
        data = all_indicators_dataset(clock.catalogue(), get_store(), vintages=choice == "all", known_by=_known_by(day),
                                      as_of=day.isoformat() if day else None)
    except DatasetTooLarge as exc:
        abort(400, description=f"For stort: {exc}.")
    return Response(json.dumps(data, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")


@bp.get("/observations.csv")
def observations() -> Response:
    """One row per stored vintage of every indicator, streamed (UTF-8 with a BOM, semicolons)."""
    day = _as_of()
    known_by, catalogue, path = _known_by(day), clock.catalogue(), clock.settings().db
    get_store()  # fails now, as JSON, if the database is missing or not migrated

    def chunks() -> Iterator[bytes]:
        # Its own connection: the request's store is closed when the view returns, before the body is sent.
        with Store(path, create=False) as store, store.reading():
            yield from csv_chunks(observation_rows(catalogue, store, known_by))

    name = f"observasjoner-per-{day.isoformat()}.csv" if day else "observasjoner.csv"
    return Response(chunks(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
