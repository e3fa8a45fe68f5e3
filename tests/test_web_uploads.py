"""The import page: uploads checked like `monitor import`, all or nothing, size-limited, templates, XSS."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from support.auth_helpers import csrf_token, logged_in, make_app
from support.checks import file_digest
from support.import_helpers import xlsx_bytes
from monitor.store.database import Store
from monitor.imports.templates import slugify
from web.uploads import size_text, upload_name

GOOD = "indicator_id;period;value;note\nsykefravaer;2023;9,1;fra HR\nmedarbeiderskap;2023;4,3;\n"
BAD = ("indicator_id;period;value\nsykefravaer;2023;120\nfinnes_ikke;2023;1\nmedarbeiderskap;2031;4\n"
       "netto_driftsresultat;2023;1,5\n")


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def db_path(app: Flask) -> Path:
    return Path(app.config["MONITOR_SETTINGS"].db)


def upload(client: FlaskClient, data: bytes, name: str, fmt: str = "auto", token: str | None = None) -> TestResponse:
    return client.post("/import", content_type="multipart/form-data", data={
        "csrf_token": token if token is not None else csrf_token(client, "/import"),
        "format": fmt, "fil": (io.BytesIO(data), name),
    })


def test_a_good_csv_is_stored_with_the_user_and_the_file_name(app: Flask) -> None:
    editor = logged_in(app, "erik")
    response = upload(editor, GOOD.encode(), "sykefravær 2023.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "sykefravær 2023.csv er kontrollert" in page and "2 rader, 2 nye verdier lagret" in page
    with Store(db_path(app)) as store:
        [run] = store.runs()
        assert (run["actor"], run["file_name"], run["target"], run["outcome"]) == (
            "erik", "sykefravær 2023.csv", "sykefravær 2023.csv", "ok")
        assert {(v.indicator_id, v.value) for v in store.latest()} == {("sykefravaer", 9.1), ("medarbeiderskap", 4.3)}
    again = upload(editor, GOOD.encode(), "sykefravær 2023.csv").get_data(as_text=True)
    assert "ingen endringer – ingenting lagret" in again


def test_a_good_xlsx_is_stored(app: Flask) -> None:
    editor = logged_in(app, "erik")
    data = xlsx_bytes([["indicator_id", "period", "value"], ["sykefravaer", 2023, 9.1], ["medarbeiderskap", "2023", None]])
    page = upload(editor, data, "import.xlsx").get_data(as_text=True)
    assert "1 rad, 1 ny verdi lagret" in page and "1 tom rad" in page


def test_a_bad_file_lists_every_line_and_changes_nothing(app: Flask) -> None:
    editor = logged_in(app, "erik")
    upload(editor, GOOD.encode(), "first.csv")
    before = file_digest(db_path(app))
    response = upload(editor, BAD.encode(), "import.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "4 feil – ingenting ble endret" in page
    for line in [
        "<li>import.csv:2: sykefravaer: verdien 120 er utenfor tillatt område 0–100 for enheten &#39;share&#39;</li>",
        "<li>import.csv:3: ukjent indikator-id &#39;finnes_ikke&#39;</li>",
        "<li>import.csv:4: medarbeiderskap: perioden 2031 er utenfor 1990–2026</li>",
        "<li>import.csv:5: netto_driftsresultat: hentes fra SSB, ikke import (kan kilden ikke nås, kan tallet legges inn som manuell bro: monitor import --bridge, eller avkrysningen på importsiden)</li>",
    ]:
        assert line in page
    assert "/tmp" not in page and "monitor-import-" not in page  # the temporary folder is not shown
    assert file_digest(db_path(app)) == before


def test_a_bad_xlsx_names_the_cell(app: Flask) -> None:
    editor = logged_in(app, "erik")
    before = file_digest(db_path(app))
    data = xlsx_bytes([["indicator_id", "period", "value"], ["sykefravaer", 2023, "=B2*2"]])
    page = upload(editor, data, "skjema.xlsx").get_data(as_text=True)
    assert "skjema.xlsx:Import!C2" in page and "formel" in page
    assert file_digest(db_path(app)) == before


def test_xss_in_the_file_name_and_the_cells_is_shown_inert(app: Flask) -> None:
    editor = logged_in(app, "erik")
    name = '<svg onload=alert(1)>.csv'
    text = ('indicator_id;period;value;note\nsykefravaer;2023;<img src=x onerror=alert(1)>;<script>alert(2)</script>\n'
            '<b onmouseover=alert(3)>x</b>;2023;1;\n')
    before = file_digest(db_path(app))
    page = upload(editor, text.encode(), name).get_data(as_text=True)
    for raw in ("<svg", "<script>alert", "<img src=x", "<b onmouseover"):
        assert raw not in page
    assert "&lt;svg onload=alert(1)&gt;.csv" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert file_digest(db_path(app)) == before
    good = upload(editor, GOOD.encode(), name).get_data(as_text=True)
    assert "<svg" not in good and "<script>alert" not in good and "2 nye verdier lagret" in good
    with Store(db_path(app)) as store:
        assert store.runs()[0]["file_name"] == name  # kept as given; escaped wherever it is shown


def test_uploads_over_the_limit_are_refused_in_bokmal(tmp_path: Path) -> None:
    app = make_app(tmp_path, max_upload_bytes=4096)
    editor = logged_in(app, "erik")
    token = csrf_token(editor, "/import")
    before = file_digest(db_path(app))
    big = (GOOD + "".join(f"sykefravaer;2023;9,1;{'x' * 50}\n" for _ in range(100))).encode()
    response = upload(editor, big, "stor.csv", token=token)
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "Filen er for stor" in page and "grensen på 4 KB" in page
    assert file_digest(db_path(app)) == before
    assert upload(editor, GOOD.encode(), "liten.csv", token=token).status_code == 200


def test_without_kostra_yaml_the_kostra_format_is_neither_offered_nor_accepted(app: Flask) -> None:
    editor = logged_in(app, "erik")
    page = editor.get("/import").get_data(as_text=True)
    assert 'value="kostra"' not in page and "KOSTRA-mal" not in page
    assert upload(editor, b"indicator_id;region;period;value\n", "k.csv", fmt="kostra").status_code == 400
    assert editor.get("/import/mal/kostra-2025.csv").status_code == 404


def test_an_upload_needs_a_file_and_a_known_format(app: Flask) -> None:
    editor = logged_in(app, "erik")
    token = csrf_token(editor, "/import")
    missing = editor.post("/import", data={"csrf_token": token, "format": "auto"})
    assert missing.status_code == 400 and "Velg en CSV- eller XLSX-fil" in missing.get_data(as_text=True)
    odd = upload(editor, GOOD.encode(), "x.csv", fmt="<svg onload=alert(1)>", token=token)
    assert odd.status_code == 400 and "<svg" not in odd.get_data(as_text=True)


def test_viewers_and_strangers_cannot_upload(app: Flask) -> None:
    stranger = app.test_client()
    refused = upload(stranger, GOOD.encode(), "x.csv", token=csrf_token(stranger))
    assert refused.status_code == 302
    viewer = logged_in(app, "lise")
    digest = file_digest(db_path(app))
    assert upload(viewer, GOOD.encode(), "x.csv", token=csrf_token(viewer)).status_code == 403
    assert file_digest(db_path(app)) == digest
    with Store(db_path(app)) as store:
        assert store.runs() == []


def test_templates_download_for_each_import_source(app: Flask) -> None:
    editor = logged_in(app, "erik")
    page = editor.get("/import").get_data(as_text=True)
    slug = slugify("Medarbeiderundersøkelsen, KS")
    assert f"/import/mal/{slug}.xlsx" in page and f"/import/mal/{slug}.csv" in page
    assert "/import/mal/ssb-12143" not in page  # fetched sources have no template
    xlsx = editor.get(f"/import/mal/{slug}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK\x03\x04")
    assert f"import-{slug}.xlsx" in xlsx.headers["Content-Disposition"]
    csv = editor.get(f"/import/mal/{slug}.csv")
    assert csv.status_code == 200 and csv.data.startswith("\ufeffindicator_id;name;period".encode("utf-8"))
    assert b"medarbeiderskap" in csv.data
    assert editor.get("/import/mal/ssb-12143.csv").status_code == 404
    assert editor.get("/import/mal/finnes-ikke.xlsx").status_code == 404
    assert editor.get(f"/import/mal/{slug}.pdf").status_code == 404
    assert app.test_client().get(f"/import/mal/{slug}.csv").status_code == 302


def test_a_filled_in_template_imports_through_the_page(app: Flask) -> None:
    editor = logged_in(app, "erik")
    data = editor.get("/import/mal/asker-kommune.csv").data.decode("utf-8-sig")
    lines = data.splitlines()
    header = lines[0].split(";")
    row = lines[1].split(";")
    row[header.index("value")] = "7,5" if row[0] == "sykefravaer" else "12"
    if not row[header.index("period")]:
        row[header.index("period")] = "2024"
    filled = "\r\n".join([lines[0], ";".join(row)]) + "\r\n"
    page = upload(editor, filled.encode("utf-8-sig"), "import-asker-kommune.csv").get_data(as_text=True)
    assert "1 rad, 1 ny verdi lagret" in page, page


@pytest.mark.parametrize("given,expected", [
    ("import.csv", "import.csv"), ("../../etc/passwd", "passwd"), ("C:\\Users\\kari\\fil.xlsx", "fil.xlsx"),
    ("", "opplasting"), ("..", "opplasting"), ("a\x00b\n.csv", "ab.csv"), ("sykefravær.csv", "sykefravær.csv"),
    ("x" * 300 + ".xlsx", "x" * 195 + ".xlsx"),
])
def test_upload_names_keep_the_name_but_never_a_directory(given: str, expected: str) -> None:
    assert upload_name(given) == expected


def test_size_text() -> None:
    assert [size_text(n) for n in (5 * 1024 * 1024, 1536 * 1024, 4096, 10)] == ["5 MB", "1,5 MB", "4 KB", "1 KB"]
