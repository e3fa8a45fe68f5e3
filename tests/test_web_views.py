"""The reading pages through Flask's test client: overview, filters, indicator page, sources, escaping."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from support.auth_helpers import NOW, csrf_token, logged_in, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue, load_fixture_baseline
from monitor.seed.baseline import read_baseline
from monitor.sources.pipeline import IndicatorPlan
from monitor.core.model import Observation, RunRecord, TableMeta
from monitor.store.database import Store

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app


def store_of(app: Flask) -> Store:
    return Store(app.config["MONITOR_SETTINGS"].db)


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([a-z0-9_]+)"', html)


def test_overview_groups_every_indicator_with_placeholders_counts_and_norwegian_numbers(app: Flask) -> None:
    html = app.test_client().get("/").get_data(as_text=True)
    ids = row_ids(html)
    catalogue = load_behaviour_catalogue()
    assert ids == [i.id for i in catalogue.indicators]
    assert html.count('<tr class="placeholder">') == len(catalogue.placeholders) == 3
    assert "Rapporteres kvalitativt" in html and "Indikator under utvikling" in html
    # The Økonomi placeholder follows vedlikehold_formalsbygg; the climate one opens its table.
    assert html.index("vedlikehold_formalsbygg") < html.index("Indikator under utvikling")
    assert 'lang="nb"' in html and "<caption>" in html and 'scope="col"' in html and 'scope="row"' in html
    assert "14,8\u00a0%" in html  # disposisjonsfond 2022, from Babel
    assert re.search(r'<svg class="spark"[^>]*role="img" aria-label="Utvikling: 2019: 15,1', html)
    assert f"Viser {len(ids)} av {len(ids)} indikatorer." in html
    assert "https://" not in re.sub(r'href="https://www\.ssb\.no[^"]*"', "", html.split("<body", 1)[0])  # no CDN


@pytest.mark.parametrize("query,expect", [
    ("area=okonomi", {"disposisjonsfond", "netto_driftsresultat", "netto_lanegjeld", "vedlikehold_formalsbygg"}),
    ("area=okonomi&source=ssb", {"netto_driftsresultat", "vedlikehold_formalsbygg"}),
    ("state=not_measured", None),
])
def test_filters(app: Flask, query: str, expect: set[str] | None) -> None:
    html = app.test_client().get("/?" + query).get_data(as_text=True)
    ids = set(row_ids(html))
    if expect is not None:
        assert ids == expect
    else:
        assert ids and all(f'data-id="{i}" data-state="not_measured"' in html for i in ids)
    # Placeholders stay with an area filter only: they have no state and no source.
    assert ('<tr class="placeholder">' in html) == (query == "area=okonomi")


@pytest.mark.parametrize("hostile", [
    "' OR '1'='1", "1; DROP TABLE observations; --", XSS, "%00", "okonomi' --", "\u202e", "x" * 5000,
])
def test_hostile_filter_values_are_ignored(app: Flask, hostile: str, tmp_path: Path) -> None:
    catalogue = load_behaviour_catalogue()
    client = app.test_client()
    for key in ("area", "state", "source"):
        response = client.get("/", query_string={key: hostile})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert len(row_ids(html)) == len(catalogue.indicators)
        assert XSS not in html
    with store_of(app) as store:
        assert store.count_observations() == len(read_baseline(catalogue, baseline_for(catalogue, tmp_path)))


def test_indicator_page_shows_vintages_source_clocks_and_history(app: Flask) -> None:
    with store_of(app) as store:
        run = RunRecord("ssb", "12143", NOW, NOW)
        store.write_run(run, [Observation("netto_driftsresultat", "3203", "2022", -0.4, None, "ssb:12143")],
                        table_meta=TableMeta("ssb", "12143", "12143: Finansielle nøkkeltall", "2025-06-16T08:00:00Z"))
    html = app.test_client().get("/indikator/netto_driftsresultat").get_data(as_text=True)
    assert "<h1>Netto driftsresultat som andel av brutto driftsinntekter (&gt; 3 %)</h1>" in html
    assert 'href="https://www.ssb.no/statbank/table/12143"' in html
    assert "\u22120,7\u00a0%" in html and "\u22120,4\u00a0%" in html  # printed and now, typographic minus
    assert "Handlingsprogram 2024–2027" in html and "27.11.2026 kl. 09:30" in html
    assert "16.06.2025 kl. 10:00" in html  # the source's stamp, Oslo time
    assert 'class="chart"' in html and 'aria-labelledby="chart-title chart-desc"' in html
    assert 'class="band desired"' in html and "Tallene i diagrammet" in html
    assert "Revidert" in html and "Neste sjekk" in html and "28.11.2026 kl. 08:30" in html


def test_unknown_indicator_is_404_in_bokmal(app: Flask) -> None:
    response = app.test_client().get("/indikator/finnes_ikke")
    assert response.status_code == 404
    assert "Fant ikke siden" in response.get_data(as_text=True)
    assert app.test_client().get("/indikator/<script>").status_code == 404


def test_stored_markup_renders_inert(app: Flask) -> None:
    """A note, a source string, a run's actor, file name and error with markup are shown as text."""
    with store_of(app) as store:
        run = RunRecord("import", XSS + ".csv", NOW, NOW, actor=XSS, file_name=XSS + ".csv")
        store.write_run(run, [Observation("sykefravaer", "3203", "2023", 8.4, None, XSS)])
        store.record_failure(RunRecord("ssb", "12143", NOW, NOW + timedelta(seconds=1)), "HTTP 400: " + XSS)
    client = app.test_client()
    for path in ("/", "/indikator/sykefravaer", "/indikator/netto_driftsresultat", "/kilder"):
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html, path
    assert ESCAPED in client.get("/indikator/sykefravaer").get_data(as_text=True)
    assert ESCAPED in client.get("/kilder").get_data(as_text=True)
    assert ESCAPED in client.get("/indikator/netto_driftsresultat").get_data(as_text=True)


def test_sources_page_has_a_row_per_table(app: Flask) -> None:
    with store_of(app) as store:
        store.record_failure(RunRecord("ssb", "12143", NOW, NOW), "HTTP 400: Value AGD23 is not a valid value code")
    html = app.test_client().get("/kilder").get_data(as_text=True)
    ssb = html.split('id="kilde-ssb"', 1)[1].split("</section>", 1)[0]
    assert ssb.count("<tr class=") == len(IndicatorPlan(load_behaviour_catalogue(), "ssb").tables)
    assert "Value AGD23 is not a valid value code" in ssb and "feilet" in ssb
    assert "Hent SSB nå" not in html  # only for admins


def test_an_admin_asks_for_a_fetch_and_the_request_is_recorded(app: Flask) -> None:
    assert app.test_client().post("/kilder/ssb/hent").status_code == 302  # logged out: to the login page
    viewer = logged_in(app, "lise")
    assert viewer.post("/kilder/ssb/hent", data={"csrf_token": csrf_token(viewer, "/kilder")}).status_code == 403
    admin = logged_in(app, "anne")
    assert admin.post("/kilder/ssb/hent").status_code == 400  # no CSRF token
    token = csrf_token(admin, "/kilder")
    assert "Hent SSB nå" in admin.get("/kilder").get_data(as_text=True)
    response = admin.post("/kilder/ssb/hent", data={"csrf_token": token}, follow_redirects=True)
    assert "Henting av SSB er bestilt" in response.get_data(as_text=True)
    again = admin.post("/kilder/ssb/hent", data={"csrf_token": token}, follow_redirects=True)
    assert "allerede bestilt" in again.get_data(as_text=True)
    assert admin.post("/kilder/nope/hent", data={"csrf_token": token}).status_code == 404
    with store_of(app) as store:
        rows = store.conn.execute("SELECT source, requested_by, started_at FROM fetch_requests").fetchall()
    assert rows == [("ssb", "anne", None)]
    assert "venter på planleggeren" in admin.get("/kilder").get_data(as_text=True)


def test_dates_are_norwegian(app: Flask) -> None:
    app.config["MONITOR_NOW"] = datetime(2026, 3, 2, 9, 0, tzinfo=NOW.tzinfo)
    html = app.test_client().get("/").get_data(as_text=True)
    assert "vurdert\n  <time datetime=\"2026-03-02\">2. mars 2026</time>" in html
