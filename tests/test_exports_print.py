"""Exports that print (issue 17): page setup, per-table sources, sheet names, page counts in LibreOffice, default
years through the plan period, the reasons of empty cells, and the evaluering grouped as the årsrapport."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.worksheet import Worksheet

from monitor.catalogue.indicators import load_catalogue
from monitor.catalogue.kostra import load_kostra
from monitor.cli.main import cli
from monitor.report.exports import EMPTY_REASONS, MISSING, NONE_EXPECTED, NOT_YET, plan_period
from monitor.report.formats import render_arsrapport, sheet_name, shorten
from monitor.store.database import Store
from support.auth_helpers import make_app
from support.paths import OSLO, REPO
from support.printing import page_count, to_pdf

NOW = datetime(2026, 11, 27, 9, 5, tzinfo=OSLO)
AS_OF = "2026-11-27"
needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None and os.environ.get("CI") != "true",
    reason="LibreOffice is installed by `make test` (install-test); in CI a missing soffice fails this test",
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml")}
    assert CliRunner().invoke(cli, ["init"], env=values).exit_code == 0
    return values


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def arsrapport(env: dict[str, str], tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"arsrapport.{fmt}"
    run(env, "export", "arsrapport", "--format", fmt, "--out", str(out), "--as-of", AS_OF, *extra)
    return out


def assert_prints(sheet: Worksheet, header_rows: int) -> None:
    """Landscape A4, one page wide and as tall as needed, header repeated, page number and data per in the footer."""
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == f"$1:${header_rows}"
    assert "&P" in sheet.oddFooter.right.text and "&N" in sheet.oddFooter.right.text
    assert sheet.oddFooter.left.text.startswith("Data per ")


# ---- sheet names ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("area", "name"), [
    ("Innovasjon, digitalisering og næringsutvikling", "Innovasjon, digitalisering"),
    ("Organisasjon, styring og utvikling", "Organisasjon, styring"),
    ("Bærekraftige byer og samfunn", "Bærekraftige byer og samfunn"),  # 28: as it is
    ("Økonomi", "Økonomi"),
    ("Enormtlangtordutenmellomromsomikkekandeles", "Enormtlangtordutenmellomromsomi"),  # one word: cut is all we can
])
def test_sheet_names_are_shortened_at_a_word_boundary(area: str, name: str) -> None:
    assert sheet_name(area, set()) == name and len(name) <= 31


def test_sheet_names_stay_unique_and_within_31_characters() -> None:
    taken: set[str] = set()
    names = [sheet_name("Innovasjon, digitalisering og næringsutvikling", taken),
             sheet_name("Innovasjon, digitalisering og bærekraft", taken),
             sheet_name("Innovasjon, digitalisering og bærekraft", taken)]
    assert names == ["Innovasjon, digitalisering", "Innovasjon, digitalisering (2)", "Innovasjon, digitalisering (3)"]
    assert shorten("Samarbeid for å nå målene", 31) == "Samarbeid for å nå målene"


# ---- the årsrapport workbook ---------------------------------------------------------------------------------------

def test_every_arsrapport_sheet_prints_and_lists_only_its_own_sources(env: dict[str, str], tmp_path: Path) -> None:
    catalogue = load_catalogue(REPO / "indicators.yaml")
    workbook = openpyxl.load_workbook(arsrapport(env, tmp_path, "xlsx"))
    areas = list(dict.fromkeys(indicator.area for indicator in catalogue.indicators))
    assert len(workbook.sheetnames) == len(areas) == 8
    for area, name in zip(areas, workbook.sheetnames):
        assert len(name) <= 31 and area.startswith(name) and area[len(name):len(name) + 1] in ("", " ", ",")
        sheet = workbook[name]
        assert sheet["A1"].value == area.upper()  # the whole name stays in the title
        assert_prints(sheet, 3)
        sources = next(str(c.value) for c in sheet["A"] if str(c.value).startswith("Kilder: "))
        own = sorted({i.source.name for i in catalogue.indicators if i.area == area})
        assert sources == "Kilder: " + "; ".join(own)
    assert "Innovasjon, digitalisering" in workbook.sheetnames


def test_the_footer_has_the_export_time_passed_in(tmp_path: Path, env: dict[str, str]) -> None:
    catalogue = load_catalogue(REPO / "indicators.yaml")
    with Store(env["MONITOR_DB"], create=False) as store:
        content, data_per = render_arsrapport(catalogue, store, 2019, 2027, "xlsx", None, NOW, OSLO)
    assert data_per == "27.11.2026"
    for sheet in openpyxl.load_workbook(io.BytesIO(content)):
        assert sheet.oddFooter.left.text == "Data per 27.11.2026 · eksportert 27.11.2026 kl. 09:05"


@needs_soffice
def test_the_arsrapport_and_kostra_workbooks_print_on_few_pages(env: dict[str, str], tmp_path: Path) -> None:
    # Before issue 17 LibreOffice printed the 8 tables on 72 A4 pages and the 6 KOSTRA tables on 18.
    tables = arsrapport(env, tmp_path, "xlsx")  # the default years: 2019 through the plan period's 2027
    kostra = tmp_path / "kostra.xlsx"
    run(env, "export", "kostra", "--format", "xlsx", "--out", str(kostra), "--as-of", AS_OF)
    pdfs = to_pdf([tables, kostra], tmp_path)
    areas = len(load_kostra(REPO / "kostra.yaml").areas)
    assert 8 <= page_count(pdfs["arsrapport"]) <= 16
    assert areas <= page_count(pdfs["kostra"]) <= 2 * areas


def test_the_kostra_workbook_prints(env: dict[str, str], tmp_path: Path) -> None:
    kostra = tmp_path / "kostra.xlsx"
    run(env, "export", "kostra", "--format", "xlsx", "--out", str(kostra), "--as-of", AS_OF)
    workbook = openpyxl.load_workbook(kostra)
    assert workbook.sheetnames[0] == "Organisasjon, styring"
    for sheet in workbook:
        assert_prints(sheet, 2)
        assert "eksportert" in sheet.oddFooter.left.text


# ---- default years and the reasons of empty cells ------------------------------------------------------------------

def test_the_default_years_run_from_the_first_with_data_through_the_plan_period(env: dict[str, str], tmp_path: Path) -> None:
    assert plan_period() == (2024, 2027)
    out = tmp_path / "a.csv"
    assert f"{out}: 2019–2027, data per 27.11.2026." in run(
        env, "export", "arsrapport", "--format", "csv", "--out", str(out), "--as-of", AS_OF)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[2] == ["Indikator", *[str(year) for year in range(2019, 2028)]]
    # --from alone keeps the default end; --to alone the default start
    run(env, "export", "arsrapport", "--from", "2021", "--format", "csv", "--out", str(out), "--as-of", AS_OF)
    assert list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))[2][1:] == [
        str(year) for year in range(2021, 2028)]


def cells_of(rows: list[list[str]], name: str) -> list[str]:
    return next(row for row in rows if row and row[0] == name)[1:]


def test_empty_cells_say_why_in_every_format(env: dict[str, str], tmp_path: Path) -> None:
    expected = {
        # annual, from the kommune: 2023–2025 are past their release and grace; 2026 and 2027 are not due yet
        "Sykefraværsprosent": ["mangler", "mangler", "mangler", "Tall kommer", "Tall kommer"],
        # a sporadic source has no calendar: no figure is expected in any given year
        "Antall kilo matsvinn per innbygger": ["–"] * 5,
    }
    rows = list(csv.reader(io.StringIO(arsrapport(env, tmp_path, "csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    for name, cells in expected.items():
        assert cells_of(rows, name)[4:] == cells, name
    # a survey every third year (Ungdata, 2019 and 2022 held): only 2025 is a survey year, not yet published
    fritid = next(r for r in rows if r and r[0].startswith("Andelen ungdomsskoleelever som opplever at det er et godt"))
    assert fritid[5:] == ["–", "–", "Tall kommer", "–", "–"]
    assert [row[0] for row in rows if row and row[0] in EMPTY_REASONS.values()] == list(EMPTY_REASONS.values())

    html = arsrapport(env, tmp_path, "html").read_text(encoding="utf-8")
    sick = re.search(r'<th scope="row">Sykefraværsprosent</th>(.*?)</tr>', html)
    assert sick is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', sick.group(1))[4:] == expected["Sykefraværsprosent"]
    assert all(f"<p>{text}</p>" in html for text in EMPTY_REASONS.values())

    workbook = openpyxl.load_workbook(arsrapport(env, tmp_path, "xlsx"))
    sheet = workbook["Medarbeidere"]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Sykefraværsprosent")
    assert list(row[5:10]) == expected["Sykefraværsprosent"]
    notes = [str(c.value) for c in sheet["A"] if str(c.value) in EMPTY_REASONS.values()]
    used = {value for r in sheet.iter_rows(min_row=4, values_only=True) for value in r[1:]}
    assert notes == [text for reason, text in EMPTY_REASONS.items() if reason in used]
    assert {NONE_EXPECTED, NOT_YET, MISSING} == set(EMPTY_REASONS)


def test_the_web_form_defaults_to_the_same_years_and_downloads_them(env: dict[str, str], tmp_path: Path) -> None:
    app = make_app(tmp_path / "web", catalogue=REPO / "indicators.yaml", db=Path(env["MONITOR_DB"]))
    client = app.test_client()
    page = client.get("/eksport").get_data(as_text=True)
    assert 'name="fra" type="number" min="1990" max="2100" value="2019"' in page
    assert 'name="til" type="number" min="1990" max="2100" value="2027"' in page
    assert "planperiodens siste år" in page and "«mangler»" in page
    response = client.get(f"/eksport/arsrapport?fra=2019&til=2027&format=csv&per={AS_OF}")
    assert response.status_code == 200
    assert 'filename="arsrapport-indikatorer-2019-2027-per-27-11-2026.csv"' in response.headers["Content-Disposition"]
    cli_out = arsrapport(env, tmp_path, "csv")
    assert response.data == cli_out.read_bytes()


# ---- the evaluering ------------------------------------------------------------------------------------------------

def evaluering(env: dict[str, str], tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / f"evaluering.{fmt}"
    assert run(env, "export", "evaluering", "--format", fmt, "--out", str(out)).endswith("88 indikatorer.\n")
    return out


def test_the_evaluering_is_grouped_and_styled_as_the_arsrapport(env: dict[str, str], tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(evaluering(env, tmp_path, "xlsx"))
    arsrapport_book = openpyxl.load_workbook(arsrapport(env, tmp_path, "xlsx"))
    assert workbook.sheetnames == arsrapport_book.sheetnames
    sheet = workbook["Økonomi"]
    assert [sheet["A1"].value, sheet["A2"].value] == ["ØKONOMI", "Asker er en økonomisk robust og bærekraftig kommune"]
    assert [c.value for c in sheet[3]] == ["Indikator", "Periode", "Siste verdi", "Mål", "Tilstand", "Måloppnåelse",
                                           "Forklaring", "Fremgang", "Forklaring av fremgangen"]
    assert sheet["A4"].font.bold and sheet["A4"].value == "Asker kommune har en god økonomisk bærekraft"
    netto = next(r for r in sheet.iter_rows(min_row=5) if str(r[0].value).startswith("Netto driftsresultat"))
    assert netto[2].value == -0.7 and netto[2].number_format == '#,##0.0" %"' and netto[5].value == "ikke nådd"
    assert sheet.freeze_panes == "B4"
    for each in workbook:
        assert_prints(each, 3)
    html = evaluering(env, tmp_path, "html").read_text(encoding="utf-8")
    assert html.count("<caption>") == 8 and "<caption>ØKONOMI</caption>" in html
    assert '<tr class="delmal"><th scope="rowgroup" colspan="9"><b>Asker kommune har en god økonomisk bærekraft' in html


@needs_soffice
def test_the_evaluering_prints_one_page_wide(env: dict[str, str], tmp_path: Path) -> None:
    pdf = to_pdf([evaluering(env, tmp_path, "xlsx")], tmp_path)["evaluering"]
    assert 8 <= page_count(pdf) <= 16
