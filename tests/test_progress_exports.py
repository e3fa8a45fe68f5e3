"""Progress in the exports (issue 18): the evaluering gains the progress word and its explanation; the årsrapport
adds a «Fremgang» column only when asked (`--progress`, the web form's checkbox), so by default it is byte for byte
the layout it was. On the behaviour fixture catalogue with the shipped baseline's rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner
from flask import Flask

from support.auth_helpers import NOW, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue, load_fixture_baseline
from monitor.cli.main import cli
from monitor.report.formats import render_arsrapport
from monitor.store.database import Store

EVALUERING_HEADER = ["Indikator", "Periode", "Siste verdi", "Mål", "Tilstand", "Måloppnåelse", "Forklaring", "Fremgang",
                     "Forklaring av fremgangen"]
NETTO_EXPLANATION = ("Fra 2019 til 2022 har netto driftsresultat som andel av brutto driftsinntekter gått ned med "
                     "1,4\u00a0prosentpoeng i året; for å nå 3\u00a0% innen 2027 må det øke med 0,7 i året.")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
              "MONITOR_BASELINE": str(baseline_for(load_behaviour_catalogue(), tmp_path))}
    assert CliRunner().invoke(cli, ["init"], env=values).exit_code == 0
    return values


def invoke(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def checked(env: dict[str, str]) -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["check", "--format", "json"], env=env)
    assert result.exit_code in (0, 1), result.output  # 1 while some are late
    return {row["id"]: row["progress"] for row in json.loads(result.stdout)}


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def test_the_evaluering_has_the_progress_word_and_explanation(env: dict[str, str], tmp_path: Path) -> None:
    progress = checked(env)
    catalogue = load_behaviour_catalogue()
    out = tmp_path / "evaluering.csv"
    invoke(env, "export", "evaluering", "--format", "csv", "--out", str(out))
    rows = read_csv(out)
    assert rows[2] == EVALUERING_HEADER and rows.count(EVALUERING_HEADER) == len({i.area for i in catalogue.indicators})
    by_name = {row[0]: row for row in rows if len(row) == len(EVALUERING_HEADER) and row != EVALUERING_HEADER}
    assert len(by_name) == len(catalogue.indicators)
    for indicator in catalogue.indicators:
        row = by_name[indicator.name]
        assert row[7:] == [progress[indicator.id]["label"], progress[indicator.id]["explanation"]], indicator.id
    netto = by_name[catalogue.by_id["netto_driftsresultat"].name]
    assert netto[7:] == ["Går feil vei", NETTO_EXPLANATION]
    # XLSX and HTML carry the same two columns.
    xlsx = tmp_path / "evaluering.xlsx"
    invoke(env, "export", "evaluering", "--format", "xlsx", "--out", str(xlsx))
    sheet = openpyxl.load_workbook(xlsx)["Økonomi"]
    assert [c.value for c in sheet[3]] == EVALUERING_HEADER
    row = next(r for r in sheet.iter_rows(min_row=4) if str(r[0].value).startswith("Netto driftsresultat"))
    assert [row[7].value, row[8].value] == ["Går feil vei", NETTO_EXPLANATION]
    assert row[8].alignment.wrap_text
    html_out = tmp_path / "evaluering.html"
    invoke(env, "export", "evaluering", "--format", "html", "--out", str(html_out))
    html = html_out.read_text(encoding="utf-8")
    assert '<th scope="col">Fremgang</th><th scope="col">Forklaring av fremgangen</th>' in html
    assert "<td>Går feil vei</td><td>" + NETTO_EXPLANATION + "</td></tr>" in html


@pytest.mark.parametrize("fmt", ["csv", "html", "xlsx"])
def test_the_arsrapport_is_unchanged_without_progress(env: dict[str, str], tmp_path: Path, fmt: str) -> None:
    """Off by default: the same bytes as the render without the option (XLSX: the same cells)."""
    plain, asked = tmp_path / f"plain.{fmt}", tmp_path / f"with.{fmt}"
    invoke(env, "export", "arsrapport", "--from", "2019", "--to", "2022", "--format", fmt, "--out", str(plain))
    invoke(env, "export", "arsrapport", "--from", "2019", "--to", "2022", "--format", fmt, "--out", str(asked),
           "--progress")
    with Store(Path(env["MONITOR_DB"]), create=False) as store:
        zone = ZoneInfo("Europe/Oslo")
        now = datetime.now(zone)
        default, _ = render_arsrapport(load_behaviour_catalogue(), store, 2019, 2022, fmt, None, now, zone)
        explicit, _ = render_arsrapport(load_behaviour_catalogue(), store, 2019, 2022, fmt, None, now, zone,
                                        progress=False)
    if fmt == "xlsx":
        sheets = [openpyxl.load_workbook(io.BytesIO(data)) for data in (default, explicit)]
        plain_book = openpyxl.load_workbook(plain)
        for book in sheets:
            assert [[c.value for c in row] for s in book for row in s.iter_rows()] == [
                [c.value for c in row] for s in plain_book for row in s.iter_rows()]
        assert "Fremgang" not in [c.value for s in plain_book for row in s.iter_rows() for c in row]
    else:  # CSV and HTML carry no export time: the very same bytes
        assert plain.read_bytes() == default == explicit
        assert "Fremgang" not in plain.read_text(encoding="utf-8-sig")
    assert plain.read_bytes() != asked.read_bytes()


def test_the_arsrapport_with_progress_has_the_column(env: dict[str, str], tmp_path: Path) -> None:
    progress = checked(env)
    catalogue = load_behaviour_catalogue()
    out = tmp_path / "arsrapport.csv"
    output = invoke(env, "export", "arsrapport", "--from", "2019", "--to", "2022", "--format", "csv", "--out", str(out),
                    "--progress")
    assert output.startswith(f"{out}: 2019–2022")
    rows = read_csv(out)
    header = ["Indikator", "2019", "2020", "2021", "2022", "Fremgang"]
    assert rows[2] == header
    indicator_rows = {row[0]: row for row in rows if len(row) == len(header) and row != header}
    for indicator in catalogue.indicators:
        assert indicator_rows[indicator.name][5] == progress[indicator.id]["label"], indicator.id
    assert indicator_rows[catalogue.by_id["netto_driftsresultat"].name][1:] == [
        "4,9\u00a0%", "3,9\u00a0%", "4,4\u00a0%", "-0,7\u00a0%", "Går feil vei"]
    # XLSX: the column after the years, as text, wrapped; HTML: a column of its own in every table.
    xlsx = tmp_path / "arsrapport.xlsx"
    invoke(env, "export", "arsrapport", "--from", "2019", "--to", "2022", "--format", "xlsx", "--out", str(xlsx),
           "--progress")
    sheet = openpyxl.load_workbook(xlsx)["Økonomi"]
    assert [c.value for c in sheet[3]] == ["Indikator", 2019, 2020, 2021, 2022, "Fremgang"]
    netto = next(r for r in sheet.iter_rows(min_row=4) if str(r[0].value).startswith("Netto driftsresultat"))
    assert netto[4].value == -0.7 and netto[5].value == "Går feil vei"
    assert sheet.column_dimensions["F"].width == sheet.column_dimensions["E"].width
    html_out = tmp_path / "arsrapport.html"
    invoke(env, "export", "arsrapport", "--from", "2019", "--to", "2022", "--format", "html", "--out", str(html_out),
           "--progress")
    html = html_out.read_text(encoding="utf-8")
    tables = html.count("<table>")
    assert html.count('<th scope="col">2022</th><th scope="col">Fremgang</th></tr>') == tables
    assert '<td class="num">-0,7\u00a0%</td><td class="progress">Går feil vei</td></tr>' in html
    assert 'colspan="6"' in html and 'colspan="5"' not in html


def test_the_arsrapport_progress_follows_as_of(env: dict[str, str], tmp_path: Path) -> None:
    """As of a day before any vintage was known there are no points: every indicator has too few."""
    out = tmp_path / "early.csv"
    invoke(env, "export", "arsrapport", "--from", "2019", "--to", "2022", "--format", "csv", "--out", str(out),
           "--progress", "--as-of", "2001-01-01")
    rows = read_csv(out)
    words = {row[5] for row in rows if len(row) == 6 and row[0] != "Indikator"}
    assert words <= {"For få målinger", "Uten retning"} and "For få målinger" in words


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app


def test_the_web_form_has_the_checkbox_off_by_default(app: Flask) -> None:
    page = app.test_client().get("/eksport").get_data(as_text=True)
    assert '<input id="fremgang" name="fremgang" type="checkbox" value="1">' in page
    assert '<label for="fremgang">Ta med fremgangen mot målet' in page
    assert "checked" not in page.split('id="fremgang"', 1)[1].split(">", 1)[0]


def test_the_web_download_adds_the_column_only_when_ticked(app: Flask) -> None:
    client = app.test_client()
    plain = client.get("/eksport/arsrapport?fra=2019&til=2022&format=csv")
    ticked = client.get("/eksport/arsrapport?fra=2019&til=2022&format=csv&fremgang=1")
    assert plain.status_code == ticked.status_code == 200
    plain_rows = list(csv.reader(io.StringIO(plain.data.decode("utf-8-sig")), delimiter=";"))
    ticked_rows = list(csv.reader(io.StringIO(ticked.data.decode("utf-8-sig")), delimiter=";"))
    assert plain_rows[2] == ["Indikator", "2019", "2020", "2021", "2022"]
    assert ticked_rows[2] == ["Indikator", "2019", "2020", "2021", "2022", "Fremgang"]
    netto = next(row for row in ticked_rows if row[0].startswith("Netto driftsresultat"))
    assert netto[-1] == "Går feil vei"
    # Without the column the rows are exactly the plain export's; the column is the only difference.
    assert [row[:5] if len(row) == 6 else row for row in ticked_rows] == plain_rows
