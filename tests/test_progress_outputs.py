"""Progress (issue 18) where it is read: `monitor check --format json` and the JSON API.

The check test runs `monitor init` on the production catalogue (it checks the whole catalogue) and compares three
indicators with numbers worked by hand from the handlingsprogram's printed 2019–2022 values (monitor/data/baseline.csv).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from support.catalogues import BEHAVIOUR_CATALOGUE, indicator_count, load_fixture_baseline
from support.paths import OSLO, REPO
from monitor.catalogue.indicators import load_catalogue
from monitor.cli.main import cli
from monitor.core.model import Observation, RunRecord
from monitor.core.settings import Settings
from monitor.evaluate.progress import ProgressStatus
from monitor.store.database import Store
from web import create_app

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
STATUSES = {status.value for status in ProgressStatus}
CONTRACT = {"id", "state", "target_status"}  # the interface contract of `monitor check --format json`


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """`monitor check --format json` after `monitor init` with only the baseline, per indicator id."""
    tmp = tmp_path_factory.mktemp("check")
    env = {"MONITOR_DB": str(tmp / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_RAW_DIR": str(tmp / "raw"), "MONITOR_TIMEZONE": "Europe/Oslo"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    result = runner.invoke(cli, ["check", "--format", "json"], env=env)
    assert result.exit_code in (0, 1), result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and len(rows) == indicator_count()
    return {row["id"]: row for row in rows}


def test_check_gives_every_indicator_a_progress_status(checked: dict[str, dict]) -> None:
    for ident, row in checked.items():
        assert CONTRACT <= set(row), ident
        progress = row["progress"]
        assert progress["status"] in STATUSES, ident
        assert progress["label"] and progress["explanation"], ident
        assert progress["base_year"] == 2019, ident


def test_netto_driftsresultat_is_going_the_wrong_way(checked: dict[str, dict]) -> None:
    # 4.9, 3.9, 4.4, −0.7 (2019–2022). Slopes −1.0, −0.25, −5.6/3 = −1.8667, 0.5, −2.3, −5.1; sorted, the middle
    # two are −1.8667 and −1.0: b = −4.3/3 = −1.4333. Bands "> 3 %": G = 3, Y = 2027; c = −0.7 < 3.
    # r = 3.7/5 = 0.74; q = −1.4333/0.74 = −1.9369 < 0 → deteriorating.
    progress = checked["netto_driftsresultat"]["progress"]
    assert progress["status"] == "deteriorating" and progress["label"] == "Går feil vei"
    assert progress["pace"] == pytest.approx(-1.433333333)
    assert progress["required_pace"] == pytest.approx(0.74) and progress["ratio"] == pytest.approx(-1.936937)
    assert (progress["target_value"], progress["target_year"]) == (3, 2027)
    # at 2027: median of v + 1.4333·(y − 2027) = −6.5667, −6.1333, −4.2, −7.8667 → (−6.5667 − 6.1333)/2 = −6.35.
    assert progress["projection"]["year"] == 2027 and progress["projection"]["value"] == pytest.approx(-6.35)
    assert progress["explanation"] == (
        "Fra 2019 til 2022 har netto driftsresultat som andel av brutto driftsinntekter gått ned med "
        "1,4\u00a0prosentpoeng i året; for å nå 3\u00a0% innen 2027 må det øke med 0,7 i året.")


def test_disposisjonsfond_has_met_its_target(checked: dict[str, dict]) -> None:
    # 15.1, 18.1, 18.0, 14.8. Slopes 3.0, 1.45, −0.1, −0.1, −1.65, −3.2: the middle two tie at −0.1, b = −0.1.
    # Bands "> 10 %": c = 14.8 ≥ 10 → target met (no pace needed).
    progress = checked["disposisjonsfond"]["progress"]
    assert progress["status"] == "target_met" and progress["label"] == "Mål nådd"
    assert progress["pace"] == pytest.approx(-0.1)
    assert (progress["required_pace"], progress["ratio"]) == (None, None)
    # at 2027: v + 0.1·(y − 2027) = 14.3, 17.4, 17.4, 14.3 → 15.85.
    assert progress["projection"]["value"] == pytest.approx(15.85)


def test_eldre_i_arbeid_without_target_makes_good_progress(checked: dict[str, dict]) -> None:
    # 21.6, 21.4, 22.4, 23.1 (higher is better, no target). Slopes −0.2, 0.4, 0.5, 1.0, 0.85, 0.7 → sorted −0.2,
    # 0.4, 0.5, 0.7, 0.85, 1.0: b = (0.5 + 0.7)/2 = 0.6. mean |v| = 88.5/4 = 22.125; p = 0.6/22.125 = 0.027119
    # ≥ 0.015 → substantial.
    progress = checked["eldre_i_arbeid"]["progress"]
    assert progress["status"] == "substantial" and progress["label"] == "God fremgang"
    assert progress["pace"] == pytest.approx(0.6) and progress["relative_pace"] == pytest.approx(0.027118644)
    assert (progress["target_value"], progress["required_pace"], progress["ratio"]) == (None, None, None)
    # at 2027: v − 0.6·(y − 2027) = 26.4, 25.6, 26.0, 26.1 → (26.0 + 26.1)/2 = 26.05.
    assert progress["projection"] == {"year": 2027, "value": pytest.approx(26.05)}


def test_the_climate_target_without_its_2009_level_and_a_directionless_indicator(checked: dict[str, dict]) -> None:
    climate = checked["direkte_klimagassutslipp"]["progress"]
    assert climate["status"] == "insufficient_data" and climate["target_year"] == 2030
    assert "2009" in climate["explanation"]
    assert checked["befolkningsvekst"]["progress"]["status"] == "no_direction"


# ---- the JSON API ------------------------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        store.migrate()
        load_fixture_baseline(store, load_catalogue(BEHAVIOUR_CATALOGUE), NOW, tmp_path)
    return path


@pytest.fixture
def client(db: Path) -> FlaskClient:
    settings = Settings(db=db, catalogue=BEHAVIOUR_CATALOGUE, secret_key="progress-test-secret",  # type: ignore[call-arg]
                        read_open=True)
    app = create_app(settings, testing=True)
    app.config["MONITOR_TODAY"] = "2026-11-27"
    return app.test_client()


def test_api_list_and_detail_carry_the_same_progress(client: FlaskClient) -> None:
    rows = {row["id"]: row for row in client.get("/api/indicators").get_json()["indicators"]}
    assert all(row["evaluation"]["progress"]["status"] in STATUSES for row in rows.values())
    listed = rows["netto_driftsresultat"]["evaluation"]["progress"]
    assert listed["status"] == "deteriorating" and listed["pace"] == pytest.approx(-1.433333333)
    detail = client.get("/api/indicators/netto_driftsresultat").get_json()["evaluation"]["progress"]
    assert detail == listed


def test_api_progress_follows_new_data(client: FlaskClient, db: Path) -> None:
    client.get("/api/indicators")  # fills the overview cache
    at = NOW + timedelta(hours=1)
    with Store(db) as store:
        store.write_run(RunRecord(source="ssb", target="12143", started_at=at, finished_at=at, actor="test"),
                        [Observation("netto_driftsresultat", "3203", "2023", 3.5, None, "ssb")])
    # 4.9, 3.9, 4.4, −0.7, 3.5: slopes −1.0, −0.25, −1.8667, −0.35, 0.5, −2.3, −0.1333, −5.1, −0.45, 4.2; sorted,
    # the middle two are −0.45 and −0.35: b = −0.4. c = 3.5 ≥ 3 → target met.
    rows = {row["id"]: row for row in client.get("/api/indicators").get_json()["indicators"]}
    progress = rows["netto_driftsresultat"]["evaluation"]["progress"]
    assert progress["status"] == "target_met" and progress["pace"] == pytest.approx(-0.4)
    assert [point["year"] for point in progress["points"]] == [2019, 2020, 2021, 2022, 2023]
