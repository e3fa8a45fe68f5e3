"""The real SSB fetcher against the local fake PxWebApi: full refresh, conditional fetch, and every fault."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from support.checks import observations_checksum
from support.clocks import FixedClock
from support.paths import REPO
from support.fake_pxwebapi import FakePxWebApi
from fetchers.ssb import SsbClient
from monitor.seed.baseline import load_baseline
from monitor.catalogue.indicators import Catalogue
from monitor.sources.pipeline import FetchReport, fetch_ssb, ssb_indicators
from monitor.store.rawarchive import read_archived
from monitor.core.model import control_key
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
TABLES = 20  # 18 + 09475 and 08243 (valgdeltakelse_endring)
# a full refresh: /config, one data POST per table, and 12143's metadata (disposisjonsfond's control figure chooses its
# KOKartkap0000 code by its label, looked up before the data request)
FULL_REFRESH_REQUESTS = TABLES + 2


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=30, window=60, now=NOW) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path, real_catalogue: Catalogue) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_baseline(store, real_catalogue, NOW)
        yield store


def run(
    catalogue: Catalogue, store: Store, server: FakePxWebApi, tmp_path: Path, clock: FixedClock | None = None,
    *, force: bool = False, timeout: float = 5.0,
) -> FetchReport:
    # Each run is a new process in production, hours apart; here the server's call window starts afresh.
    server.reset_counters()
    with SsbClient(server.base_url, timeout=timeout, backoff=0.01) as client:
        return fetch_ssb(catalogue, store, client, clock=clock or FixedClock(NOW), raw_dir=tmp_path / "raw", force=force)


def printed_baseline() -> dict[tuple[str, str], float]:
    with (REPO / "monitor" / "data" / "baseline.csv").open(encoding="utf-8") as handle:
        return {(row["indicator_id"], row["period"]): float(row["value"]) for row in csv.DictReader(handle) if row["value"]}


def test_full_refresh_fills_all_24_indicators_within_the_call_limit(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    report = run(real_catalogue, db, server, tmp_path)
    assert report.failed == []
    assert len(report.tables) == TABLES
    assert server.total_requests <= FULL_REFRESH_REQUESTS and report.requests == server.total_requests
    assert server.count_429 == 0
    indicators = ssb_indicators(real_catalogue)
    # 22 printed "SSB …" + valgdeltakelse_endring, arsverk_fagutdanning_helse (FETCHED_FROM_SSB); netto_lanegjeld is
    # imported, with a control figure
    assert len(indicators) == 24
    fetched = {v.indicator_id for v in db.latest() if v.source.startswith("ssb:")}
    # netto_lanegjeld and disposisjonsfond are imported; their 12143 figures are stored as their control figures,
    # never as their values (issue 20)
    assert fetched == {i.id for i in indicators} | {control_key("netto_lanegjeld"), control_key("disposisjonsfond")}


def test_derived_and_direct_values_equal_the_printed_handlingsprogram(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    printed = printed_baseline()
    compared = 0
    for indicator in ssb_indicators(real_catalogue):
        latest = {v.period: v for v in db.latest(indicator.id)}
        for period in ("2019", "2020", "2021", "2022"):
            if (indicator.id, period) not in printed:
                continue
            # No SSB value that differs from a printed one: an equal value adds no vintage.
            ssb_values = [v.value for v in db.vintages(indicator.id) if v.period == period and v.source.startswith("ssb:")]
            assert all(round(value, indicator.decimals) == pytest.approx(printed[(indicator.id, period)])
                       for value in ssb_values if value is not None), (indicator.id, period, ssb_values)
            # Derived values keep SSB's full precision; rounded as printed, they are the printed value.
            assert round(latest[period].value, indicator.decimals) == pytest.approx(printed[(indicator.id, period)])
            compared += 1
    # every numeric 2019–2022 cell of the 24 SSB indicators (valgdeltakelse_endring: 2, arsverk_fagutdanning_helse: 3)
    assert compared == 83
    growth = {v.period: v.value for v in db.vintages("befolkningsvekst") if v.source.startswith("ssb:")}
    assert [round(growth[year], 1) for year in ("2019", "2020", "2021", "2022")] == [0.8, 0.5, 1.2, 1.8]


def test_identical_values_add_no_vintage_and_baseline_stays(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    netto = [(v.period, v.vintage, v.value) for v in db.vintages("netto_driftsresultat") if v.period == "2022"]
    # SSB's -0.7 equals the printed value: one vintage, the handlingsprogram's.
    assert netto == [("2022", "Handlingsprogram 2024–2027", -0.7)]
    latest_2024 = [v for v in db.latest("netto_driftsresultat") if v.period == "2024"]
    assert len(latest_2024) == 1 and latest_2024[0].source == "ssb:12143"


def test_second_run_without_changes_costs_two_requests(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    before = observations_checksum(db)
    server.reset_counters()
    report = run(real_catalogue, db, server, tmp_path, FixedClock(NOW + timedelta(days=1)))
    assert server.total_requests <= 2
    assert {t.outcome for t in report.tables} == {"unchanged"} and report.failed == []
    assert observations_checksum(db) == before


def test_a_table_ssb_updated_is_fetched_alone(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    later = NOW + timedelta(days=1)
    server.now = later
    data = server.data("01222")
    position = data["id"].index("Tid")
    times = list(data["dimension"]["Tid"]["category"]["index"])
    assert times[-1] == "2024K4"
    # SSB revises the last quarter: population one person higher.
    last = len(data["value"]) - 1 if position == len(data["id"]) - 1 else None
    assert last is not None
    data["value"][last] = data["value"][last] + 1
    server.set_data("01222", data, updated=later - timedelta(hours=2))
    server.reset_counters()
    report = run(real_catalogue, db, server, tmp_path, FixedClock(later))
    assert server.path_counts["/tables/01222/data"] == 1
    assert server.total_requests == 3  # /config, /tables?pastDays, one data call
    outcomes = {t.table: t.outcome for t in report.tables}
    assert outcomes["01222"] == "ok" and outcomes["07984"] == "unchanged"
    assert len([v for v in db.vintages("befolkningsvekst") if v.period == "2024"]) == 2
    # arbeidsplassvekst uses 01222 and 07984: 07984 came from the raw archive, with no request.
    assert len([v for v in db.vintages("arbeidsplassvekst_av_befolkningsvekst") if v.period == "2024"]) == 2


def test_every_response_is_archived_with_its_sha256(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    runs = [r for r in db.runs("ssb") if r["raw_path"]]
    assert len(runs) == TABLES
    for logged in runs:
        body = read_archived(Path(logged["raw_path"]), logged["raw_sha256"])
        assert body.startswith(b"{") and logged["target"] in logged["raw_path"]




def test_discontinued_table_is_flagged(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    later = NOW + timedelta(days=1)
    server.now = later
    server.update_table("06505", discontinued=True, updated="2026-11-27T07:00:00Z")
    report = run(real_catalogue, db, server, tmp_path, FixedClock(later))
    flagged = [t.table for t in report.tables if t.discontinued]
    assert flagged == ["06505"]
    assert db.table_meta("ssb")["06505"].discontinued


def test_no_server_fails_every_table_fast_and_changes_nothing(
    real_catalogue: Catalogue, db: Store, tmp_path: Path
) -> None:
    before = observations_checksum(db)
    started = datetime.now()
    with SsbClient("http://127.0.0.1:9", timeout=2.0, backoff=0.01) as client:
        report = fetch_ssb(real_catalogue, db, client, clock=FixedClock(NOW), raw_dir=tmp_path / "raw")
    assert (datetime.now() - started).total_seconds() < 10
    assert len(report.failed) == TABLES
    assert all("får ikke kontakt med http://127.0.0.1:9" in (t.error or "") for t in report.failed)
    assert observations_checksum(db) == before


def test_throttle_follows_a_tight_server_limit_without_a_single_429(
    real_catalogue: Catalogue, db: Store, tmp_path: Path
) -> None:
    # /config announces 10 calls per second: the client keeps to 9, so the server never refuses one.
    with FakePxWebApi(calls=10, window=1, now=NOW) as tight:
        report = run(real_catalogue, db, tight, tmp_path)
        assert report.failed == []
        assert tight.total_requests == FULL_REFRESH_REQUESTS
        assert tight.count_429 == 0


def test_a_table_ssb_keeps_refusing_as_too_large_fails_after_splitting_down_to_single_periods(
    real_catalogue: Catalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    # Issue 9: a lasting 403 "too many cells" used to recurse without end (metadata, split, metadata, …).
    run(real_catalogue, db, server, tmp_path)
    before = observations_checksum(db)
    server.inject("/tables/04861/data", "http403_cells", times=None)
    report = run(real_catalogue, db, server, tmp_path, force=True)
    assert [t.table for t in report.failed] == ["04861"]
    assert server.path_counts["/tables/04861/metadata"] <= 1
    assert observations_checksum(db) == before
