"""Progress on the web (issue 18): the overview's column, filter and counts; the indicator page's explanation,
Theil–Sen line, projection and target level at Y (chart, text alternative, data table); the climate target's
missing 2009 value. On the behaviour fixture catalogue with the shipped baseline's rows."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from support.auth_helpers import NOW, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, load_behaviour_catalogue, load_fixture_baseline
from support.miljodir_workbook import ASKER_TOTALS, build, detail_rows
from monitor.evaluate.indicator import show
from monitor.evaluate.progress import PROGRESS_WORDS, ProgressStatus
from monitor.imports.indicators import import_file
from monitor.report import readcache
from monitor.store.database import Store

XSS = "<script>alert(1)</script>"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app


def progress_by_id(app: Flask) -> dict[str, dict[str, Any]]:
    """Every indicator's progress as the JSON API gives it (the same Evaluation the pages use)."""
    rows = app.test_client().get("/api/indicators").get_json()
    rows = rows["indicators"] if isinstance(rows, dict) else rows
    return {row["id"]: row["evaluation"]["progress"] for row in rows}


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([a-z0-9_]+)"', html)


def section(html: str, marker: str, end: str = "</section>") -> str:
    start = html.index(marker)
    return html[start:html.index(end, start)]


def test_overview_has_a_progress_column_with_the_bokmal_word(app: Flask) -> None:
    html = app.test_client().get("/").get_data(as_text=True)
    progress = progress_by_id(app)
    assert '<th scope="col" class="c-progress">Fremgang</th>' in html
    for indicator_id, found in progress.items():
        row = re.search(rf'<tr data-id="{indicator_id}"[^>]*>(.*?)</tr>', html, re.S)
        assert row is not None, indicator_id
        assert f'data-progress="{found["status"]}"' in row.group(0)
        cell = re.search(r'<td class="c-progress"><span class="progress ([a-z_]+)">([^<]+)</span></td>', row.group(1))
        assert cell is not None and cell.groups() == (found["status"], found["label"]), indicator_id
    # Worked by hand in docs/progress.md: 4,9 / 3,9 / 4,4 / −0,7 % against "> 3 %".
    assert progress["netto_driftsresultat"]["label"] == "Går feil vei"
    # Placeholder rows span the one more column.
    assert html.count('<td colspan="5" class="muted">') == len(load_behaviour_catalogue().placeholders)


def test_overview_counts_every_progress_status_at_the_top(app: Flask) -> None:
    html = app.test_client().get("/").get_data(as_text=True)
    expected = Counter(p["status"] for p in progress_by_id(app).values())
    counts = section(html, 'aria-labelledby="progress-counts-title"')
    assert html.index("progress-counts-title") < html.index('<form class="filters"')
    found = re.findall(r'<a class="count progress ([a-z_]+)" href="/\?fremgang=\1"><strong>(\d+)</strong> ([^<]+)</a>',
                       counts)
    assert {status: int(count) for status, count, _ in found} == {s: n for s, n in expected.items() if n}
    words = {status: word for status, _, word in found}
    assert all(words[s] == PROGRESS_WORDS[ProgressStatus(s)].lower() for s in words)
    # In the order of PROGRESS_WORDS.
    order = [s.value for s in PROGRESS_WORDS]
    assert [s for s, _, _ in found] == sorted((s for s, _, _ in found), key=order.index)
    assert sum(int(n) for _, n, _ in found) == len(load_behaviour_catalogue().indicators)


@pytest.mark.parametrize("status", [s.value for s in ProgressStatus])
def test_the_progress_filter_shows_exactly_that_status(app: Flask, status: str) -> None:
    expected = [i for i, p in progress_by_id(app).items() if p["status"] == status]
    html = app.test_client().get("/", query_string={"fremgang": status}).get_data(as_text=True)
    ids = row_ids(html)
    assert sorted(ids) == sorted(expected)
    assert '<tr class="placeholder">' not in html  # placeholders have no progress
    assert f'<option value="{status}" selected>{PROGRESS_WORDS[ProgressStatus(status)]}</option>' in html
    if ids:
        assert f"Viser {len(ids)} av {len(load_behaviour_catalogue().indicators)} indikatorer." in html
        assert "Fjern filtrene" in html


def test_the_progress_filter_combines_with_the_others(app: Flask) -> None:
    progress = progress_by_id(app)
    okonomi = {"disposisjonsfond", "netto_driftsresultat", "netto_lanegjeld", "vedlikehold_formalsbygg"}
    html = app.test_client().get("/?area=okonomi&fremgang=deteriorating").get_data(as_text=True)
    assert set(row_ids(html)) == {i for i in okonomi if progress[i]["status"] == "deteriorating"}
    assert "netto_driftsresultat" in row_ids(html)


@pytest.mark.parametrize("hostile", ["' OR '1'='1", XSS, "%00", "Går feil vei", "DETERIORATING", "x" * 5000])
def test_hostile_progress_filter_values_are_ignored(app: Flask, hostile: str) -> None:
    response = app.test_client().get("/", query_string={"fremgang": hostile})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(row_ids(html)) == len(load_behaviour_catalogue().indicators)
    assert XSS not in html and "Fjern filtrene" not in html


def test_the_overview_stays_cached_across_progress_filters(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/").get_data(as_text=True)
    misses = readcache.PROCESS_CACHE.misses
    for status in ProgressStatus:
        assert client.get("/", query_string={"fremgang": status.value}).status_code == 200
    assert client.get("/").get_data(as_text=True) == first
    assert readcache.PROCESS_CACHE.misses == misses  # one reading and evaluation serves every filter


def test_indicator_page_shows_the_explanation_line_projection_and_target_at_y(app: Flask) -> None:
    catalogue = load_behaviour_catalogue()
    indicator = catalogue.by_id["netto_driftsresultat"]
    progress = progress_by_id(app)["netto_driftsresultat"]
    html = app.test_client().get("/indikator/netto_driftsresultat").get_data(as_text=True)
    box = section(html, 'class="progress-box"')
    assert '<span class="progress deteriorating">Går feil vei</span>' in box
    assert progress["explanation"] in box
    assert "gått ned med 1,4\u00a0prosentpoeng i året; for å nå 3\u00a0% innen 2027 må det øke med 0,7 i året" in box
    assert "<dt>Tempo (Theil–Sen)</dt><dd>\u22121,4\u00a0prosentpoeng i året (2019–2022)</dd>" in box
    assert "<dt>Nødvendig tempo</dt><dd>0,7\u00a0prosentpoeng i året</dd>" in box
    projected = show(indicator, progress["projection"]["value"])
    assert progress["projection"]["year"] == 2027 and projected.startswith("\u22126,")  # −6,35 by hand
    svg = section(html, '<svg class="chart"', "</svg>")
    # The fitted line, then the projection (dashed by its class), labelled, and the target level at Y.
    fit = re.search(r'<line class="fit" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/>', svg)
    ahead = re.search(r'<line class="projection" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/>', svg)
    assert fit is not None and ahead is not None
    assert (fit.group(3), fit.group(4)) == (ahead.group(1), ahead.group(2))  # the projection goes on from the fit
    assert float(ahead.group(4)) > float(ahead.group(2))  # going down: larger y on screen
    assert f'<text class="projection-label" x="{ahead.group(3)}"' in svg and f"Framskrevet 2027: {projected}" in svg
    assert '<text class="tick" x="' + ahead.group(3) + '" y="294" text-anchor="middle">2027</text>' in svg
    assert re.search(r'<rect class="goal" [^>]*/>\s*<text class="goal-label"[^>]*>Mål 2027: 3\u00a0%</text>', svg)
    assert "style=" not in html  # the CSP refuses inline styles: classes only
    # The text alternative and the legend say it is a projection.
    desc = section(html, '<desc id="chart-desc">', "</desc>")
    assert f"framskrevet til 2027: {projected} (framskriving, ikke et målt tall)" in desc
    assert "Mål i 2027: 3\u00a0%." in desc
    assert "Framskriving til 2027 (ikke målte tall)" in html and "Trendlinje (Theil–Sen) fra 2019" in html
    # The data table: a trend column and the projection's own row.
    table = section(html, "<caption>Tallene i diagrammet</caption>", "</table>")
    assert '<th scope="col" class="num">Trendlinje og framskriving</th>' in table
    assert re.search(rf'<tr><th scope="row">2027 \(framskrevet\)</th><td class="num">–</td><td class="num">–</td>'
                     rf'<td class="num">{projected}</td></tr>', table)


def test_stylesheet_has_the_chart_classes() -> None:
    css = (Path(__file__).parent.parent / "web" / "static" / "style.css").read_text(encoding="utf-8")
    for selector in ("svg.chart .fit", "svg.chart .projection", "svg.chart .goal", ".key.projection", ".progress.deteriorating"):
        assert selector in css
    assert re.search(r"svg\.chart \.projection \{[^}]*stroke-dasharray", css)


def test_an_indicator_without_enough_points_has_no_line(app: Flask) -> None:
    progress = progress_by_id(app)
    few = next(i for i, p in progress.items() if p["status"] == "insufficient_data" and p["projection"] is None)
    html = app.test_client().get(f"/indikator/{few}").get_data(as_text=True)
    assert "For få målinger" in section(html, 'class="progress-box"')
    assert 'class="fit"' not in html and 'class="projection"' not in html and "(framskrevet)" not in html


def test_the_climate_page_says_that_2009_is_missing(app: Flask) -> None:
    html = app.test_client().get("/indikator/direkte_klimagassutslipp").get_data(as_text=True)
    box = section(html, 'class="progress-box"')
    assert '<span class="progress insufficient_data">For få målinger</span>' in box
    assert "kan ikke vurderes uten verdien for 2009." in box  # the progress explanation names the year
    assert "Tallet for 2009 mangler." in box
    assert 'class="goal"' not in html  # no level at Y without the base


def test_the_climate_target_is_judged_once_the_workbook_brings_2009(app: Flask, tmp_path: Path) -> None:
    workbook = tmp_path / "utslippsstatistikk_alle_kommuner.xlsx"
    workbook.write_bytes(build(rows=detail_rows(asker_totals={2009: Decimal("300000"), **ASKER_TOTALS})))
    with Store(app.config["MONITOR_SETTINGS"].db) as store:
        result = import_file(store, load_behaviour_catalogue(), workbook, now=NOW + timedelta(minutes=1), actor="kari",
                             fmt="miljodir")
    assert "2009" in result.periods
    progress = progress_by_id(app)["direkte_klimagassutslipp"]
    assert progress["target_value"] == pytest.approx(99000) and progress["target_year"] == 2030
    assert progress["status"] == "limited"  # −5 679 a year against −14 150 needed: q ≈ 0,40
    html = app.test_client().get("/indikator/direkte_klimagassutslipp").get_data(as_text=True)
    box = section(html, 'class="progress-box"')
    assert "Tallet for 2009 mangler" not in html and "Lite fremgang" in box
    assert "<dt>Mål i 2030</dt><dd>99\u00a0000</dd>" in box
    assert "Mål 2030: 99\u00a0000" in section(html, '<svg class="chart"', "</svg>")
    overview = app.test_client().get("/?fremgang=limited").get_data(as_text=True)
    assert "direkte_klimagassutslipp" in row_ids(overview)
