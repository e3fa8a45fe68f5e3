"""Issue 17, "honest state": with only the printed baseline loaded and no reachable source (the first day of a
real deployment) the pages say what is loaded, carry both "failing" and "late", and speak plain bokmål.

Runs on the behaviour fixture catalogue (tests/fixtures/catalogue/behaviour.yaml) and its printed baseline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from support.auth_helpers import NOW, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, load_behaviour_catalogue, load_fixture_baseline
from monitor.core.model import Observation, RunRecord
from monitor.store.database import Store

REFUSED = "får ikke kontakt med http://127.0.0.1:9/x ([Errno 111] Connection refused)"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app


def store_of(app: Flask) -> Store:
    return Store(app.config["MONITOR_SETTINGS"].db)


def fail(app: Flask, source: str, table: str, error: str = REFUSED, when: datetime = NOW) -> None:
    with store_of(app) as store:
        store.record_failure(RunRecord(source, table, when, when), error)


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_printed_baseline_only_is_not_data_per_and_says_what_is_loaded(app: Flask) -> None:
    fail(app, "ssb", "12143")
    text = visible(app.test_client().get("/").get_data(as_text=True))
    assert "Data per" not in text  # loading the baseline is neither a fetch nor an import
    assert "handlingsprogrammets trykte tall (vedtatt 12.12.2023)" in text
    assert "Ingen kilde har svart ennå" in text and "Kilder" in text


def test_data_per_is_the_newest_fetch_or_import_not_the_baseline_load(app: Flask) -> None:
    later = NOW + timedelta(hours=2)
    with store_of(app) as store:
        assert store.newest_success() is None
        store.write_run(RunRecord("ssb", "12143", later, later),
                        [Observation("netto_driftsresultat", "3203", "2023", 1.5, None, "ssb")])
        assert store.newest_success() is not None
    text = visible(app.test_client().get("/").get_data(as_text=True))
    assert "Data per" in text and "Ingen kilde har svart ennå" not in text


def test_sources_page_lists_the_baseline_load_among_the_imports(app: Flask) -> None:
    text = visible(app.test_client().get("/kilder").get_data(as_text=True))
    imports = text.split("Siste importer", 1)[1]
    assert "Trykte tall fra Handlingsprogram 2024–2027" in imports
    assert "Ingen importer ennå" not in imports
