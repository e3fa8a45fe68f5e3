"""The analysts' API (issue 19): every indicator in one JSON-stat 2.0 dataset (/api/jsonstat), read by pyjstat and by
our own normaliser, with its vintages and as of a day; every stored vintage as CSV (/api/observations.csv) and
`monitor export observations`."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from support.catalogues import (
    BEHAVIOUR_CATALOGUE, PRODUCTION_CATALOGUE, baseline_cell_count, indicator_count, load_fixture_baseline,
    production_catalogue,
)
from support.paths import OSLO
from fetchers.jsonstat import parse_dataset
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.cli.main import cli
from monitor.core.model import Observation, RunRecord
from monitor.core.settings import Settings
from monitor.report import observations as observations_module
from monitor.report.dataset import DatasetTooLarge, all_indicators_dataset
from monitor.seed.baseline import BASELINE_VINTAGE
from monitor.store.database import Store
from web import create_app

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
BASELINE_AT = "2023-12-11T23:00:00+00:00"  # the handlingsprogram's adoption, 12 December 2023 in Oslo
REVISED_AT = "2026-11-27T08:30:00+00:00"  # NOW, as stored
HEADER = ["indicator_id", "name", "area", "region", "period", "value", "status", "source", "vintage", "retrieved_at",
          "source_updated"]


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue(BEHAVIOUR_CATALOGUE)


@pytest.fixture
def db(tmp_path: Path, catalogue: Catalogue) -> Path:
    """What `monitor init` makes for the fixture catalogue: the schema and the handlingsprogram's cells."""
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        store.migrate()
        load_fixture_baseline(store, catalogue, NOW, tmp_path)
    return path


def make_app(db: Path, catalogue: Path = BEHAVIOUR_CATALOGUE, **overrides: object) -> Flask:
    values: dict[str, object] = {"db": db, "catalogue": catalogue, "secret_key": "analyst-test", "read_open": True}
    values.update(overrides)
    app = create_app(Settings(**values), testing=True)  # type: ignore[arg-type]
    app.config["MONITOR_TODAY"] = "2026-11-27"
    return app


@pytest.fixture
def client(db: Path) -> FlaskClient:
    return make_app(db).test_client()


def write(db: Path, rows: list[tuple[str, str, float | None, str | None]], at: datetime = NOW, region: str = "3203",
          actor: str = "kari") -> None:
    """One import run by `actor` of new vintages (indicator, period, value, status) for `region`."""
    with Store(db) as store:
        store.write_run(
            RunRecord(source="import", target="analyse.csv", started_at=at, finished_at=at, actor=actor),
            [Observation(indicator, region, period, value, status, "import") for indicator, period, value, status in rows],
        )


def revise(db: Path) -> None:
    """A revision of netto_driftsresultat 2022 and a new 2023, and statuses of every kind for vedlikehold_formalsbygg."""
    write(db, [("netto_driftsresultat", "2022", -0.5, None), ("netto_driftsresultat", "2023", 2.1, None),
               ("vedlikehold_formalsbygg", "2023", None, ":"), ("vedlikehold_formalsbygg", "2024", None, ".."),
               ("vedlikehold_formalsbygg", "2025", None, "pending"), ("sykefravaer", "2023", None, "no_value")])


def get_dataset(client: FlaskClient, query: str = "") -> tuple[str, dict]:
    response = client.get(f"/api/jsonstat{query}")
    assert response.status_code == 200 and response.content_type == "application/json", response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    return text, json.loads(text)


def stored_vintages(db: Path, catalogue: Catalogue) -> int:
    with Store(db) as store:
        return sum(len(store.vintages(indicator.id)) for indicator in catalogue.indicators)


def test_one_dataset_holds_every_indicator_region_and_period(client: FlaskClient, db: Path, catalogue: Catalogue) -> None:
    revise(db)
    _, ds = get_dataset(client)
    ids = [indicator.id for indicator in catalogue.indicators]
    assert (ds["version"], ds["class"]) == ("2.0", "dataset")
    assert ds["id"] == ["indikator", "region", "tid"]
    assert ds["role"] == {"time": ["tid"], "geo": ["region"], "metric": ["indikator"]}
    indikator = ds["dimension"]["indikator"]["category"]
    assert list(indikator["index"]) == ids and list(indikator["index"].values()) == list(range(len(ids)))
    assert ds["dimension"]["region"]["category"] == {"index": {"3203": 0}, "label": {"3203": "Asker"}}
    assert list(ds["dimension"]["tid"]["category"]["index"]) == ["2019", "2020", "2021", "2022", "2023", "2024", "2025"]
    assert ds["size"] == [len(ids), 1, 7] and len(ds["value"]) == math.prod(ds["size"])
    assert ds["updated"] == REVISED_AT and ds["extension"]["vintages"] == "latest" and ds["extension"]["as_of"] is None
    # Units, decimals, status symbols: as the one-indicator dataset gives them.
    for indicator_id in ids:
        one = client.get(f"/api/indicators/{indicator_id}/jsonstat").get_json()
        assert indikator["unit"][indicator_id] == one["dimension"]["indikator"]["category"]["unit"][indicator_id]
        assert indikator["label"][indicator_id] == one["label"]
    assert indikator["unit"]["netto_driftsresultat"] == {"decimals": 1, "label": "%", "symbol": "%", "position": "end"}
    assert ds["extension"]["status"]["IM"] == "Ikke målt" and ds["extension"]["status"]["TK"] == "Tall kommer"
    # The area, hovedmål and delmål (and the target, for plotting against it) are extension metadata.
    netto = ds["extension"]["indicators"]["netto_driftsresultat"]
    assert netto["area"] == "Økonomi" and netto["delmal"] == "Asker kommune har en god økonomisk bærekraft"
    assert netto["hovedmal"] == "Asker er en økonomisk robust og bærekraftig kommune"
    assert (netto["target"]["desired"], netto["target"]["acceptable"]) == (3.0, 1.75)
    assert set(ds["extension"]["indicators"]) == set(ids)


def test_pyjstat_reads_the_dataset_into_a_dataframe_in_one_line(client: FlaskClient, db: Path) -> None:
    revise(db)
    text, ds = get_dataset(client)
    from pyjstat import pyjstat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyjstat.Dataset.read(text).write("dataframe")  # the one line of docs/analysts.md
    assert len(frame) == math.prod(ds["size"]) == len(ds["value"])
    assert list(frame.columns) == ["Indikator", "Region", "Tid", "value"]
    netto_name = ds["dimension"]["indikator"]["category"]["label"]["netto_driftsresultat"]
    netto = frame[frame["Indikator"] == netto_name].set_index("Tid")["value"]
    assert netto.to_dict() == pytest.approx({"2019": 4.9, "2020": 3.9, "2021": 4.4, "2022": -0.5, "2023": 2.1,
                                             "2024": math.nan, "2025": math.nan}, nan_ok=True)


def test_our_normaliser_reads_the_same_cells_and_they_match_by_hand(client: FlaskClient, db: Path,
                                                                    catalogue: Catalogue) -> None:
    revise(db)
    text, ds = get_dataset(client)
    ours = parse_dataset(text)
    assert ours.ids == ("indikator", "region", "tid") and ours.n_cells == math.prod(ds["size"])
    assert ours.roles == {"time": ["tid"], "geo": ["region"], "metric": ["indikator"]}
    assert ours.units["indikator"]["vedlikehold_formalsbygg"]["decimals"] == 0
    # A few cells by hand: a revision, a new period, each kind of status, the NO_VALUE rule, a period with none.
    by_hand = {
        ("netto_driftsresultat", "2022"): (-0.5, None), ("netto_driftsresultat", "2023"): (2.1, None),
        ("netto_driftsresultat", "2024"): (None, None), ("vedlikehold_formalsbygg", "2019"): (None, "IM"),
        ("vedlikehold_formalsbygg", "2021"): (99.0, None), ("vedlikehold_formalsbygg", "2023"): (None, ":"),
        ("vedlikehold_formalsbygg", "2024"): (None, ".."), ("vedlikehold_formalsbygg", "2025"): (None, "TK"),
        ("sykefravaer", "2022"): (9.3, None), ("sykefravaer", "2023"): (None, None),
    }
    for (indicator_id, period), expected in by_hand.items():
        cell = ours.cell(indikator=indicator_id, region="3203", tid=period)
        assert (cell.value, cell.status) == expected, (indicator_id, period)
    # Every cell is the one-indicator dataset's cell (or empty where that indicator has no such period).
    for indicator in catalogue.indicators:
        one = parse_dataset(client.get(f"/api/indicators/{indicator.id}/jsonstat").get_data())
        for cell in one.cells():
            mine = ours.cell(indikator=indicator.id, region=cell.codes[1], tid=cell.codes[2])
            assert (mine.value, mine.status) == (cell.value, cell.status), cell.codes
        held = {cell.codes[2] for cell in one.cells()}
        for period in set(ours.codes[2]) - held:
            assert ours.cell(indikator=indicator.id, tid=period)[1:] == (None, None)


def test_vintages_all_adds_the_versjon_dimension_of_what_was_known_at_each_moment(client: FlaskClient, db: Path) -> None:
    revise(db)
    text, ds = get_dataset(client, "?vintages=all")
    assert ds["id"] == ["indikator", "region", "tid", "versjon"] and ds["extension"]["vintages"] == "all"
    versjon = ds["dimension"]["versjon"]["category"]
    assert versjon["index"] == {BASELINE_AT: 0, REVISED_AT: 1}
    assert versjon["label"] == {BASELINE_AT: BASELINE_VINTAGE, REVISED_AT: REVISED_AT}
    ours = parse_dataset(text)
    assert ours.n_cells == math.prod(ds["size"]) == ds["size"][0] * 1 * 7 * 2
    netto = [ours.cell(indikator="netto_driftsresultat", tid=p, versjon=v)[1:] for p in ("2022", "2023")
             for v in (BASELINE_AT, REVISED_AT)]
    assert netto == [(-0.7, None), (-0.5, None), (None, None), (2.1, None)]
    assert ours.cell(indikator="vedlikehold_formalsbygg", tid="2019", versjon=REVISED_AT)[1:] == (None, "IM")  # carried
    # The newest moment is the latest dataset; the first one is what the baseline said.
    for query, moment in (("", REVISED_AT), ("?as_of=2026-11-26", BASELINE_AT)):
        sliced = parse_dataset(get_dataset(client, query)[0])
        assert sliced.n_cells > 0
        for cell in sliced.cells():
            codes = dict(zip(sliced.ids, cell.codes))
            assert ours.cell(**codes, versjon=moment)[1:] == (cell.value, cell.status), (query, cell.codes)
    from pyjstat import pyjstat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyjstat.Dataset.read(text).write("dataframe")
    assert len(frame) == len(ds["value"]) and "Versjon (kjent fra)" in frame.columns


def test_as_of_gives_what_was_known_that_day(client: FlaskClient, db: Path) -> None:
    revise(db)
    text, before = get_dataset(client, "?as_of=2026-11-26")
    ours = parse_dataset(text)
    assert before["extension"]["as_of"] == "2026-11-26" and before["updated"] == BASELINE_AT
    assert list(before["dimension"]["tid"]["category"]["index"]) == ["2019", "2020", "2021", "2022"]
    assert ours.cell(indikator="netto_driftsresultat", tid="2022").value == -0.7
    _, after = get_dataset(client, "?as_of=2026-11-27")  # known by the end of the day, Oslo time
    assert parse_dataset(json.dumps(after)).cell(indikator="netto_driftsresultat", tid="2022").value == -0.5
    _, nothing = get_dataset(client, "?as_of=2023-12-11")  # the evening before the adoption, Oslo time
    assert nothing["size"][1:] == [0, 0] and nothing["value"] == [] and "updated" not in nothing
    _, adopted = get_dataset(client, "?as_of=2023-12-12&vintages=all")
    assert adopted["dimension"]["versjon"]["category"]["index"] == {BASELINE_AT: 0}


@pytest.mark.parametrize("query", ["?as_of=2025-13-01", "?as_of=30.06.2025", "?as_of=20250630", "?as_of=2025-02-30",
                                   "?as_of=2025-W01-1", "?vintages=alle", "?vintages="])
def test_a_bad_option_is_a_400_in_bokmal(client: FlaskClient, query: str) -> None:
    for path in ("/api/jsonstat", "/api/observations.csv"):
        if "vintages" in query and path.endswith(".csv"):
            continue
        response = client.get(path + query)
        assert response.status_code == 400 and response.content_type == "application/json", (path, query)
        body = response.get_json()
        assert body["error"] == "Ugyldig forespørsel" and body["status"] == 400
        assert body["detail"].startswith("Ugyldig "), body
    assert "ÅÅÅÅ-MM-DD" in client.get("/api/jsonstat?as_of=2025-13-01").get_json()["detail"]


def test_other_regions_and_former_codes_are_regions_of_their_own(client: FlaskClient, db: Path) -> None:
    write(db, [("sykefravaer", "2022", 6.1, None)], region="0301")
    write(db, [("sykefravaer", "2021", 8.5, None)], region="3025")
    text, ds = get_dataset(client)
    assert ds["dimension"]["region"]["category"]["label"] == {"0301": "0301", "3025": "Asker (til 2023)", "3203": "Asker"}
    ours = parse_dataset(text)
    assert ours.cell(indikator="sykefravaer", region="0301", tid="2022").value == 6.1
    assert ours.cell(indikator="sykefravaer", region="3203", tid="2022").value == 9.3
    assert ours.cell(indikator="netto_driftsresultat", region="0301", tid="2022")[1:] == (None, None)


def test_a_dataset_too_large_is_refused_with_what_to_ask_for_instead(db: Path, catalogue: Catalogue) -> None:
    with Store(db) as store:
        cells = math.prod(all_indicators_dataset(catalogue, store)["size"])
        assert math.prod(all_indicators_dataset(catalogue, store, max_cells=cells)["size"]) == cells
        with pytest.raises(DatasetTooLarge, match="observations.csv"):
            all_indicators_dataset(catalogue, store, max_cells=cells - 1)


def test_the_production_catalogue_with_only_the_baseline_gives_all_88_indicators(tmp_path: Path) -> None:
    env = {"MONITOR_DB": str(tmp_path / "monitor.db"), "MONITOR_CATALOGUE": str(PRODUCTION_CATALOGUE)}
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    client = make_app(tmp_path / "monitor.db", PRODUCTION_CATALOGUE).test_client()
    text, ds = get_dataset(client)
    assert ds["size"][0] == indicator_count() == 88
    assert list(ds["dimension"]["indikator"]["category"]["index"]) == [i.id for i in production_catalogue().indicators]
    ours = parse_dataset(text)
    held = [cell for cell in ours.cells() if cell.value is not None or cell.status is not None]
    assert len(held) == baseline_cell_count()  # every printed cell, and nothing else
    rows = list(csv.reader(io.StringIO(client.get("/api/observations.csv").get_data(as_text=True)), delimiter=";"))
    assert len(rows) - 1 == baseline_cell_count()


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    assert b"\r\n" in data
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_observations_csv_has_one_row_per_stored_vintage(client: FlaskClient, db: Path, catalogue: Catalogue) -> None:
    revise(db)
    response = client.get("/api/observations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="observasjoner.csv"'
    rows = read_csv(response.get_data())
    assert rows[0] == HEADER
    body = [dict(zip(HEADER, row)) for row in rows[1:]]
    assert len(body) == stored_vintages(db, catalogue)
    assert [row["indicator_id"] for row in body] == sorted(
        (row["indicator_id"] for row in body), key=[i.id for i in catalogue.indicators].index)  # catalogue order
    netto_2022 = [row for row in body if (row["indicator_id"], row["period"]) == ("netto_driftsresultat", "2022")]
    assert [(r["value"], r["source"], r["vintage"], r["retrieved_at"]) for r in netto_2022] == [
        ("-0.7", "baseline", BASELINE_VINTAGE, BASELINE_AT), ("-0.5", "import", "", REVISED_AT)]
    first = netto_2022[0]
    assert first["name"].startswith("Netto driftsresultat") and first["area"] == "Økonomi" and first["region"] == "3203"
    assert first["source_updated"] == "2023-12-12"
    statuses = {(r["indicator_id"], r["period"]): (r["value"], r["status"]) for r in body if r["source"] == "import"}
    assert statuses[("vedlikehold_formalsbygg", "2023")] == ("", ":")
    assert statuses[("vedlikehold_formalsbygg", "2025")] == ("", "TK")
    assert statuses[("sykefravaer", "2023")] == ("", "")  # NO_VALUE: empty, with no status
    vedlikehold = {r["period"]: r["value"] for r in body if r["indicator_id"] == "vedlikehold_formalsbygg"}
    assert (vedlikehold["2019"], vedlikehold["2021"]) == ("", "99")  # machine-readable: no '99,0', no '99.0'
    assert all(float(r["value"]) == float(r["value"]) for r in body if r["value"])


def test_neither_answer_names_the_importer(client: FlaskClient, db: Path) -> None:
    write(db, [("sykefravaer", "2023", 9.1, None)], actor="kari.nordmann")
    for path in ("/api/jsonstat", "/api/jsonstat?vintages=all", "/api/observations.csv"):
        assert "kari.nordmann" not in client.get(path).get_data(as_text=True), path


def test_observations_csv_as_of_and_in_pieces(client: FlaskClient, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    revise(db)
    response = client.get("/api/observations.csv?as_of=2026-11-26")
    assert response.headers["Content-Disposition"] == 'attachment; filename="observasjoner-per-2026-11-26.csv"'
    rows = read_csv(response.get_data())
    assert {row[HEADER.index("retrieved_at")] for row in rows[1:]} == {BASELINE_AT}
    whole = client.get("/api/observations.csv").get_data()
    monkeypatch.setattr(observations_module, "CHUNK_ROWS", 3)
    pieces = list(client.get("/api/observations.csv").response)
    assert len(pieces) > 10 and b"".join(pieces) == whole


def test_closed_reading_refuses_anonymous_analysts_too(db: Path) -> None:
    client = make_app(db, read_open=False).test_client()
    for path in ("/api/jsonstat", "/api/jsonstat?vintages=all", "/api/observations.csv"):
        response = client.get(path)
        assert response.status_code == 401 and response.content_type == "application/json", path


def test_export_observations_as_csv_and_xlsx(db: Path, tmp_path: Path, catalogue: Catalogue, client: FlaskClient) -> None:
    revise(db)
    env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE)}
    out = tmp_path / "ut" / "alle.csv"
    result = CliRunner().invoke(cli, ["export", "observations", "--format", "csv", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    count = stored_vintages(db, catalogue)
    assert result.output.strip() == f"{out}: {count} rader."
    assert out.read_bytes() == client.get("/api/observations.csv").get_data()

    xlsx = tmp_path / "alle.xlsx"
    result = CliRunner().invoke(cli, ["export", "observations", "--format", "xlsx", "--out", str(xlsx),
                                      "--as-of", "2026-11-26"], env=env)
    assert result.exit_code == 0, result.output
    assert "slik dataene var kjent 2026-11-26" in result.output
    book = load_workbook(xlsx, read_only=True)
    rows = list(book["Observasjoner"].iter_rows(values_only=True))
    book.close()
    assert list(rows[0]) == HEADER and len(rows) - 1 == count - 6  # the six imported vintages came later
    netto = [row for row in rows[1:] if row[0] == "netto_driftsresultat" and row[4] == "2022"]
    assert netto == [("netto_driftsresultat", netto[0][1], "Økonomi", "3203", "2022", -0.7, None, "baseline",
                      BASELINE_VINTAGE, BASELINE_AT, "2023-12-12")]
    assert not list(tmp_path.glob(".*.tmp"))

    result = CliRunner().invoke(cli, ["export", "observations", "--format", "csv", "--out", str(out), "--as-of", "2026-13-01"],
                                env=env)
    assert result.exit_code != 0 and "2026-13-01" in result.output


def test_rows_spill_over_to_a_new_sheet_at_excels_limit(db: Path, tmp_path: Path, catalogue: Catalogue,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observations_module, "SHEET_ROWS", 30)
    out = tmp_path / "alle.xlsx"
    with Store(db) as store:
        count = observations_module.write_xlsx(catalogue, store, out)
    book = load_workbook(out, read_only=True)
    sizes = [len(list(sheet.iter_rows())) - 1 for sheet in book.worksheets]
    book.close()
    assert book.sheetnames[:2] == ["Observasjoner", "Observasjoner 2"] and sum(sizes) == count > 60
    assert len(sizes) == -(-count // 30) and all(size == 30 for size in sizes[:-1])


def test_an_empty_database_gives_an_empty_dataset_and_a_header(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    with Store(empty) as store:
        store.migrate()
    client = make_app(empty).test_client()
    text, ds = get_dataset(client, "?vintages=all")
    assert ds["size"][1:] == [0, 0, 0] and ds["value"] == [] and parse_dataset(text).n_cells == 0
    assert read_csv(client.get("/api/observations.csv").get_data()) == [HEADER]
