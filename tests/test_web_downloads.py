"""The årsrapport export from the UI: the same files as `monitor export arsrapport`."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from flask import Flask

from support.auth_helpers import NOW, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, load_behaviour_catalogue, load_fixture_baseline
from monitor.store.database import Store


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app


def test_export_page_has_a_form_and_is_in_the_menu(app: Flask) -> None:
    page = app.test_client().get("/eksport").get_data(as_text=True)
    assert '<form method="get" action="/eksport/arsrapport">' in page and 'href="/eksport"' in page


def test_xlsx_download_has_real_numbers(app: Flask) -> None:
    response = app.test_client().get("/eksport/arsrapport?fra=2019&til=2022&format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="arsrapport-indikatorer-2019-2022-per-')
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Økonomi"]
    assert sheet["A1"].value == "ØKONOMI"
    netto = next(row for row in sheet.iter_rows(min_row=5) if str(row[0].value).startswith("Netto driftsresultat"))
    assert netto[4].value == -0.7


def test_html_and_as_of_match_the_command(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/eksport/arsrapport?fra=2019&til=2022&format=html").get_data(as_text=True)
    assert "<caption>ØKONOMI</caption>" in html and "-0,7\u00a0%" in html
    # Before the print was adopted (12.12.2023) nothing was known: the form says so instead of a table of blanks.
    before = client.get("/eksport/arsrapport?fra=2019&til=2022&format=html&per=2023-12-01")
    text = before.get_data(as_text=True)
    assert before.status_code == 400 and "-0,7\u00a0%" not in text and "Ingen tall var kjent per 01.12.2023" in text
    adopted = client.get("/eksport/arsrapport?fra=2019&til=2022&format=html&per=2023-12-12").get_data(as_text=True)
    assert "-0,7\u00a0%" in adopted and "Data per 12.12.2023" in adopted


@pytest.mark.parametrize("query", ["fra=2022&til=2019&format=csv", "fra=x&til=2022&format=csv",
                                   "fra=2019&til=2022&format=pdf", "fra=2019&til=2022&format=csv&per=igår",
                                   "fra=2019' OR 1=1 --&til=2022&format=csv"])
def test_bad_choices_give_the_form_again(app: Flask, query: str) -> None:
    response = app.test_client().get(f"/eksport/arsrapport?{query}")
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
