"""The real FHI fetcher against the local fake FHI Statistikk API: full refresh, change polling, and every fault."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from support.checks import observations_checksum
from support.clocks import FixedClock
from support.paths import FIXTURES, REPO
from support.fake_fhi import FakeFhi, answer_data
from fetchers.fhi import FhiClient
from fetchers.fhi_extract import extract
from fetchers.fhi_query import build_requests, period_end, period_of, series_meaning_problems
from fetchers.fhi_source import FhiSource
from fetchers.jsonstat import parse_dataset
from fetchers.meaning import dataset_label_of, dataset_unit_of
from monitor.seed.baseline import load_baseline
from monitor.catalogue.indicators import Catalogue, FhiSeries, load_catalogue
from monitor.sources.online import check_fhi_online
from monitor.sources.pipeline import FetchReport, IndicatorPlan, fetch_source, indicators_for
from monitor.store.rawarchive import read_archived
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
# The FHI tables indicators.yaml reads (source-evidence.md §1.2–1.3: 341, 714 and 803 found, 370 for 369; "stonad"
# found by title, tests/test_fhi_stonad.py), in the order a run reports them. Requests of a full refresh:
# Common/source, the nokkel table list (modifiedAt and the title lookup alike), one data POST per table.
TABLES = ["nokkel/341", "nokkel/360", "nokkel/370", "nokkel/714", "nokkel/803", "nokkel/809", "nokkel/stonad"]
FIXTURE_FOLDER = {"nokkel/stonad": "nokkel/999"}  # a table found by title: its fixtures are under the id it resolves to
FULL_REFRESH_REQUESTS = 2 + len(TABLES)
FHI_FETCHED = {"drikkevann_prover", "svevestov_pm25", "fastlege_muskel_skjelett", "fastlege_psykiske_plager",
               "hoftebrudd_over_75", "fullfort_videregaende", "unge_utenfor_arbeid_utdanning", "stonad_livsopphold"}
FIXTURE_DIR = FIXTURES / "fhi-api"
CONTRACT_CATALOGUE = FIXTURES / "catalogue" / "sources.yaml"  # still reads nokkel/369 (the source contract test)


@pytest.fixture
def server() -> Iterator[FakeFhi]:
    with FakeFhi(calls=30, window=60) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path, real_catalogue: Catalogue) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_baseline(store, real_catalogue, NOW)
        yield store


def run(
    catalogue: Catalogue, store: Store, server: FakeFhi, tmp_path: Path, clock: FixedClock | None = None,
    *, force: bool = False, timeout: float = 5.0,
) -> FetchReport:
    server.reset_counters()  # each run is a new process in production, hours apart
    clock = clock or FixedClock(NOW)
    with FhiClient(server.base_url, timeout=timeout, backoff=0.01) as client:
        return fetch_source(FhiSource(client, catalogue, clock=clock), IndicatorPlan(catalogue, "fhi"), store, clock=clock,
                            raw_dir=tmp_path / "raw", force=force)


def printed_baseline() -> dict[tuple[str, str], float]:
    with (REPO / "monitor" / "data" / "baseline.csv").open(encoding="utf-8") as handle:
        return {(row["indicator_id"], row["period"]): float(row["value"]) for row in csv.DictReader(handle) if row["value"]}


def fhi_values(store: Store, indicator: str) -> dict[str, tuple[float | None, str | None]]:
    return {v.period: (v.value, v.status) for v in store.latest(indicator) if v.source.startswith("fhi:")}


@pytest.mark.parametrize("code,period", [
    ("2020_2020", "2020"), ("2018_2020", "2018-2020"), ("2021_2022", "2021-2022"), ("2000_2024", "2000-2024"),
    ("2020", None), ("2020_2018", None), ("2020-2022", None),
])
def test_period_codes(code: str, period: str | None) -> None:
    assert period_of(code) == period


def test_a_series_names_its_measure_and_leaves_geo_and_time_out() -> None:
    ok = FhiSeries(table="nokkel/369", select={"KJONN": "0", "MEASURE_TYPE": "MEIS"})
    assert (ok.source_id, ok.table_id, ok.geo_dimension, ok.time_dimension) == ("nokkel", "369", "GEO", "AAR")
    with pytest.raises(ValidationError, match="MEASURE_TYPE"):
        FhiSeries(table="nokkel/369", select={"KJONN": "0"})
    with pytest.raises(ValidationError, match="geografi- eller tidsdimensjonen"):
        FhiSeries(table="nokkel/369", select={"AAR": "2020_2020", "MEASURE_TYPE": "RATE"})
    with pytest.raises(ValidationError, match="pattern"):
        FhiSeries(table="369", select={"MEASURE_TYPE": "RATE"})


def test_one_request_per_table_covers_every_series_that_reads_it(real_catalogue: Catalogue) -> None:
    request = build_requests(real_catalogue)["nokkel/370"]  # both GP rows read 370
    assert request["dimensions"] == [
        {"code": "GEO", "filter": "item", "values": ["3203"]},
        {"code": "AAR", "filter": "all", "values": ["*"]},
        {"code": "KJONN", "filter": "item", "values": ["0"]},
        {"code": "ALDER", "filter": "item", "values": ["0_74"]},
        {"code": "KODEGRUPPE", "filter": "item", "values": ["L01_L29ogL70_L71ogL82_L99", "P01_P29ogP70_P99"]},
        {"code": "MEASURE_TYPE", "filter": "item", "values": ["MEIS"]},
    ]
    assert request["response"] == {"format": "json-stat2", "maxRowCount": 50000}


def test_the_catalogue_fetches_eight_fhi_indicators_from_seven_tables(real_catalogue: Catalogue) -> None:
    assert {i.id for i in indicators_for(real_catalogue, "fhi")} == FHI_FETCHED
    assert sorted(build_requests(real_catalogue)) == TABLES
    import_only = {i.id for i in real_catalogue.indicators if i.source.kind.value == "fhi" and i.fetch is None}
    assert import_only == {"vaksinert_meslinger"}  # 395 is 5-year; stønad's table is found by title
    assert all(real_catalogue.get(i).path == "import" for i in import_only)


def test_fixtures_request_and_response_are_what_the_catalogue_asks_and_the_fake_answers(real_catalogue: Catalogue) -> None:
    requests = build_requests(real_catalogue)
    contract = build_requests(load_catalogue(CONTRACT_CATALOGUE))
    tables = {table: requests for table in TABLES} | {"nokkel/369": contract}
    assert sorted(p.parent.name for p in FIXTURE_DIR.glob("nokkel/*/request.json")) == sorted(
        FIXTURE_FOLDER.get(t, t).split("/")[1] for t in tables)  # no fixture folder without a catalogue that reads it
    for table, asked in tables.items():
        folder = FIXTURE_DIR / FIXTURE_FOLDER.get(table, table)
        assert json.loads((folder / "request.json").read_text(encoding="utf-8")) == asked[table]
        cube = json.loads((folder / "data.json").read_text(encoding="utf-8"))
        assert json.loads((folder / "response.json").read_text(encoding="utf-8")) == answer_data(cube, asked[table])


def test_the_fixture_responses_mean_what_the_catalogue_says_and_give_every_printed_value_by_its_last_year(
    real_catalogue: Catalogue,
) -> None:
    printed = printed_baseline()
    checked = 0
    for indicator in indicators_for(real_catalogue, "fhi"):
        assert indicator.fetch is not None
        [series] = indicator.fetch.series.values()  # every FHI indicator is its one series
        dataset = parse_dataset((FIXTURE_DIR / FIXTURE_FOLDER.get(series.table, series.table) / "response.json").read_bytes())
        assert series_meaning_problems(series, dataset_label_of(dataset), dataset_unit_of(dataset)) == []
        points = extract(dataset, series.table, series, real_catalogue.municipality)
        for (owner, year), value in printed.items():
            if owner != indicator.id:
                continue
            [period] = [p for p in points if period_end(p) == int(year)]  # one period ends in each printed year
            assert points[period].value is not None, (owner, period)
            assert round(points[period].value, indicator.decimals) == pytest.approx(value), (owner, period)
            checked += 1
    # drikkevann 99.9/94.1/99.9/99.9, PM2.5 4.7/4.6/5.6, fastlege 307/301 and 146/148, vgs 83/83/84, NEET
    # 8.2/8.1/7.3, stønad 12 (2017-2019: 11.9): every printed value of every FHI-fetched indicator (hoftebrudd
    # prints none)
    assert checked == sum(1 for owner, _ in printed if owner in FHI_FETCHED) == 18


def test_full_refresh_fills_the_fhi_indicators_within_five_requests(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    report = run(real_catalogue, db, server, tmp_path)
    assert report.failed == [] and [t.table for t in report.tables] == TABLES
    # Common/source, the nokkel table list (for modifiedAt), one data POST per table.
    assert server.total_requests == report.requests == FULL_REFRESH_REQUESTS and server.count_429 == 0
    assert server.path_counts["/nokkel/Table"] == 1
    fetched = {v.indicator_id for v in db.latest() if v.source.startswith("fhi:")}
    assert fetched == FHI_FETCHED
    meta = db.table_meta("fhi")
    assert meta["nokkel/714"].updated == "2026-03-02T11:18:40.250000+00:00"  # modifiedAt, not the publication date
    assert (meta["nokkel/714"].first_period, meta["nokkel/714"].last_period) == ("2013-2015", "2022-2024")
    assert (meta["nokkel/803"].first_period, meta["nokkel/803"].last_period) == ("2011-2015", "2020-2024")
    assert (meta["nokkel/370"].first_period, meta["nokkel/370"].last_period) == ("2015", "2024")
    assert meta["nokkel/809"].label == "NEET_UTDANN"


def test_rolling_periods_keep_their_span_and_match_the_printed_values_by_their_last_year(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    printed = printed_baseline()
    hip = fhi_values(db, "hoftebrudd_over_75")  # 3-year periods, from the first ending in first_year 2019
    assert list(hip) == ["2017-2019", "2018-2020", "2019-2021", "2020-2022", "2021-2023", "2022-2024"]
    assert hip["2017-2019"] == (13.8, None)  # constructed: Asker prints no value ("Tall kommer")
    pm25 = fhi_values(db, "svevestov_pm25")  # 5-year periods, as FHI's saved outputs show ("2020-2024")
    assert list(pm25) == ["2015-2019", "2016-2020", "2017-2021", "2018-2022", "2019-2023", "2020-2024"]
    muskel = fhi_values(db, "fastlege_muskel_skjelett")  # 370: single years, no rule for a period's year needed
    assert list(muskel) == ["2019", "2020", "2021", "2022", "2023", "2024"]
    assert muskel["2019"] == (307.3, None)
    compared = 0
    for indicator in sorted(FHI_FETCHED):
        decimals = real_catalogue.get(indicator).decimals
        for period, (value, _) in fhi_values(db, indicator).items():
            key = (indicator, str(period_end(period)))
            if key in printed and value is not None:
                assert round(value, decimals) == pytest.approx(printed[key]), (indicator, period)
                compared += 1
    # Stored as FHI values: PM2.5 4.7/4.6/5.6 (5-year), fastlege 307.3/301.1 and 146.2/148.4 (unrounded), vgs
    # 83/83/84 and stønad 11.9 → 12 (3-year). A single year equal to its print adds no vintage (below), so it is not
    # among them.
    assert compared == 11
    # Yearly values equal to the print: those add no vintage; the baseline's stays latest.
    neet = {v.period: v for v in db.latest("unge_utenfor_arbeid_utdanning")}
    assert [(p, neet[p].value, neet[p].source) for p in ("2019", "2020", "2021")] == [
        ("2019", 8.2, "baseline"), ("2020", 8.1, "baseline"), ("2021", 7.3, "baseline")]
    assert (neet["2022"].value, neet["2022"].source) == (7.0, "fhi:nokkel/809")  # was "Tall kommer"
    water = {v.period: v for v in db.latest("drikkevann_prover")}
    assert [(p, water[p].value, water[p].source) for p in ("2019", "2020", "2021", "2022", "2023")] == [
        ("2019", 99.9, "baseline"), ("2020", 94.1, "baseline"), ("2021", 99.9, "baseline"),
        ("2022", 99.9, "baseline"), ("2023", 99.8, "fhi:nokkel/341")]


def test_suppressed_cell_keeps_its_status_and_is_never_zero(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    suppressed = [v for v in db.vintages("unge_utenfor_arbeid_utdanning") if v.period == "2023"]
    assert [(v.value, v.status, v.source) for v in suppressed] == [(None, ":", "fhi:nokkel/809")]


def test_second_run_without_changes_costs_two_requests(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    before = observations_checksum(db)
    report = run(real_catalogue, db, server, tmp_path, FixedClock(NOW + timedelta(days=1)))
    assert server.total_requests <= 2
    assert [r.path for r in server.requests] == ["/Common/source", "/nokkel/Table"]
    assert server.requests[1].query == {"modifiedAfter": ["2026-11-25"]}  # 2 days of margin before the last check
    assert {t.outcome for t in report.tables} == {"unchanged"} and report.failed == []
    assert observations_checksum(db) == before


def test_a_table_fhi_modified_is_fetched_alone(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    later = NOW + timedelta(days=1)
    cube = server.cube("nokkel/370")
    ids, sizes = cube["id"], cube["size"]
    codes = {d: cube["dimension"][d]["category"]["index"] for d in ids}
    target = {"GEO": "3203", "AAR": "2024_2024", "KJONN": "0", "ALDER": "0_74",
              "KODEGRUPPE": "P01_P29ogP70_P99", "MEASURE_TYPE": "MEIS"}
    flat = 0
    for d, size in zip(ids, sizes):
        flat = flat * size + codes[d].index(target[d])
    cube["value"][flat] = 161.9  # FHI revises the latest period
    server.set_cube("nokkel/370", cube, modified=later - timedelta(hours=2))
    report = run(real_catalogue, db, server, tmp_path, FixedClock(later))
    assert server.total_requests == 3  # Common/source, the modifiedAfter listing, one data POST
    assert server.path_counts["/nokkel/Table/370/data"] == 1
    outcomes = {t.table: t.outcome for t in report.tables}
    assert outcomes == {table: "ok" if table == "nokkel/370" else "unchanged" for table in TABLES}
    revised = [v.value for v in db.vintages("fastlege_psykiske_plager") if v.period == "2024"]
    assert revised == [160.7, 161.9]
    assert db.table_meta("fhi")["nokkel/370"].updated == "2026-11-28T06:00:00+00:00"


def test_every_response_is_archived_with_its_sha256(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    runs = [r for r in db.runs("fhi") if r["raw_path"]]
    assert sorted(r["target"] for r in runs) == TABLES
    for logged in runs:
        body = read_archived(Path(logged["raw_path"]), logged["raw_sha256"])
        assert body.startswith(b"{") and logged["target"].replace("/", "-") in logged["raw_path"]




def test_a_server_call_limit_is_met_with_retry_after_and_the_run_completes(
    real_catalogue: Catalogue, db: Store, tmp_path: Path
) -> None:
    # FHI documents no limit; if it has a tighter one than the client's default, its 429s are waited out.
    with FakeFhi(calls=3, window=1) as tight:
        report = run(real_catalogue, db, tight, tmp_path)
        assert report.failed == []
        assert tight.rate_limited >= 1 and tight.total_requests == FULL_REFRESH_REQUESTS + tight.rate_limited


def test_a_source_fhi_no_longer_publishes_fails_every_table(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    server._sources = [s for s in server._sources if s["id"] != "nokkel"]
    report = run(real_catalogue, db, server, tmp_path)
    assert [t.table for t in report.failed] == TABLES
    assert all("publiserer ikke lenger kilden nokkel" in (t.error or "") for t in report.failed)


def test_no_server_fails_every_table_fast_and_changes_nothing(
    real_catalogue: Catalogue, db: Store, tmp_path: Path
) -> None:
    before = observations_checksum(db)
    started = time.monotonic()
    with FhiClient("http://127.0.0.1:9", timeout=2.0, backoff=0.01) as client:
        report = fetch_source(FhiSource(client, real_catalogue, clock=FixedClock(NOW)), IndicatorPlan(real_catalogue, "fhi"), db,
                              clock=FixedClock(NOW), raw_dir=tmp_path / "raw")
    assert time.monotonic() - started < 10  # fast: a refused connection, not a timeout, nor a long backoff
    assert [t.table for t in report.failed] == TABLES
    assert all("får ikke kontakt med http://127.0.0.1:9" in (t.error or "") for t in report.failed)
    assert observations_checksum(db) == before


def test_online_check_accepts_the_catalogue_and_names_a_missing_code(
    real_catalogue: Catalogue, server: FakeFhi
) -> None:
    with FhiClient(server.base_url, timeout=5.0) as client:
        assert check_fhi_online(real_catalogue, client) == (len(TABLES), [])
        document = server.dimensions("nokkel/809")
        alder = next(d for d in document["dimensions"] if d["code"] == "ALDER")
        alder["categories"] = [c for c in alder["categories"] if c["value"] != "15_24"]
        document["dimensions"].append({"code": "LANDBAK", "label": "Landbakgrunn",
                                       "categories": [{"value": "0", "label": "totalt", "children": None}]})
        server.set_dimensions("nokkel/809", document)
        tables, problems = check_fhi_online(real_catalogue, client)
    assert tables == len(TABLES)
    assert problems == [
        "FHI nokkel/809: unge_utenfor_arbeid_utdanning (serie neet): dimensjonen 'ALDER' mangler kategorikoden '15_24'",
        "FHI nokkel/809: unge_utenfor_arbeid_utdanning (serie neet): katalogen velger ingen kategori i dimensjonen "
        "'LANDBAK' (FHI krever et filter for hver dimensjon)",
    ]


def test_online_check_reports_an_unreachable_fhi_in_one_line(real_catalogue: Catalogue) -> None:
    with FhiClient("http://127.0.0.1:9", timeout=2.0, backoff=0.01) as client:
        tables, problems = check_fhi_online(real_catalogue, client)
    assert tables == 0 and len(problems) == 1 and problems[0].startswith("FHI: kildelisten (Common/source): får ikke kontakt")
