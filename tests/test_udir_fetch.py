"""The real Udir fetcher against the local fake export API: filling the indicators, suppression, every fault.

Every failure must be loud: a failed table in fetch_runs whose message says the API is unstable and that
the indicator can be fed by `monitor import`; and nothing stored changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue, load_fixture_baseline
from support.checks import observations_checksum
from support.clocks import FixedClock
from support.fake_udir import FakeUdir
from fetchers.udir import UdirClient
from fetchers.udir_source import UdirSource
from monitor.catalogue.indicators import Catalogue
from monitor.sources.pipeline import FetchReport, IndicatorPlan, fetch_source, indicators_for
from monitor.store.rawarchive import read_archived
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
FETCHED = {"mobbing_7_trinn", "mobbing_10_trinn"}


@pytest.fixture
def server() -> Iterator[FakeUdir]:
    with FakeUdir(calls=60, window=60) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path, behaviour_catalogue: Catalogue) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_fixture_baseline(store, behaviour_catalogue, NOW, tmp_path)
        yield store


def run(
    catalogue: Catalogue, store: Store, server: FakeUdir | str, tmp_path: Path, clock: FixedClock | None = None,
    *, timeout: float = 5.0,
) -> FetchReport:
    url = server if isinstance(server, str) else server.base_url
    if not isinstance(server, str):
        server.reset_counters()  # each run is a new process in production, hours apart
    with UdirClient(url, timeout=timeout, backoff=0.01) as client:
        return fetch_source(UdirSource(client, catalogue), IndicatorPlan(catalogue, "udir"), store, clock=clock or FixedClock(NOW), raw_dir=tmp_path / "raw")


def udir_values(store: Store, indicator: str) -> dict[str, tuple[float | None, str | None]]:
    return {v.period: (v.value, v.status) for v in store.vintages(indicator) if v.source == "udir:150"}


# The columns of table 150 in order, as the Udir column test app checks them ("mobbing_GSK").
COLUMNS_150 = [
    "SpoersmaalNivaa", "Spoersmaalgruppekode", "Spoersmaalgruppe", "Spoersmaalkode", "Spoersmaalnavn", "Skoleaarnavn",
    "EnhetNivaa", "Nasjonaltkode", "Nasjonalt", "Fylkekode", "Fylke", "Kommunekode", "Kommune", "Organisasjonsnummer",
    "EnhetNavn", "GruppeNivaa", "GruppeKode", "GruppeNavn", "TrinnNivaa", "TrinnKode", "Trinnnavn", "EierformNivaa",
    "Eierformkode", "EierformNavn", "KjoennNivaa", "KjoennKode", "Kjoenn", "AndelMobbet", "AntallBesvart", "Sidenummer",
    "RaderSide", "RaderTotalt",
]


def test_the_fake_answers_like_the_real_api(server: FakeUdir) -> None:
    import httpx

    url = f"{server.base_url}/Eksport/150"
    rows = httpx.get(f"{url}/data", params={"filter": "TidID(202212)_EnhetNivaa(1)_KjoennID(-10)", "sideNummer": 1}).json()
    assert rows and all(list(row) == COLUMNS_150 for row in rows)
    assert {row["Skoleaarnavn"] for row in rows} == {"2022-23"} and {row["EnhetNivaa"] for row in rows} == {1}
    missing = httpx.get(f"{url}/data")
    assert missing.status_code == 400 and missing.json()["melding"] == "Filter må oppgis!"
    commas = httpx.get(f"{url}/sideData", params={"filter": "TidID(202112,202212)"})
    assert commas.status_code == 400 and commas.json()["melding"] == "Feil format på filtrene!"
    assert httpx.get(f"{url}/sideData", params={"filter": "TidID(202212)"}).json() == [{"JSONSider": 1}]


def test_only_the_udir_indicators_with_a_fetch_block_are_fetched(behaviour_catalogue: Catalogue) -> None:
    assert {i.id for i in indicators_for(behaviour_catalogue, "udir")} == FETCHED
    udir = [i for i in behaviour_catalogue.indicators if i.source.kind.value == "udir"]
    assert {i.id for i in udir if i.fetch is None} == {"trivsel_skolen"}  # fed by `monitor import`


def test_a_run_fills_both_indicators_with_four_requests(
    behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path
) -> None:
    report = run(behaviour_catalogue, db, server, tmp_path)
    assert report.failed == [] and [t.table for t in report.tables] == ["150"]
    # filterVerdier, sideData, one data page; the baseline's 2021 and 2022 are the same numbers: no new vintage.
    assert server.total_requests == 3 == report.requests
    assert udir_values(db, "mobbing_7_trinn") == {"2023": (8.1, None), "2024": (7.3, None), "2025": (7.0, None)}
    latest = {v.period: v for v in db.latest("mobbing_7_trinn")}
    assert (latest["2021"].value, latest["2022"].value) == (6.9, 7.6)
    assert latest["2021"].vintage == "Handlingsprogram 2024–2027"
    assert {v.region for v in db.latest("mobbing_10_trinn")} == {"3203"}
    assert db.table_meta("udir")["150"].first_period == "202112"
    assert db.table_meta("udir")["150"].last_period == "202512"


def test_the_query_is_the_real_filter_syntax(behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path) -> None:
    run(behaviour_catalogue, db, server, tmp_path)
    data = next(r for r in server.requests if r.path == "/Eksport/150/data")
    assert data.query["filter"] == [
        "TidID(202112_202212_202312_202412_202512)_EnhetID(-1132)_TrinnID(6_9)_SpoersmaalID(-50)_KjoennID(-10)_EierformID(-10)"
    ]
    assert data.query["sideNummer"] == ["1"] and data.query["format"] == ["0"]


def test_a_suppressed_cell_keeps_its_status_never_zero(
    behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path
) -> None:
    run(behaviour_catalogue, db, server, tmp_path)
    tenth = udir_values(db, "mobbing_10_trinn")
    assert tenth["2024"] == (None, ":")  # Udir's "*": prikket
    assert tenth["2023"] == (4.9, None) and tenth["2025"] == (5.2, None)
    assert all(value != 0 for value, _ in tenth.values())


def test_every_page_is_fetched_and_archived(behaviour_catalogue: Catalogue, db: Store, tmp_path: Path) -> None:
    with FakeUdir(page_size=3) as paged:
        report = run(behaviour_catalogue, db, paged, tmp_path)
        assert report.failed == []
        assert paged.path_counts["/Eksport/150/data"] == 4  # 11 rows, 3 to a page
    [logged] = [r for r in db.runs("udir") if r["target"] == "150"]
    paths, digests = logged["raw_path"].split("\n"), logged["raw_sha256"].split("\n")
    assert len(paths) == 4
    pages = [read_archived(Path(p), d) for p, d in zip(paths, digests)]
    assert all(page.startswith(b"[") for page in pages)
    assert udir_values(db, "mobbing_7_trinn")["2025"] == (7.0, None)


def test_a_second_run_fetches_again_and_changes_nothing(
    behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path
) -> None:
    run(behaviour_catalogue, db, server, tmp_path)
    before = observations_checksum(db)
    report = run(behaviour_catalogue, db, server, tmp_path, FixedClock(NOW + timedelta(days=1)))
    assert [t.outcome for t in report.tables] == ["unchanged"] and server.total_requests == 3
    assert observations_checksum(db) == before


def test_a_revised_figure_becomes_a_new_vintage(behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path) -> None:
    run(behaviour_catalogue, db, server, tmp_path)
    rows = server.rows("150")
    for row in rows:
        if (row["Kommunekode"], row["EnhetNivaa"], row["Skoleaarnavn"], row["TrinnKode"]) == ("3203", 3, "2025-26", "10"):
            row["AndelMobbet"] = "5,3" if row["Spoersmaalkode"] == "EUIndeks_1398" else row["AndelMobbet"]
    server.set_rows("150", rows)
    report = run(behaviour_catalogue, db, server, tmp_path, FixedClock(NOW + timedelta(days=1)))
    assert [(t.outcome, t.new) for t in report.tables] == [("ok", 1)]
    assert [v.value for v in db.vintages("mobbing_10_trinn") if v.period == "2025"] == [5.2, 5.3]




@pytest.mark.parametrize("endpoint", ["/Eksport/150/filterVerdier", "/Eksport/150/sideData"])
def test_the_other_endpoints_fail_as_loudly(
    behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path, endpoint: str
) -> None:
    before = observations_checksum(db)
    server.inject(endpoint, "changed_column" if endpoint.endswith("Verdier") else "empty", times=None,
                  rename={"TidID": "SkoleaarID"})
    report = run(behaviour_catalogue, db, server, tmp_path)
    [failed] = report.failed
    expected = "filterVerdier mangler filteret TidID" if endpoint.endswith("Verdier") else "ventet [{\"JSONSider\": n}]"
    assert expected in (failed.error or "") and "`monitor import`" in (failed.error or "")
    assert observations_checksum(db) == before


def test_a_dropped_index_code_is_named(behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path) -> None:
    values = server.filter_values("150")
    values["SpoersmaalID"] = [v for v in values["SpoersmaalID"] if v["kode"] != "EUIndeks_1398"]
    server.set_filter_values("150", values)
    [failed] = run(behaviour_catalogue, db, server, tmp_path).failed
    assert "SpoersmaalID-koden EUIndeks_1398 finnes ikke lenger" in (failed.error or "")
    assert server.path_counts["/Eksport/150/data"] == 0


def test_rows_for_every_kjoenn_are_refused_not_summed(
    behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path
) -> None:
    # Udir drops the KjoennID filter: the answer then holds boys, girls and all; never add them up.
    values = server.filter_values("150")
    del values["KjoennID"]
    server.set_filter_values("150", values)
    before = observations_checksum(db)
    [failed] = run(behaviour_catalogue, db, server, tmp_path).failed
    assert "3 rader for Asker 2025" in (failed.error or "") and "`monitor import`" in (failed.error or "")
    assert observations_checksum(db) == before


def test_an_unreachable_api_fails_fast_and_loud(behaviour_catalogue: Catalogue, db: Store, tmp_path: Path) -> None:
    before = observations_checksum(db)
    started = time.monotonic()
    report = run(behaviour_catalogue, db, "http://127.0.0.1:9", tmp_path, timeout=2.0)
    assert time.monotonic() - started < 10  # fast: a refused connection, not a timeout, nor a long backoff
    [failed] = report.failed
    assert "får ikke kontakt med http://127.0.0.1:9" in (failed.error or "") and "`monitor import`" in (failed.error or "")
    assert observations_checksum(db) == before


def test_a_fetched_udir_indicator_can_still_be_imported(
    behaviour_catalogue: Catalogue, db: Store, server: FakeUdir, tmp_path: Path
) -> None:
    from monitor.imports.indicators import import_file

    server.inject("/Eksport/150/data", "http503", times=None)
    assert run(behaviour_catalogue, db, server, tmp_path).failed
    csv = tmp_path / "mobbing.csv"
    csv.write_text("indicator_id;period;value\nmobbing_7_trinn;2023;8,0\nmobbing_10_trinn;2023;4,8\n", encoding="utf-8")
    result = import_file(db, behaviour_catalogue, csv, now=NOW, actor="test")
    assert result.new_vintages == 2
    latest = {v.period: v for v in db.latest("mobbing_7_trinn")}
    assert latest["2023"].value == 8.0 and latest["2023"].source == "import"


# ---- `monitor validate --online` and `monitor fetch --source udir` ----------------------------------


def test_online_check_passes_and_names_what_changed(behaviour_catalogue: Catalogue, server: FakeUdir) -> None:
    from monitor.sources.online import check_udir_online

    with UdirClient(server.base_url, backoff=0.01) as client:
        assert check_udir_online(behaviour_catalogue, client) == (1, [])
        server.inject("/Eksport/150/data", "changed_column", times=None)
        tables, problems = check_udir_online(behaviour_catalogue, client)
        assert tables == 1 and len(problems) == 2
        assert problems[0].startswith("Udir 150: mobbing_7_trinn (serie mobbing): svaret mangler kolonnen AndelMobbet")
        server.clear_faults()
        values = server.filter_values("150")
        values["TrinnID"] = [v for v in values["TrinnID"] if v["kode"] != "10"]
        server.set_filter_values("150", values)
        assert check_udir_online(behaviour_catalogue, client)[1] == [
            "Udir 150: mobbing_10_trinn (serie mobbing): TrinnID-koden 10 finnes ikke lenger (har 5, 6, 7, 8, 9)"
        ]
    with UdirClient("http://127.0.0.1:9", timeout=2.0, backoff=0.01) as client:
        tables, problems = check_udir_online(behaviour_catalogue, client)
    assert tables == 0 and "får ikke kontakt" in problems[0] and "`monitor import`" in problems[0]


def test_cli_fetch_source_udir_reports_each_table_and_fails_loudly(server: FakeUdir, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli.main import cli

    env = {
        "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
        "MONITOR_BASELINE": str(baseline_for(load_behaviour_catalogue(), tmp_path)),
        "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_UDIR_URL": server.base_url,
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    result = runner.invoke(cli, ["fetch", "--source", "udir"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "Udir 150: nye verdier (6 nye verdier)" in result.stdout
    assert "1 tabell, 0 feilet, 3 forespørsler til Udir." in result.stdout
    server.inject("/Eksport/150/data", "http400", times=None)
    result = runner.invoke(cli, ["fetch", "--indicator", "mobbing_7_trinn"], env=env)
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if line.startswith("FEIL")]
    assert line.startswith("FEIL Udir 150: tabell 150 (data, side 1): HTTP 400: Feil i forespørselen")
    assert line.endswith("mates med `monitor import`")
