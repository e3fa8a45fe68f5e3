"""Importing KOSTRA figures SSB's API does not give (rows without a series, ASSS, printed adjusted figures).

The file is the import format; every row is checked before anything is stored, every problem is located, and the
figures then show on the KOSTRA page and in the export like the printed ones.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from support.auth_helpers import NOW, csrf_token, logged_in, make_app
from support.checks import file_digest, observations_checksum
from support.paths import REPO
from monitor.cli.main import cli
from monitor.catalogue.kostra import KostraCatalogue, load_kostra
from monitor.seed.kostra_baseline import load_kostra_baseline
from monitor.store.database import Store
from test_kostra_web import cells, row_html, text

HEADER = "indicator_id;region;period;value\n"


@pytest.fixture(scope="module")
def kostra() -> KostraCatalogue:
    return load_kostra(REPO / "kostra.yaml")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"MONITOR_DB": str(tmp_path / "monitor.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_IMPORT_BY": "planlegger"}
    result = CliRunner().invoke(cli, ["init"], env=env)
    assert result.exit_code == 0, result.output
    return env


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_template_asks_for_what_ssb_does_not_give(env: dict[str, str], kostra: KostraCatalogue, tmp_path: Path) -> None:
    out = tmp_path / "kostra-2022.csv"
    code, stdout, _ = run(env, "kostra", "template", "--year", "2022", "--out", str(out))
    assert code == 0
    lines = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))
    regions = [region.id for region in kostra.regions]
    unfetched = [row for row in kostra.rows if row.ssb is None or row.adjusted]
    plain = [row for row in kostra.rows if row.ssb is not None and not row.adjusted]
    # Every region of a row without a series or printed adjusted; only ASSS (no SSB code) of the others.
    assert len(lines) == len(unfetched) * len(regions) + len(plain) == int(stdout.split(": ")[1].split()[0])
    by_key = {(line["indicator_id"], line["region"]): line for line in lines}
    assert [by_key[("kostra.opp_gruppestorrelse_1_4", region)]["period"] for region in regions] == ["2022"] * 6
    assert ("kostra.opp_grunnskolepoeng", "asker") not in by_key
    assert by_key[("kostra.opp_grunnskolepoeng", "asss_uten_oslo")]["last_value"] == ""
    # What the monitor holds is shown (the printed 2022 cells), as printed.
    assert by_key[("kostra.opp_barnehager_per_innbygger_1_5", "asker")]["last_value"] == "178\u00a0493"  # Asker 2022 as printed
    assert by_key[("kostra.opp_barnehage_1_2", "asss_uten_oslo")]["last_value"] == "88,8\u00a0%"
    assert by_key[("kostra.opp_barnehage_1_2", "asss_uten_oslo")]["allowed_range"] == "0–100"
    # A net figure may be negative (income above expenditure).
    assert by_key[("kostra.su_naeringsliv", "asker")]["allowed_range"] == "alle tall"


def test_a_filled_template_fills_the_page_for_a_new_year(env: dict[str, str], tmp_path: Path) -> None:
    template = tmp_path / "mal.csv"
    assert run(env, "kostra", "template", "--year", "2024", "--out", str(template))[0] == 0
    rows = list(csv.reader(io.StringIO(template.read_bytes().decode("utf-8-sig")), delimiter=";"))
    filled = {("kostra.opp_gruppestorrelse_1_4", "asker"): "14,9", ("kostra.opp_gruppestorrelse_1_4", "baerum"): "15,6",
              ("kostra.opp_gruppestorrelse_1_4", "drammen"): "14,9", ("kostra.opp_gruppestorrelse_1_4", "lillestrom"): "",
              ("kostra.opp_gruppestorrelse_1_4", "asss_uten_oslo"): "15,2",
              ("kostra.su_naeringsliv", "asker"): "-12"}
    header = rows[0]
    for line in rows[1:]:
        line[header.index("value")] = filled.get((line[0], line[header.index("region")]), "")
    done = tmp_path / "utfylt.csv"
    with done.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)
    code, stdout, stderr = run(env, "kostra", "import", str(done))
    assert code == 0, stderr
    assert "5 rader, 5 nye verdier for 2024" in stdout
    # The same file again changes nothing.
    assert "ingen endring" in run(env, "kostra", "import", str(done))[1]
    app = make_app(tmp_path, catalogue=REPO / "indicators.yaml")
    html = app.test_client().get("/kostra/oppvekst?ar=2024").get_data(as_text=True)
    assert cells(html, "opp_gruppestorrelse_1_4") == ["", "14,9", "15,6", "14,9", "", "15,2", ""]
    row = text(row_html(html, "opp_gruppestorrelse_1_4"))
    assert "Importert " in row and "Hentes ikke automatisk" in row
    assert "2 av 3 (delt)" in row and "uten tall: Lillestrøm" in row
    with Store(tmp_path / "monitor.db") as store:
        run_row = store.runs("import:kostra")[0]
        assert run_row["actor"] == "planlegger" and run_row["file_name"] == "utfylt.csv"
        assert store.vintages("kostra.su_naeringsliv", "3203")[-1].value == -12.0


def test_every_bad_row_is_named_and_nothing_is_stored(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "feil.csv"
    bad.write_text(HEADER + "\n".join([
        "kostra.opp_gruppestorrelse_1_4;asker;2024;14,9",       # 2: fine
        "kostra.finnes_ikke;asker;2024;1",                     # 3: unknown row
        "opp_gruppestorrelse_1_4;asker;2024;1",                # 4: without the kostra. prefix
        "kostra.opp_gruppestorrelse_1_4;oslo;2024;1",          # 5: unknown region
        "kostra.opp_gruppestorrelse_1_4;baerum;24;1",          # 6: not a year
        "kostra.opp_barnehage_1_2;asss_uten_oslo;2024;120",    # 7: a share above 100
        "kostra.opp_gruppestorrelse_1_4;3203;2024;15",         # 8: Asker again, by its code
        "kostra.opp_barnehage_1_2;ASSSUO;2024;88,8 %",         # 9: fine (ASSS by its code; the symbol may be typed)
        "kostra.st_bygningsbranner;asker;2024;2,5",            # 10: a count must be whole
        "kostra.opp_grunnskolepoeng;baerum;2024;45,1",         # 11: SSB gives it
        "kostra.opp_grunnskolepoeng;asss_uten_oslo;2024;44,0",  # 12: fine: ASSS has no SSB code
    ]) + "\n", encoding="utf-8")
    db = tmp_path / "monitor.db"
    before = file_digest(db)
    code, _, stderr = run(env, "kostra", "import", str(bad))
    assert code == 2
    assert f"{bad}:3: ukjent KOSTRA-rad 'kostra.finnes_ikke'" in stderr
    assert f"{bad}:4: ukjent KOSTRA-rad 'opp_gruppestorrelse_1_4'" in stderr
    assert f"{bad}:5: kostra.opp_gruppestorrelse_1_4: ukjent region 'oslo'" in stderr
    assert f"{bad}:6: kostra.opp_gruppestorrelse_1_4: perioden '24' er ikke et årstall" in stderr
    assert f"{bad}:7: kostra.opp_barnehage_1_2: verdien 120 er utenfor tillatt område 0–100" in stderr
    assert f"{bad}:8: kostra.opp_gruppestorrelse_1_4: dobbel rad: kostra.opp_gruppestorrelse_1_4 asker 2024 står også på linje 2" in stderr
    assert f"{bad}:10: kostra.st_bygningsbranner: verdien 2,5 må være et helt tall" in stderr
    assert f"{bad}:11: kostra.opp_grunnskolepoeng: hentes fra SSB (tabell 12255) for Bærum, ikke import" in stderr
    assert ":2:" not in stderr and ":9:" not in stderr and ":12:" not in stderr
    assert "8 feil funnet; ingenting ble endret." in stderr
    assert file_digest(db) == before


def test_an_xlsx_file_is_read_with_sheet_and_cell_in_errors(env: dict[str, str], tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Import"
    sheet.append(["indicator_id", "region", "period", "value"])
    sheet.append(["kostra.mb_dopte_andel", "asker", "2024", 51.3])
    sheet.append(["kostra.mb_dopte_andel", "drammen", "2024", "mye"])
    path = tmp_path / "kostra.xlsx"
    book.save(path)
    with Store(tmp_path / "monitor.db") as store:
        before = observations_checksum(store)
    code, _, stderr = run(env, "kostra", "import", str(path))
    assert code == 2 and f"{path}:Import!D3: kostra.mb_dopte_andel: verdi: 'mye' er ikke et tall" in stderr
    with Store(tmp_path / "monitor.db") as store:
        assert observations_checksum(store) == before
    sheet.delete_rows(3)
    book.save(path)
    code, stdout, stderr = run(env, "kostra", "import", str(path))
    assert code == 0, stderr
    with Store(tmp_path / "monitor.db") as store:
        assert store.vintages("kostra.mb_dopte_andel", "3203")[-1].value == 51.3


def test_an_empty_template_is_refused_with_the_reason(env: dict[str, str], tmp_path: Path) -> None:
    template = tmp_path / "mal.csv"
    assert run(env, "kostra", "template", "--year", "2024", "--out", str(template))[0] == 0
    code, _, stderr = run(env, "kostra", "import", str(template))
    assert code == 2 and "ingen rad har verdi eller status" in stderr
    assert run(env, "kostra", "template", "--year", "1999", "--out", str(tmp_path / "x.csv"))[0] == 1


def test_editors_download_the_template_and_upload_it_on_the_import_page(tmp_path: Path) -> None:
    app = make_app(tmp_path, catalogue=REPO / "indicators.yaml")  # clock fixed at 27.11.2026: 2025 is expected
    with Store(tmp_path / "monitor.db") as store:
        load_kostra_baseline(store, load_kostra(REPO / "kostra.yaml"), NOW)
    editor = logged_in(app, "erik")
    page = editor.get("/import").get_data(as_text=True)
    assert '<option value="kostra">' in page
    assert [f'href="/import/mal/kostra-{year}.csv"' in page for year in (2025, 2024, 2023)] == [True] * 3
    template = editor.get("/import/mal/kostra-2025.csv")
    assert template.status_code == 200
    assert template.headers["Content-Disposition"] == "attachment; filename=import-kostra-2025.csv"
    assert template.data.decode("utf-8-sig").startswith("indicator_id;name;region;period;last_value;value")
    assert editor.get("/import/mal/kostra-1900.csv").status_code == 404
    # The page is read (and cached) before the import; the import's write must show at once.
    before_import = editor.get("/kostra/medborgerskap?ar=2025").get_data(as_text=True)
    assert cells(before_import, "mb_dopte_andel") == [""] * 7
    good = (HEADER + "kostra.mb_dopte_andel;asker;2025;49,5\nkostra.mb_dopte_andel;kostragruppe_12;2025;55,0\n").encode()
    response = editor.post("/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(editor, "/import"), "format": "kostra", "fil": (io.BytesIO(good), "døpte 2025.csv")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "2 rader, 2 nye verdier lagret" in html and "KOSTRA-tall for 2025" in html
    kostra_page = editor.get("/kostra/medborgerskap?ar=2025").get_data(as_text=True)
    assert cells(kostra_page, "mb_dopte_andel") == ["", "49,5 %", "", "", "", "", "55,0 %"]
    assert "Oppdatert" in text(row_html(kostra_page, "mb_dopte_andel"))
    # A bad KOSTRA file lists its problems and stores nothing; a catalogue file in the KOSTRA format is refused.
    before = file_digest(tmp_path / "monitor.db")
    bad = (HEADER + "kostra.mb_dopte_andel;oslo;2025;49,5\n").encode()
    refused = editor.post("/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(editor, "/import"), "format": "kostra", "fil": (io.BytesIO(bad), "feil.csv")})
    assert refused.status_code == 422
    assert "feil.csv:2: kostra.mb_dopte_andel: ukjent region &#39;oslo&#39;" in refused.get_data(as_text=True)
    assert file_digest(tmp_path / "monitor.db") == before
    viewer = logged_in(app, "lise")
    assert viewer.get("/import/mal/kostra-2025.csv").status_code == 403
