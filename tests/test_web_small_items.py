"""Issue 17 §16: the export form after a mistake, the favicon and the login page's layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.auth_helpers import NOW, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, load_behaviour_catalogue, load_fixture_baseline
from monitor.store.database import Store


@pytest.fixture
def client(tmp_path: Path) -> Any:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app.test_client()


def test_the_export_form_says_the_years_are_the_wrong_way_round_and_keeps_the_choices(client: Any) -> None:
    response = client.get("/eksport/arsrapport?fra=2026&til=2024&format=csv&per=2025-01-31&fremgang=1")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Fra år (2026) er etter til år (2024)" in html
    assert 'id="fra" name="fra" type="number" min="1990" max="2100" value="2026"' in html
    assert 'value="2024"' in html and '<option value="csv" selected>' in html
    assert 'value="2025-01-31"' in html and 'value="1" checked' in html


def test_the_favicon_is_served_and_linked(client: Any) -> None:
    response = client.get("/static/favicon.svg")
    try:
        assert response.status_code == 200 and b"<svg" in response.data
    finally:
        response.close()
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/logg-inn").get_data(as_text=True)


def test_the_login_form_has_a_layout(client: Any) -> None:
    assert '<form method="post" action="/logg-inn" class="form-stack">' in client.get("/logg-inn").get_data(as_text=True)


def test_after_hent_naa_the_banner_says_how_it_went(tmp_path: Path) -> None:
    from datetime import timedelta

    from monitor.core.model import Observation, RunRecord
    from monitor.store.fetchrequests import claim_pending, mark_finished, request_fetch

    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    start = NOW - timedelta(minutes=10)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
        request, _ = request_fetch(store, "ssb", "anne", start)
        claim_pending(store, start + timedelta(minutes=1))
        at = start + timedelta(minutes=2)
        store.write_run(RunRecord("ssb", "12143", at, at),
                        [Observation("netto_driftsresultat", "3203", "2022", -0.4, None, "ssb:12143")])
        store.record_failure(RunRecord("ssb", "12905", at, at), "HTTP 400")
        mark_finished(store, request.id, start + timedelta(minutes=3))
    html = app.test_client().get("/kilder").get_data(as_text=True)
    assert "Siste bestilte henting" in html
    assert '<strong class="outcome failed">1 av 2 tabeller feilet</strong>' in html


def test_an_as_of_date_before_anything_was_stored_is_said_not_given_as_blanks(client: Any) -> None:
    response = client.get("/eksport/arsrapport?fra=2022&til=2024&format=csv&per=2020-01-01")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Ingen tall var kjent per 01.01.2020: de første tallene i databasen ble lagret 12.12.2023" in html
    assert client.get("/eksport/arsrapport?fra=2022&til=2024&format=csv&per=2026-11-27").status_code == 200
