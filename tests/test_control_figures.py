"""Control figures (issue 20): a `control` block is fetched by the normal SSB pipeline against the fake PxWebApi and
stored under its own series key; the indicator's value stays the imported one, the evaluation is unchanged, and the
page and the API show both and flag, in words, only the years whose difference exceeds rounding.

Hand-worked numbers: netto_lanegjeld's printed values (the baseline, its "import") are 99,1 / 102,8 / 99,0 / 97,4 %
for 2019–2022. The fake's 12143 KG31 cells (tests/fixtures/ssb-v2/12143, constructed to the print) are changed here
to 99,1 / 102,74 / 100,3 / 97,43 (2023: 98,6 and 2024: 101,3 as in the fixture, with no value beside them). The
differences control − value are 0, −0,06, +1,3 and +0,03; shown with one decimal, half a unit is 0,05, so 2020
(0,06 → «0,1 prosentpoeng») and 2021 («1,3 prosentpoeng») are flagged and 2019 and 2022 are not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from support.catalogues import BEHAVIOUR_CATALOGUE, load_fixture_baseline
from support.clocks import FixedClock
from support.fake_pxwebapi import FakePxWebApi
from support.paths import OSLO, REPO
from fetchers.ssb import SsbClient
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.core.model import Vintage, control_key
from monitor.core.settings import Settings
from monitor.evaluate.assessment import evaluate_all
from monitor.evaluate.indicator import State
from monitor.report.controls import control_figures, control_rows
from monitor.report.status import status_rows
from monitor.sources.pipeline import FetchReport, fetch_ssb
from monitor.store.database import Store
from web import create_app

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
NOTE = "SSB 12143 er et kommunekonsern-tall; planens tall er kommunens eget regnskap, så SSB-tallet er bare et kontrolltall."
# netto_lanegjeld's control block as in indicators.yaml (behaviour.yaml's two-space layout)
CONTROL = f"""  control:
    note: "{NOTE}"
    series:
      netto_lanegjeld:
        table: '12143'
        region:
          dimension: KOKkommuneregion0000
        select:
          KOKartkap0000: KG31
          ContentsCode: KOSbelopbrinv0000
        labels:
          KOKartkap0000: Netto lånegjeld
          ContentsCode: Andel av brutto driftsinntekter
        unit: prosent
        first_year: 2019
    value: netto_lanegjeld
"""
# KG31 cells of the fake's 12143: (region code valid that year, year) → value
KG31_CELLS = {("0220", "2019"): 99.1, ("3025", "2020"): 102.74, ("3025", "2021"): 100.3, ("3025", "2022"): 97.43}
NBSP = "\u00a0"


def cell_index(data: dict[str, Any], coordinates: dict[str, str]) -> int:
    """The position of one cell in a JSON-stat 2.0 dataset's value list (row-major over `id`)."""
    index = 0
    for dimension, size in zip(data["id"], data["size"]):
        index = index * size + data["dimension"][dimension]["category"]["index"][coordinates[dimension]]
    return index


def catalogue_path(tmp_path: Path) -> Path:
    """The behaviour catalogue with netto_lanegjeld's control block (its value stays the import)."""
    text = BEHAVIOUR_CATALOGUE.read_text(encoding="utf-8")
    head, tail = text.split("- id: netto_lanegjeld\n", 1)
    entry, rest = tail.split("- id: ", 1)
    path = tmp_path / "catalogue.yaml"
    path.write_text(f"{head}- id: netto_lanegjeld\n{entry}{CONTROL}- id: {rest}", encoding="utf-8")
    return path


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    return load_catalogue(catalogue_path(tmp_path))


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=30, window=60, now=NOW) as running:
        data = running.data("12143")
        for (region, year), value in KG31_CELLS.items():
            data["value"][cell_index(data, {"KOKkommuneregion0000": region, "KOKartkap0000": "KG31",
                                            "ContentsCode": "KOSbelopbrinv0000", "Tid": year})] = value
        running.set_data("12143", data)
        yield running


@pytest.fixture
def db(tmp_path: Path, catalogue: Catalogue) -> Path:
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        store.migrate()
        load_fixture_baseline(store, catalogue, NOW, tmp_path)
    return path


def fetch(catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path) -> FetchReport:
    server.reset_counters()
    with Store(db) as store, SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_ssb(catalogue, store, client, clock=FixedClock(NOW), raw_dir=tmp_path / "raw", force=True)


def app_for(db: Path, tmp_path: Path) -> Flask:
    values: dict[str, object] = {"db": db, "catalogue": catalogue_path(tmp_path), "secret_key": "control-test",
                                 "read_open": True}
    app = create_app(Settings(**values), testing=True)  # type: ignore[arg-type]
    app.config["MONITOR_TODAY"] = "2026-11-27"
    return app


def evaluation(catalogue: Catalogue, db: Path, indicator_id: str) -> dict[str, Any]:
    with Store(db) as store:
        found = next(e for e in evaluate_all(catalogue, store, NOW.date(), NOW, OSLO) if e.id == indicator_id)
    return found.as_dict()


def test_the_control_is_stored_under_its_own_key_and_the_value_stays_the_import(
    catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path
) -> None:
    before = evaluation(catalogue, db, "netto_lanegjeld")
    report = fetch(catalogue, db, server, tmp_path)
    assert report.failed == []
    with Store(db) as store:
        control = {v.period: (v.value, v.source) for v in store.latest(control_key("netto_lanegjeld"), "3203")}
        value = {v.period: (v.value, v.source) for v in store.latest("netto_lanegjeld", "3203")}
        netto_driftsresultat = {v.period: v.value for v in store.latest("netto_driftsresultat", "3203")}
    # every KG31 cell of 12143, each year from the code valid that year (0220, 3025, 3203), in the same query
    assert control == {"2019": (99.1, "ssb:12143"), "2020": (102.74, "ssb:12143"), "2021": (100.3, "ssb:12143"),
                       "2022": (97.43, "ssb:12143"), "2023": (98.6, "ssb:12143"), "2024": (101.3, "ssb:12143")}
    assert {period: v for period, (v, _) in value.items()} == {"2019": 99.1, "2020": 102.8, "2021": 99.0, "2022": 97.4}
    assert {source for _, source in value.values()} == {"baseline"}
    assert netto_driftsresultat["2024"] == 2.6  # the table's value indicator is stored from the same answer
    # the evaluation (value, target, state, progress) is exactly what it was before the control was fetched
    assert evaluation(catalogue, db, "netto_lanegjeld") == before
    assert (before["latest_value"], before["target_status"], before["state"]) == (97.4, "acceptable", before["state"])
    with Store(db) as store:
        row = next(r for r in status_rows(catalogue, store) if r.id == "netto_lanegjeld")
    assert (row.path, row.control, row.last_value) == ("import", "ssb", 97.4)


def test_flags_only_where_the_difference_exceeds_rounding() -> None:
    indicator = load_catalogue(BEHAVIOUR_CATALOGUE).get("netto_lanegjeld")  # one decimal: half a unit is 0,05

    def vintage(key: str, period: str, value: float) -> Vintage:
        return Vintage(0, key, "3203", period, value, None, "x", None, "2026-11-27T08:00:00+00:00", None, None)

    values = [vintage("netto_lanegjeld", p, v) for p, v in (("2019", 99.1), ("2020", 102.8), ("2021", 99.0), ("2022", 97.4))]
    controls = [vintage("k", p, v) for p, v in (("2019", 99.15), ("2020", 102.86), ("2021", 97.7), ("2022", 97.4),
                                                 ("2023", 98.6))]
    rows = {row.period: row for row in control_rows(indicator, values, controls, "SSB")}
    # 99,15 − 99,1 = 0,05 is rounding (not more than half a unit); 0,06 and −1,3 are more
    assert {p: (row.difference, row.flagged) for p, row in rows.items()} == {
        "2019": (0.05, False), "2020": (0.06, True), "2021": (-1.3, True), "2022": (0.0, False), "2023": (None, False)}
    assert rows["2021"].sentence == f"Kontrolltallet fra SSB avviker fra kommunens tall med 1,3{NBSP}prosentpoeng"
    assert rows["2020"].sentence == f"Kontrolltallet fra SSB avviker fra kommunens tall med 0,1{NBSP}prosentpoeng"
    assert rows["2023"].value_text is None and rows["2023"].control_text == f"98,6{NBSP}%"


def test_the_page_shows_both_and_flags_2020_and_2021(
    catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path
) -> None:
    fetch(catalogue, db, server, tmp_path)
    html = app_for(db, tmp_path).test_client().get("/indikator/netto_lanegjeld").get_data(as_text=True)
    section = html[html.index('id="control-title"'):html.index("</section>", html.index('id="control-title"'))]
    assert "Kontrolltall fra SSB</h2>" in section and NOTE in section
    rows = [row for row in section.split("<tr")[2:]]
    assert len(rows) == 6  # 2019–2024
    expected = {
        "2019": (f"99,1{NBSP}%", f"99,1{NBSP}%", "Innenfor avrundingen"),
        "2020": (f"102,8{NBSP}%", f"102,7{NBSP}%", f"avviker fra kommunens tall med 0,1{NBSP}prosentpoeng"),
        "2021": (f"99,0{NBSP}%", f"100,3{NBSP}%", f"avviker fra kommunens tall med 1,3{NBSP}prosentpoeng"),
        "2022": (f"97,4{NBSP}%", f"97,4{NBSP}%", "Innenfor avrundingen"),
        "2023": ("–", f"98,6{NBSP}%", "–"),
        "2024": ("–", f"101,3{NBSP}%", "–"),
    }
    for row, (period, (value, control, verdict)) in zip(rows, expected.items()):
        assert f'<th scope="row">{period}</th><td class="num">{value}</td><td class="num">{control}</td>' in row, row
        assert verdict in row, row
        assert ('class="flagged"' in row) == ("avviker" in verdict), row
    assert section.count("avviker fra kommunens tall") == 2
    # beside the latest value (2022) in the verdict box: the control figure, not flagged
    assert f"<dt>Kontrolltall (SSB)</dt><dd>97,4{NBSP}%</dd>" in html
    # the value is still the import: the chart table's current values are the printed ones
    assert f'<th scope="row">2021</th><td class="num">99,0{NBSP}%</td>' in html


def test_the_api_check_and_status_carry_the_control(
    catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path
) -> None:
    fetch(catalogue, db, server, tmp_path)
    body = app_for(db, tmp_path).test_client().get("/api/indicators/netto_lanegjeld").get_json()
    assert body["path"] == "import"
    assert [o["latest"]["value"] for o in body["observations"]] == [99.1, 102.8, 99.0, 97.4]  # the value: the import
    control = body["control"]
    assert (control["source"], control["tables"], control["note"], control["tolerance"]) == ("ssb", ["12143"], NOTE, 0.05)
    assert control["flagged"] == ["2020", "2021"] and control["failure"] is None
    assert [(o["period"], o["value"], o["control"]) for o in control["observations"]][:3] == [
        ("2019", 99.1, 99.1), ("2020", 102.8, 102.74), ("2021", 99.0, 100.3)]
    other = app_for(db, tmp_path).test_client().get("/api/indicators/disposisjonsfond").get_json()
    assert other["control"] is None


def test_monitor_check_and_status_json(catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli.main import cli

    fetch(catalogue, db, server, tmp_path)
    env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(catalogue_path(tmp_path)), "MONITOR_TODAY": "2026-11-27"}
    result = CliRunner().invoke(cli, ["check", "--format", "json"], env=env)
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert {"id", "state", "target_status", "control"} <= set(rows["netto_lanegjeld"])
    assert rows["netto_lanegjeld"]["control"]["flagged"] == ["2020", "2021"]
    assert rows["netto_driftsresultat"]["control"] is None
    status = CliRunner().invoke(cli, ["status", "--format", "json"], env=env)
    listed = {row["id"]: row for row in json.loads(status.stdout)}
    assert (listed["netto_lanegjeld"]["path"], listed["netto_lanegjeld"]["control"]) == ("import", "ssb")
    assert listed["netto_driftsresultat"]["control"] is None


def test_the_sources_page_names_the_control_figure_under_its_table(
    catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path
) -> None:
    from monitor.evaluate.indicator import short_label

    fetch(catalogue, db, server, tmp_path)
    html = app_for(db, tmp_path).test_client().get("/kilder").get_data(as_text=True)
    row = html[html.index(">12143<"):]
    row = row[:row.index("</tr>")]
    label = short_label(catalogue.get("netto_lanegjeld"))
    assert f'href="/indikator/netto_lanegjeld">{label} (kontrolltall)</a>' in row
    assert 'href="/indikator/netto_driftsresultat"' in row  # the table's own indicator, as before


def test_fetch_one_imported_indicator_fetches_its_control_figure(
    catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path
) -> None:
    """`monitor fetch --indicator netto_lanegjeld`: its value is imported, so only its control table is asked for."""
    from click.testing import CliRunner

    from monitor.cli.main import cli

    env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(catalogue_path(tmp_path)), "MONITOR_SSB_URL": server.base_url,
           "MONITOR_RAW_DIR": str(tmp_path / "raw")}
    server.reset_counters()
    result = CliRunner().invoke(cli, ["fetch", "--indicator", "netto_lanegjeld"], env=env)
    assert result.exit_code == 0, result.output
    assert "SSB 12143: nye verdier" in result.stdout and "1 tabell, 0 feilet" in result.stdout
    assert [r.path for r in server.requests if r.method == "POST"] == ["/tables/12143/data"]
    with Store(db) as store:
        assert {v.period: v.value for v in store.latest(control_key("netto_lanegjeld"))}["2021"] == 100.3
    # a source it is not fetched from is refused in one sentence, and nothing is asked
    wrong = CliRunner().invoke(cli, ["fetch", "--indicator", "netto_lanegjeld", "--source", "fhi"], env=env)
    assert wrong.exit_code != 0 and "netto_lanegjeld: hentes fra SSB, ikke FHI" in wrong.output


def test_a_failing_control_table_fails_alone_and_is_a_note_not_the_values_failure(
    catalogue: Catalogue, db: Path, server: FakePxWebApi, tmp_path: Path
) -> None:
    server.inject("/tables/12143/data", "http500", times=None)
    report = fetch(catalogue, db, server, tmp_path)
    assert [t.table for t in report.failed] == ["12143"]
    assert {t.table for t in report.tables if t.outcome == "ok"} >= {"12905"}  # the other tables go on
    with Store(db) as store:
        assert store.latest(control_key("netto_lanegjeld")) == []
        assert store.latest("vedlikehold_formalsbygg", "3203") != []
    # the value comes from import: its state does not become «Innhenting feiler»; the table's own indicator's does
    assert evaluation(catalogue, db, "netto_lanegjeld")["state"] != State.FETCH_FAILING.value
    assert evaluation(catalogue, db, "netto_driftsresultat")["state"] == State.FETCH_FAILING.value
    client = app_for(db, tmp_path).test_client()
    html = client.get("/indikator/netto_lanegjeld").get_data(as_text=True)
    assert "Kontrolltallet kunne ikke hentes ved siste forsøk: SSB" in html
    assert "Verdien kommer fra import og er ikke berørt." in html and "Ingen kontrolltall er hentet ennå." in html
    overview = client.get("/?omrade=okonomi").get_data(as_text=True)
    assert 'data-id="netto_driftsresultat" data-state="fetch_failing"' in overview
    line = overview[overview.index('data-id="netto_lanegjeld"'):]
    line = line[:line.index("</tr>")]
    assert 'data-state="fetch_failing"' not in line and "Innhenting feiler" not in line
    assert client.get("/api/indicators/netto_lanegjeld").get_json()["control"]["failure"].startswith("SSB")


def test_validate_online_checks_the_control_series(catalogue: Catalogue, server: FakePxWebApi) -> None:
    from monitor.sources.online import check_ssb_online

    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        checked, problems = check_ssb_online(catalogue, client)
    assert problems == [] and checked >= 1
    # SSB drops KG31 from 12143: the check names the control (its key), its series and the code
    metadata = json.loads((REPO / "tests/fixtures/ssb-v2/12143/metadata.json").read_text(encoding="utf-8"))
    codes = metadata["dimension"]["KOKartkap0000"]["category"]
    codes["index"] = {code: i for i, code in enumerate(c for c in codes["index"] if c != "KG31")}
    codes["label"] = {code: text for code, text in codes["label"].items() if code != "KG31"}
    server.set_metadata("12143", metadata)
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        _, problems = check_ssb_online(catalogue, client)
    assert len(problems) == 1 and problems[0].startswith("SSB 12143: netto_lanegjeld:kontroll (serie netto_lanegjeld): ")
    assert "KG31" in problems[0]


def test_disposisjonsfond_control_is_chosen_by_label_and_fails_alone_without_it(
    real_catalogue: Catalogue, server: FakePxWebApi, tmp_path: Path
) -> None:
    """The production catalogue: disposisjonsfond's control picks 12143's KOKartkap0000 by its label «Disposisjonsfond»
    (the fixture's constructed code 56, cells = the printed 15,1/18,1/18,0/14,8 %): stored, nothing flagged. A 12143
    without that label fails this control figure alone; the table's value indicator and the other control are stored."""
    db = tmp_path / "real.db"
    with Store(db) as store:
        store.migrate()
        load_fixture_baseline(store, real_catalogue, NOW, tmp_path)
    report = fetch(real_catalogue, db, server, tmp_path)
    assert report.failed == []
    with Store(db) as store:
        control = {v.period: v.value for v in store.latest(control_key("disposisjonsfond"), "3203")}
        figures = control_figures(real_catalogue, store, real_catalogue.get("disposisjonsfond"))
    assert control == {"2019": 15.1, "2020": 18.1, "2021": 18.0, "2022": 14.8, "2023": 13.9, "2024": 12.6}
    assert figures is not None and figures.flagged == [] and figures.failure is None

    metadata = json.loads((REPO / "tests/fixtures/ssb-v2/12143/metadata.json").read_text(encoding="utf-8"))
    metadata["dimension"]["KOKartkap0000"]["category"]["label"]["56"] = "Disposisjonsfond, kommunekasse"
    server.set_metadata("12143", metadata)
    data = server.data("12143")
    data["dimension"]["KOKartkap0000"]["category"]["label"]["56"] = "Disposisjonsfond, kommunekasse"
    server.set_data("12143", data, updated=NOW)
    report = fetch(real_catalogue, db, server, tmp_path)
    assert [(t.table, t.error) for t in report.failed] == [
        ("12143:disposisjonsfond:kontroll", report.failed[0].error)]
    assert "Disposisjonsfond" in (report.failed[0].error or "")
    assert {t.table: t.outcome for t in report.tables}["12143"] in ("ok", "unchanged")  # the table is not stopped
    with Store(db) as store:
        figures = control_figures(real_catalogue, store, real_catalogue.get("disposisjonsfond"))
        assert store.latest(control_key("netto_lanegjeld"), "3203") != []
    assert figures is not None and figures.failure == f"{report.failed[0].error}."  # the fetch's own bokmål sentence
    assert evaluation(real_catalogue, db, "disposisjonsfond")["state"] != State.FETCH_FAILING.value
