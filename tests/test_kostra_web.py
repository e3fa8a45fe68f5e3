"""The KOSTRA pages through Flask's test client: Asker against its peers with rank, colouring and freshness.

Data: the printed baseline (monitor/data/kostra_baseline.csv), then a fetch against the fake PxWebApi serving the
constructed KOSTRA fixtures (tests/fixtures/ssb-v2-kostra, 2015–2024), with one table failing where a test says so.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook

from support.auth_helpers import NOW, csrf_token, logged_in, make_app
from support.paths import FIXTURES, OSLO, REPO
from support.fake_pxwebapi import FakePxWebApi
from fetchers.ssb import SsbClient
from monitor.cli.main import cli
from monitor.catalogue.kostra import KostraCatalogue, load_kostra
from monitor.seed.kostra_baseline import load_kostra_baseline
from monitor.sources.kostra import fetch_kostra
from monitor.core.model import Observation, RunRecord
from monitor.store.database import Store

KOSTRA_FIXTURES = FIXTURES / "ssb-v2-kostra"


@pytest.fixture(scope="module")
def kostra() -> KostraCatalogue:
    return load_kostra(REPO / "kostra.yaml")


@pytest.fixture
def app(tmp_path: Path, kostra: KostraCatalogue) -> Flask:
    app = make_app(tmp_path, catalogue=REPO / "indicators.yaml")
    with Store(tmp_path / "monitor.db") as store:
        load_kostra_baseline(store, kostra, NOW)
    return app


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(KOSTRA_FIXTURES, calls=30, window=60, now=NOW) as running:
        yield running


def fetch(app: Flask, kostra: KostraCatalogue, server: FakePxWebApi, at: datetime = NOW) -> None:
    settings = app.config["MONITOR_SETTINGS"]
    with Store(settings.db) as store, SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        fetch_kostra(kostra, store, client, clock=lambda: at, raw_dir=settings.raw_dir)


def text(html: str) -> str:
    """The page's visible words, one space between."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def row_html(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="rad-{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, row_id
    return found.group(0)


def cells(html: str, row_id: str) -> list[str]:
    """The row's value cells (numbers and marks), without the screen-reader words."""
    row = re.sub(r'<span class="visually-hidden">.*?</span>', "", row_html(html, row_id))
    return [text(cell) for cell in re.findall(r'<td class="num[^"]*">(.*?)</td>', row, re.S)]


def test_each_tjenesteomrade_has_a_page_with_every_printed_row(app: Flask, kostra: KostraCatalogue) -> None:
    client = app.test_client()
    index = client.get("/kostra").get_data(as_text=True)
    assert "KOSTRA-sammenligning 2022" in index
    slugs = re.findall(r'href="/kostra/([a-z_-]+)\?ar=2022"', index)
    assert len(slugs) == len(kostra.areas) == 6
    rows = 0
    for slug, area in zip(slugs, kostra.areas):
        page = client.get(f"/kostra/{slug}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f"KOSTRA-tall – {area.name} 2022" in unescape(html)
        for heading in ("Asker 2021", "Asker 2022", "Bærum", "Drammen", "Lillestrøm", "ASSS uten Oslo", "Kostragruppe 12"):
            assert f">{heading}</th>" in html
        for row in area.rows:
            assert f'id="rad-{row.id}"' in html
            assert unescape(str(row.name).replace("&", "&amp;")) in unescape(html)
            rows += 1
        assert html.count('<tr class="category">') == len({row.category for row in area.rows})
    assert rows == 85


def test_asker_is_ranked_among_the_peer_kommuner_with_direction_aware_colouring(app: Flask) -> None:
    html = app.test_client().get("/kostra/oppvekst").get_data(as_text=True)
    # Grunnskolepoeng 2022, higher is better: Bærum 45,7, Asker 44,7, Drammen 42,9, Lillestrøm 42,5.
    assert cells(html, "opp_grunnskolepoeng") == ["44,0", "44,7", "45,7", "42,9", "42,5", "", "43,8"]
    row = row_html(html, "opp_grunnskolepoeng")
    assert 'class="num home standing-middle"' in row and "2 av 4" in text(row)
    # Kroner per barn 1–5 år has no direction: ranked by size (Asker 173 362 is the lowest), never coloured.
    row = row_html(html, "opp_barnehager_per_innbygger_1_5")
    assert "standing-unranked" in row and "4 av 4 etter størrelse" in text(row)
    assert "Best blant" not in row and "Svakest blant" not in row
    samfunn = app.test_client().get("/kostra/samfunnstjenester").get_data(as_text=True)
    # Kroner per km vei 2022, lower is better: Lillestrøm 344 350, Asker 385 751, Bærum 422 063, Drammen 431 780.
    row = row_html(samfunn, "st_vei_per_km")
    assert "2 av 4" in text(row) and "standing-middle" in row
    assert '<a href="https://www.ssb.no/statbank/table/11816">SSB 11816</a>' in row


def test_the_best_and_the_worst_are_said_in_words_not_only_in_colour(app: Flask, kostra: KostraCatalogue) -> None:
    client = app.test_client()
    seen: set[str] = set()
    for area in kostra.areas:
        html = client.get(f"/kostra/{re.sub(r'[^a-z]+', '-', area.name.lower()).strip('-')}").get_data(as_text=True)
        for standing, words in (("best", "Best blant kommunene"), ("worst", "Svakest blant kommunene")):
            for match in re.finditer(rf'class="num home standing-{standing}">(.*?)</td>', html, re.S):
                assert f"({words})" in match.group(1)
                seen.add(standing)
    assert seen == {"best", "worst"}


def test_freshness_with_only_the_printed_tables(app: Flask) -> None:
    html = app.test_client().get("/kostra/oppvekst").get_data(as_text=True)
    # 27.11.2026: 2025 was published 15.03.2026; the print holds 2022.
    fetched = text(row_html(html, "opp_grunnskolepoeng"))
    assert "Forsinket nyeste 2022, ventet 2025" in fetched and "Trykt i handlingsprogrammet." in fetched
    manual = row_html(html, "opp_gruppestorrelse_1_4")
    assert "Hentes ikke automatisk" in text(manual) and "<summary>Ikke fra SSB</summary>" in manual
    assert "statbank" not in manual


def test_a_fetch_fills_a_new_year_and_says_where_each_figure_came_from(
    app: Flask, kostra: KostraCatalogue, server: FakePxWebApi
) -> None:
    fetch(app, kostra, server)
    client = app.test_client()
    assert "KOSTRA-sammenligning 2024" in client.get("/kostra").get_data(as_text=True)
    html = client.get("/kostra/oppvekst").get_data(as_text=True)
    assert "KOSTRA-tall – Oppvekst 2024" in html
    values = cells(html, "opp_grunnskolepoeng")
    assert len(values) == 7 and all(re.fullmatch(r"\d{2},\d", v) for v in values[:5]) and values[5] == ""
    row = text(row_html(html, "opp_grunnskolepoeng"))
    assert "SSB tabell 12255, hentet 27.11.2026." in row and "nyeste 2024, ventet 2025" in row
    assert re.search(r"\d av 4", row)
    # The same page for 2022 still shows the print (SSB's figures equal it, so no revision mark).
    old = client.get("/kostra/oppvekst?ar=2022").get_data(as_text=True)
    assert cells(old, "opp_grunnskolepoeng") == ["44,0", "44,7", "45,7", "42,9", "42,5", "", "43,8"]
    # In June 2025, 2024 is the newest year KOSTRA should have published: fetched rows are fresh.
    app.config["MONITOR_NOW"] = datetime(2025, 6, 1, 12, tzinfo=OSLO)
    june = client.get("/kostra/oppvekst").get_data(as_text=True)
    assert "Oppdatert nyeste 2024, ventet 2024; 2025 ventes 15. mars 2026" in text(row_html(june, "opp_grunnskolepoeng"))
    assert "Hentes ikke automatisk nyeste 2022, ventet 2024" in text(row_html(june, "opp_gruppestorrelse_1_4"))


def test_a_failing_table_is_shown_on_its_rows(app: Flask, kostra: KostraCatalogue, server: FakePxWebApi) -> None:
    server.inject("/tables/12255/data", "http400_problem", times=None, detail="Value KOSgrunnskolepoe0000 is not valid")
    fetch(app, kostra, server)
    html = app.test_client().get("/kostra/oppvekst").get_data(as_text=True)
    row = row_html(html, "opp_grunnskolepoeng")
    assert "Henting feiler" in text(row) and "KOSgrunnskolepoe0000 is not valid" not in text(row)
    # The source's own message, once for the page (issue 17), not on every row of the table.
    assert text(html).count("SSB svarer med en feilmelding") == 1 and "KOSgrunnskolepoe0000 is not valid»" in text(html)
    # The other tables were fetched: 2024 is shown, and the failing row keeps its printed 2021/2022 only.
    assert "KOSTRA-tall – Oppvekst 2024" in html
    assert cells(html, "opp_grunnskolepoeng") == ["", "", "", "", "", "", ""]
    assert "Henting feiler" not in text(row_html(html, "opp_barnehage_1_2"))


def test_printed_adjusted_figures_are_never_ranked_against_ssbs_nominal_ones(tmp_path: Path, kostra: KostraCatalogue) -> None:
    app = make_app(tmp_path, catalogue=REPO / "indicators.yaml")
    at = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
    printed = [("3203", 385751.0), ("3201", 422063.0)]  # st_vei_per_km is printed deflated (*)
    nominal = [("3301", 300000.0), ("3205", 310000.0)]  # SSB's nominal figures only for Drammen and Lillestrøm
    with Store(tmp_path / "monitor.db") as store:
        store.write_run(RunRecord("import", "test", at, at), [
            *(Observation("kostra.st_vei_per_km", region, "2022", value, None, "import:test") for region, value in printed),
            *(Observation("kostra.st_vei_per_km.nominal", region, "2022", value, None, "ssb:11816")
              for region, value in nominal),
        ])
    html = app.test_client().get("/kostra/samfunnstjenester?ar=2022").get_data(as_text=True)
    assert cells(html, "st_vei_per_km")[1:5] == ["385 751", "422 063", "300 000³", "310 000³"]
    row = row_html(html, "st_vei_per_km")
    assert "1 av 2" in text(row) and "uten tall: Drammen, Lillestrøm" in text(row)
    assert "standing-best" in row


def test_a_row_shows_the_handlingsprogram_indicator_on_its_subject_with_target_and_state(app: Flask) -> None:
    html = app.test_client().get("/kostra/samfunnstjenester").get_data(as_text=True)
    row = text(row_html(html, "st_vedlikehold_per_kvm"))
    assert "Indikator i handlingsprogrammet: Vedlikehold per m² i formålsbygg (> 140 kr/ m²)" in row
    assert "mål: Ønsket > 140 kr/m², laveste akseptable 100–140 kr/m², ikke godkjent < 100 kr/m²" in row
    assert 'href="/indikator/vedlikehold_formalsbygg"' in row_html(html, "st_vedlikehold_per_kvm")
    assert "Indikator i handlingsprogrammet" not in row_html(html, "st_vei_per_km")


def test_the_sources_page_lists_the_kostra_tables_and_an_admin_can_ask_for_a_fetch(
    app: Flask, kostra: KostraCatalogue, server: FakePxWebApi
) -> None:
    server.inject("/tables/12255/data", "http400_problem", times=None, detail="Value KOSgrunnskolepoe0000 is not valid")
    fetch(app, kostra, server)
    html = app.test_client().get("/kilder").get_data(as_text=True)
    section = html[html.index('id="kilde-ssb-kostra"'):]
    assert "<h2" in section and "SSB KOSTRA" in section[:300]
    assert '<a href="/kostra/oppvekst#rad-opp_grunnskolepoeng">Gjennomsnittlig grunnskolepoeng (antall)</a>' in section
    assert '<a href="https://www.ssb.no/statbank/table/12255">12255</a>' in section
    assert "1 feiler" in text(section[:2000]) and "KOSgrunnskolepoe0000 is not valid" in section
    assert section.count('<tr class="ok">') == len(kostra.fetched_tables) - 1
    admin = logged_in(app, "anne")
    token = csrf_token(admin, "/kilder")
    response = admin.post("/kilder/ssb-kostra/hent", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Henting av SSB KOSTRA er bestilt" in admin.get("/kilder").get_data(as_text=True)
    assert admin.post("/kilder/ssb-kostra-finnes-ikke/hent", data={"csrf_token": token}).status_code == 404


def test_the_json_api_gives_every_row_with_cells_rank_and_freshness(app: Flask, kostra: KostraCatalogue) -> None:
    client = app.test_client()
    data = client.get("/api/kostra").get_json()
    assert data["year"] == 2022 and data["as_of"] == NOW.isoformat(timespec="seconds")
    assert [c["region"] for c in data["columns"]] == [c.region for c in kostra.columns]
    assert [c["year"] for c in data["columns"]] == [2021, 2022, 2022, 2022, 2022, 2022, 2022]
    rows = {row["id"]: row for area in data["areas"] for row in area["rows"]}
    assert len(rows) == 85 and [a["slug"] for a in data["areas"]][1] == "oppvekst"
    points = rows["opp_grunnskolepoeng"]
    assert [c["value"] for c in points["cells"]] == [44.0, 44.7, 45.7, 42.9, 42.5, None, 43.8]
    assert points["cells"][1]["text"] == "44,7" and points["ssb_table"] == "12255"
    assert points["rank"] == {"position": 2, "of": 4, "tied": False, "by_size": False, "standing": "middle",
                              "missing": []}
    assert points["freshness"] == {"state": "late", "newest_year": 2022, "expected_year": 2025,
                                   "next_due": "2027-03-15", "fetch_error": None}
    assert rows["st_vedlikehold_per_kvm"]["indicator"] == "vedlikehold_formalsbygg"
    assert rows["opp_gruppestorrelse_1_4"]["freshness"]["state"] == "manual"
    assert client.get("/api/kostra?ar=2021").get_json()["columns"][0]["year"] == 2020
    bad = client.get("/api/kostra?ar=x")
    assert bad.status_code == 400 and bad.is_json


def test_the_indicator_page_shows_the_kostra_row_on_its_subject(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/indikator/vedlikehold_formalsbygg").get_data(as_text=True)
    section = text(html[html.index('id="kostra-title"'):html.index('id="clocks-title"')])
    assert 'href="/kostra/samfunnstjenester?ar=2022#rad-st_vedlikehold_per_kvm"' in html
    assert "(Samfunnstjenester, 2022): Asker 132, plass 3 av 4 blant kommunene etter størrelse. Forsinket." in section
    assert 'id="kostra-title"' not in client.get("/indikator/sykefravaer").get_data(as_text=True)


def test_year_choice_and_bad_addresses(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/kostra/velferd?ar=2021").get_data(as_text=True)
    assert ">Asker 2020</th>" in html and ">Asker 2021</th>" in html
    assert client.get("/kostra/velferd?ar=tjue").status_code == 400
    assert client.get("/kostra/velferd?ar=1900").status_code == 400
    missing = client.get("/kostra/finnes-ikke")
    assert missing.status_code == 404 and "tjenesteområde" in missing.get_data(as_text=True)
    nav = client.get("/").get_data(as_text=True)
    assert '<a href="/kostra">KOSTRA</a>' in nav


def test_without_kostra_yaml_the_pages_say_so(tmp_path: Path) -> None:
    catalogue = tmp_path / "indicators.yaml"
    catalogue.write_bytes((REPO / "indicators.yaml").read_bytes())
    app = make_app(tmp_path, catalogue=catalogue)
    client = app.test_client()
    page = client.get("/kostra")
    assert page.status_code == 404 and "kostra.yaml mangler" in page.get_data(as_text=True)
    assert client.get("/eksport/kostra?format=csv").status_code == 404
    assert "KOSTRA-tabellene" not in client.get("/eksport").get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["html", "csv", "xlsx"])
def test_the_web_export_is_the_cli_export(app: Flask, tmp_path: Path, fmt: str) -> None:
    settings = app.config["MONITOR_SETTINGS"]
    out = tmp_path / f"kostra.{fmt}"
    env = {"MONITOR_DB": str(settings.db), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml")}
    result = CliRunner().invoke(cli, ["export", "kostra", "--format", fmt, "--out", str(out), "--as-of", "2026-11-27",
                                      "--year", "2022"], env=env)
    assert result.exit_code == 0, result.output
    response = app.test_client().get(f"/eksport/kostra?format={fmt}&ar=2022&per=2026-11-27")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('filename="kostra-2022-per-27-11-2026.' + fmt + '"')
    if fmt == "xlsx":
        web_book, cli_book = load_workbook(io.BytesIO(response.data)), load_workbook(out)
        assert web_book.sheetnames == cli_book.sheetnames
        for name in web_book.sheetnames:
            assert [[c.value for c in r] for r in web_book[name].iter_rows()] == [
                [c.value for c in r] for r in cli_book[name].iter_rows()]
    else:
        assert response.data == out.read_bytes()
    assert app.test_client().get("/eksport/kostra?format=pdf").status_code == 400


def test_freshness_follows_the_apps_clock_not_the_machines(app: Flask) -> None:
    # The page follows the app's clock (MONITOR_NOW), not the machine's: in March 2023 2022 is what KOSTRA has.
    app.config["MONITOR_NOW"] = datetime(2023, 3, 20, 12, tzinfo=OSLO)
    html = app.test_client().get("/kostra/oppvekst").get_data(as_text=True)
    assert "Ventes nå nyeste 2021" not in text(html)
    assert "Oppdatert nyeste 2022, ventet 2022" in text(row_html(html, "opp_grunnskolepoeng"))
