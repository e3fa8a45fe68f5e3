"""A catalogue `definition_note` (bokmål) names where the source's definition differs from the plan's; the indicator
page shows it under Kilde and /api/indicators/<id> gives it (issue 20: every definitional difference is shown)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask

from support.catalogues import BEHAVIOUR_CATALOGUE, load_fixture_baseline
from support.paths import OSLO
from monitor.catalogue.indicators import load_catalogue
from monitor.core.errors import CatalogueError
from monitor.core.settings import Settings
from monitor.store.database import Store
from web import create_app

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
NOTE = "SSB regner gjeldsgraden for kommunekonsernet; planen bruker kommunens eget regnskap med energifondet."


def catalogue_with(tmp_path: Path, note_line: str) -> Path:
    """The behaviour catalogue with one line added to netto_lanegjeld's entry (right after its unit)."""
    text = BEHAVIOUR_CATALOGUE.read_text(encoding="utf-8")
    anchor = "- id: netto_lanegjeld\n"
    head, tail = text.split(anchor, 1)
    tail = tail.replace("  unit: percent\n", f"  unit: percent\n{note_line}", 1)
    path = tmp_path / "catalogue.yaml"
    path.write_text(head + anchor + tail, encoding="utf-8")
    return path


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    catalogue_path = catalogue_with(tmp_path, f'  definition_note: "{NOTE}"\n')
    db = tmp_path / "monitor.db"
    with Store(db) as store:
        store.migrate()
        load_fixture_baseline(store, load_catalogue(catalogue_path), NOW, tmp_path)
    values: dict[str, object] = {"db": db, "catalogue": catalogue_path, "secret_key": "note-test", "read_open": True}
    app = create_app(Settings(**values), testing=True)  # type: ignore[arg-type]
    app.config["MONITOR_TODAY"] = "2026-11-27"
    return app


def test_the_note_is_on_the_indicator_page_under_the_source(app: Flask) -> None:
    html = app.test_client().get("/indikator/netto_lanegjeld").get_data(as_text=True)
    source = html[html.index('id="source-title"'):html.index('id="runs-title"')]
    assert "<dt>Definisjon i kilden</dt><dd>" + NOTE + "</dd>" in source
    other = app.test_client().get("/indikator/disposisjonsfond").get_data(as_text=True)
    assert "Definisjon i kilden" not in other


def test_the_note_is_in_the_api(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/api/indicators/netto_lanegjeld").get_json()["definition_note"] == NOTE
    assert client.get("/api/indicators/disposisjonsfond").get_json()["definition_note"] is None
    rows = {row["id"]: row for row in client.get("/api/indicators").get_json()["indicators"]}
    assert rows["netto_lanegjeld"]["definition_note"] == NOTE


def test_an_empty_note_is_refused_with_its_line(tmp_path: Path) -> None:
    path = catalogue_with(tmp_path, '  definition_note: ""\n')
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert "indikator 'netto_lanegjeld'" in str(caught.value) and "definition_note: kan ikke være tom" in str(caught.value)
