"""The JSON API: indicators with evaluations, vintages and fetch history; JSON-stat 2.0 read by pyjstat and by us."""

from __future__ import annotations

import json
import math
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.catalogues import BEHAVIOUR_CATALOGUE, load_fixture_baseline
from support.paths import OSLO
from fetchers.jsonstat import parse_dataset
from monitor.evaluate.assessment import evaluate_all
from monitor.seed.baseline import BASELINE_VINTAGE
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.core.model import Observation, RunRecord, TableMeta
from monitor.report.api import indicator_list
from monitor.report.readcache import PROCESS_CACHE
from monitor.core.settings import Settings
from monitor.store.database import Store
from web import create_app

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
CATALOGUE = BEHAVIOUR_CATALOGUE  # real-shaped entries copied from indicators.yaml


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


@pytest.fixture
def db(tmp_path: Path, catalogue: Catalogue) -> Path:
    """What `monitor init` makes: the current schema and the handlingsprogram's baseline (the catalogue's cells)."""
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        store.migrate()
        load_fixture_baseline(store, catalogue, NOW, tmp_path)
    return path


def make_app(db: Path, **overrides: object) -> Flask:
    values: dict[str, object] = {"db": db, "catalogue": CATALOGUE, "secret_key": "api-test-secret", "read_open": True}
    values.update(overrides)
    app = create_app(Settings(**values), testing=True)  # type: ignore[arg-type]
    app.config["MONITOR_TODAY"] = "2026-11-27"
    return app


@pytest.fixture
def client(db: Path) -> FlaskClient:
    return make_app(db).test_client()


def write(db: Path, source: str, target: str, rows: list[tuple[str, str, float | None, str | None]], at: datetime) -> int:
    """Store one run of new vintages for the kommune (as a fetch or an import would)."""
    with Store(db) as store:
        run_id, _ = store.write_run(
            RunRecord(source=source, target=target, started_at=at, finished_at=at, actor="test"),
            [Observation(indicator, "3203", period, value, status, source) for indicator, period, value, status in rows],
        )
    assert run_id is not None
    return run_id


def test_indicators_lists_every_active_indicator_with_facts_and_evaluation(client: FlaskClient, catalogue: Catalogue) -> None:
    response = client.get("/api/indicators")
    assert response.status_code == 200 and response.content_type == "application/json"
    body = response.get_json()
    assert body["municipality"] == {"name": "Asker", "code": "3203"}
    rows = body["indicators"]
    assert [row["id"] for row in rows] == [indicator.id for indicator in catalogue.indicators]
    netto = next(row for row in rows if row["id"] == "netto_driftsresultat")
    assert {key: netto[key] for key in ("area", "frequency", "unit", "symbol", "decimals", "direction")} == {
        "area": "Økonomi", "frequency": "annual", "unit": "percent", "symbol": "%", "decimals": 1,
        "direction": "higher_is_better",
    }
    assert netto["source"] == {"kind": "ssb", "name": "SSB 12143", "tables": ["12143"]}
    assert netto["hovedmal"] == "Asker er en økonomisk robust og bærekraftig kommune"
    assert netto["delmal"] == "Asker kommune har en god økonomisk bærekraft"
    assert netto["target"] == {"kind": "bands", "desired": 3.0, "acceptable": 1.75,
                               "text": "Ønsket > 3 %, laveste akseptable 1,75–3 %, ikke godkjent < 1,75 %"}
    evaluation = netto["evaluation"]
    assert (evaluation["latest_value"], evaluation["latest_value_period"]) == (-0.7, "2022")
    assert (evaluation["state"], evaluation["late_days"], evaluation["expected_period"]) == ("late", 257, "2025")
    assert (evaluation["target_status"], evaluation["due"]) == ("not_met", "2026-03-15")
    assert evaluation["next_check"] == "2026-11-28T08:30:00+01:00"  # SSB's daily check; today's (08:30) has passed
    assert evaluation["explanation"].startswith("Netto driftsresultat som andel av brutto driftsinntekter 2022: \u22120,7")
    fond = next(row for row in rows if row["id"] == "disposisjonsfond")
    assert (fond["path"], fond["source"]["kind"], fond["evaluation"]["target_status"]) == ("import", "register", "met")
    assert fond["evaluation"]["next_check"] is None


def test_one_indicator_with_every_vintage_and_its_fetch_history(client: FlaskClient, db: Path) -> None:
    body = client.get("/api/indicators/netto_driftsresultat").get_json()
    assert body["id"] == "netto_driftsresultat" and body["evaluation"]["state"] == "late"
    assert [o["period"] for o in body["observations"]] == ["2019", "2020", "2021", "2022"]
    printed = body["observations"][-1]
    assert printed["latest"] == printed["vintages"][0]
    assert {k: printed["latest"][k] for k in ("period", "value", "status", "source", "vintage", "retrieved_at")} == {
        "period": "2022", "value": -0.7, "status": None, "source": "baseline", "vintage": BASELINE_VINTAGE,
        "retrieved_at": "2023-12-11T23:00:00+00:00",  # adopted 12 December 2023, Oslo time
    }
    [baseline_run] = body["fetch_history"]
    assert (baseline_run["source"], baseline_run["outcome"]) == ("baseline", "ok")
    assert printed["latest"]["run_id"] == baseline_run["id"]

    # SSB revises 2022 and publishes 2023: two vintages for 2022, the newest one first in "latest".
    fetched = NOW + timedelta(hours=1)
    run_id = write(db, "ssb", "12143", [("netto_driftsresultat", "2022", -0.5, None),
                                         ("netto_driftsresultat", "2023", 2.1, None)], fetched)
    body = client.get("/api/indicators/netto_driftsresultat").get_json()
    periods = {o["period"]: o for o in body["observations"]}
    assert list(periods) == ["2019", "2020", "2021", "2022", "2023"]
    assert [v["value"] for v in periods["2022"]["vintages"]] == [-0.7, -0.5]
    assert [v["vintage"] for v in periods["2022"]["vintages"]] == [BASELINE_VINTAGE, None]
    assert periods["2022"]["latest"]["value"] == -0.5 and periods["2022"]["latest"]["run_id"] == run_id
    assert periods["2023"]["latest"]["retrieved_at"] == "2026-11-27T09:30:00+00:00"
    assert [run["id"] for run in body["fetch_history"]][0] == run_id  # newest first
    assert all("raw_path" not in run for run in body["fetch_history"])
    evaluation = body["evaluation"]
    assert (evaluation["latest_value"], evaluation["latest_value_period"], evaluation["revised"]) == (2.1, "2023", ["2022"])
    assert evaluation["target_status"] == "acceptable"


def test_a_failed_fetch_shows_in_the_history_and_the_evaluation(client: FlaskClient, db: Path) -> None:
    at = NOW - timedelta(hours=1)
    with Store(db) as store:
        store.record_failure(RunRecord("ssb", "12143", at, at), "HTTP 503 fra SSB")
    body = client.get("/api/indicators/netto_driftsresultat").get_json()
    assert body["fetch_history"][0]["outcome"] == "failed" and body["fetch_history"][0]["error"] == "HTTP 503 fra SSB"
    assert body["evaluation"]["state"] == "fetch_failing"


def test_unknown_indicator_is_404_json(client: FlaskClient) -> None:
    for path in ("/api/indicators/finnes_ikke", "/api/indicators/finnes_ikke/jsonstat", "/api/ingenting"):
        response = client.get(path)
        assert response.status_code == 404 and response.content_type == "application/json", path
        assert response.get_json()["status"] == 404
    assert "finnes_ikke" in client.get("/api/indicators/finnes_ikke").get_json()["detail"]


def test_writes_are_not_allowed_on_the_api(client: FlaskClient) -> None:
    response = client.post("/api/indicators")
    assert response.status_code in (302, 400, 401, 403, 405)
    assert client.get("/api/indicators").status_code == 200


def jsonstat(client: FlaskClient, indicator_id: str) -> tuple[str, dict]:
    response = client.get(f"/api/indicators/{indicator_id}/jsonstat")
    assert response.status_code == 200 and response.content_type == "application/json"
    text = response.get_data(as_text=True)
    return text, json.loads(text)


def test_jsonstat_dataset_shape(client: FlaskClient) -> None:
    _, ds = jsonstat(client, "netto_driftsresultat")
    assert (ds["version"], ds["class"], ds["source"]) == ("2.0", "dataset", "SSB 12143")
    assert ds["label"] == "Netto driftsresultat som andel av brutto driftsinntekter (> 3 %)"
    assert ds["id"] == ["indikator", "region", "tid"] and ds["size"] == [1, 1, 4]
    assert ds["role"]["time"] == ["tid"] and ds["role"]["geo"] == ["region"]
    assert ds["dimension"]["tid"]["category"]["index"] == {"2019": 0, "2020": 1, "2021": 2, "2022": 3}
    assert ds["dimension"]["region"]["category"]["label"] == {"3203": "Asker"}
    assert ds["value"] == [4.9, 3.9, 4.4, -0.7] and "status" not in ds
    assert ds["updated"] == "2023-12-11T23:00:00+00:00"
    assert (ds["extension"]["unit"], ds["extension"]["decimals"], ds["extension"]["symbol"]) == ("percent", 1, "%")
    assert ds["dimension"]["indikator"]["category"]["unit"]["netto_driftsresultat"]["decimals"] == 1


def read_with_pyjstat(text: str) -> list[dict]:
    from pyjstat import pyjstat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyjstat.Dataset.read(text).write("dataframe")
    return list(frame.to_dict("records"))


def test_pyjstat_and_our_parser_read_the_latest_series_cell_by_cell(client: FlaskClient, db: Path) -> None:
    # Statuses of every kind: "Ikke målt" in the baseline (2019), SSB's ":" and "..", and "Tall kommer".
    write(db, "import", "vedlikehold.csv", [("vedlikehold_formalsbygg", "2020", 118.0, None),
                                             ("vedlikehold_formalsbygg", "2023", None, ":"),
                                             ("vedlikehold_formalsbygg", "2024", None, ".."),
                                             ("vedlikehold_formalsbygg", "2025", None, "pending")], NOW)
    text, ds = jsonstat(client, "vedlikehold_formalsbygg")
    expected = [("2019", None, "IM"), ("2020", 118.0, None), ("2021", 99.0, None), ("2022", 132.0, None),
                ("2023", None, ":"), ("2024", None, ".."), ("2025", None, "TK")]
    assert ds["status"] == {"0": "IM", "4": ":", "5": "..", "6": "TK"}
    assert ds["extension"]["status"]["IM"] == "Ikke målt" and ds["extension"]["status"]["TK"] == "Tall kommer"
    assert ds["extension"]["status"][":"] == "vises ikke av konfidensialitetshensyn"

    rows = read_with_pyjstat(text)
    assert len(rows) == len(expected)
    for row, (period, value, _) in zip(rows, expected):
        assert (row["Indikator"], row["Region"], row["Tid"]) == ("Vedlikehold per m² i formålsbygg (> 140 kr/ m²)", "Asker", period)
        assert math.isnan(row["value"]) if value is None else row["value"] == value

    ours = parse_dataset(text)
    assert ours.ids == ("indikator", "region", "tid") and ours.roles["time"] == ["tid"]
    cells = list(ours.cells())
    assert [(c.codes, c.value, c.status) for c in cells] == [
        (("vedlikehold_formalsbygg", "3203", period), value, status) for period, value, status in expected
    ]
    assert ours.units["indikator"]["vedlikehold_formalsbygg"]["decimals"] == 0
    assert ours.extension["unit"] == "amount"


def test_jsonstat_of_an_indicator_without_data(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    with Store(empty) as store:
        store.migrate()
    client = make_app(empty).test_client()
    text, ds = jsonstat(client, "netto_driftsresultat")
    assert ds["size"] == [1, 1, 0] and ds["value"] == [] and "updated" not in ds
    assert parse_dataset(text).n_cells == 0
    assert client.get("/api/indicators/netto_driftsresultat").get_json()["observations"] == []


def test_closed_reading_answers_401_json_to_anonymous_api_requests(db: Path) -> None:
    client = make_app(db, read_open=False).test_client()
    for path in ("/api/indicators", "/api/indicators/netto_driftsresultat",
                 "/api/indicators/netto_driftsresultat/jsonstat", "/api/indicators/finnes_ikke"):
        response = client.get(path)
        assert response.status_code == 401 and response.content_type == "application/json", path
        assert response.get_json()["status"] == 401
    assert client.get("/healthz").status_code == 200


def test_evaluations_are_reused_until_the_data_or_the_day_changes(db: Path) -> None:
    app = make_app(db)
    client = app.test_client()
    client.get("/api/indicators")
    misses = PROCESS_CACHE.misses
    for path in ("/api/indicators", "/api/indicators/netto_driftsresultat", "/api/indicators/sykefravaer/jsonstat"):
        assert client.get(path).status_code == 200
    assert PROCESS_CACHE.misses == misses  # nothing changed: no new reading or evaluation

    write(db, "import", "sykefravaer.csv", [("sykefravaer", "2023", 9.1, None)], NOW)
    rows = {row["id"]: row for row in client.get("/api/indicators").get_json()["indicators"]}
    assert rows["sykefravaer"]["evaluation"]["latest_value"] == 9.1 and PROCESS_CACHE.misses == misses + 1

    with Store(db) as store:  # what a source says about its table counts too
        store.save_table_meta([TableMeta("ssb", "12143", updated="2026-11-27T07:00:00Z")], NOW)
    rows = {row["id"]: row for row in client.get("/api/indicators").get_json()["indicators"]}
    assert rows["netto_driftsresultat"]["evaluation"]["source_updated"] == "2026-11-27T07:00:00Z"

    app.config["MONITOR_TODAY"] = "2026-11-28"  # a day later: one more day late
    rows = {row["id"]: row for row in client.get("/api/indicators").get_json()["indicators"]}
    assert rows["netto_driftsresultat"]["evaluation"]["late_days"] == 258


def test_the_next_check_moves_on_once_it_has_passed(db: Path) -> None:
    app = make_app(db)
    client = app.test_client()
    app.config["MONITOR_NOW"] = datetime(2026, 11, 27, 8, 0, tzinfo=OSLO)
    netto = client.get("/api/indicators/netto_driftsresultat").get_json()["evaluation"]
    assert netto["next_check"] == "2026-11-27T08:30:00+01:00"
    app.config["MONITOR_NOW"] = datetime(2026, 11, 27, 8, 45, tzinfo=OSLO)
    netto = client.get("/api/indicators/netto_driftsresultat").get_json()["evaluation"]
    assert netto["next_check"] == "2026-11-28T08:30:00+01:00"


def test_the_cached_list_is_what_a_fresh_evaluation_gives(client: FlaskClient, db: Path, catalogue: Catalogue) -> None:
    client.get("/api/indicators")  # fill the cache
    write(db, "ssb", "12143", [("netto_driftsresultat", "2023", 2.1, None)], NOW)
    cached = client.get("/api/indicators").get_json()
    noon = datetime(2026, 11, 27, 12, 0, tzinfo=OSLO)  # MONITOR_TODAY: noon that day, local time
    with Store(db) as store:
        fresh = indicator_list(catalogue, evaluate_all(catalogue, store, noon.date(), noon, OSLO), noon)
    assert cached == json.loads(json.dumps(fresh))
    assert cached["as_of"] == "2026-11-27T12:00:00+01:00"
