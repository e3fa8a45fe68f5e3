"""The KOSTRA fetch asks SSB what changed before fetching, like the indicator fetch (GET /tables?pastDays=N)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.paths import FIXTURES, OSLO, REPO
from support.fake_pxwebapi import FakePxWebApi
from fetchers.ssb import SsbClient
from monitor.cli.main import cli
from monitor.catalogue.kostra import KOSTRA_SOURCE, KostraCatalogue, load_kostra
from monitor.sources.kostra import fetch_kostra
from monitor.sources.pipeline import CHECK_TARGET, FetchReport
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)


@pytest.fixture(scope="module")
def kostra() -> KostraCatalogue:
    return load_kostra(REPO / "kostra.yaml")


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(FIXTURES / "ssb-v2-kostra", now=NOW) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as opened:
        opened.migrate()
        yield opened


def run(kostra: KostraCatalogue, store: Store, server: FakePxWebApi, tmp_path: Path, at: datetime,
        force: bool = False) -> tuple[FetchReport, list[str]]:
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        report = fetch_kostra(kostra, store, client, clock=lambda: at, raw_dir=tmp_path / "raw", force=force)
    return report, [request.path for request in server.requests]


def data_requests(paths: list[str]) -> list[str]:
    return sorted(path.split("/")[2] for path in paths if path.endswith("/data"))


def test_the_first_run_fetches_everything_and_the_next_only_what_ssb_updated(
    kostra: KostraCatalogue, store: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    tables = sorted(kostra.fetched_tables)
    first, paths = run(kostra, store, server, tmp_path, NOW)
    assert data_requests(paths) == tables and "/tables" not in paths  # never fetched: no listing needed
    # The next morning nothing changed: the config and one listing, no data.
    second, paths = run(kostra, store, server, tmp_path, NOW + timedelta(days=1))
    assert paths == ["/config", "/tables"] and {t.outcome for t in second.tables} == {"unchanged"}
    assert store.last_run(KOSTRA_SOURCE, CHECK_TARGET) is not None
    # SSB publishes new figures in 12255: only that table is fetched.
    server.set_table_updated("12255", NOW + timedelta(days=1, hours=23))
    third, paths = run(kostra, store, server, tmp_path, NOW + timedelta(days=2))
    assert data_requests(paths) == ["12255"]
    assert {t.table: t.outcome for t in third.tables}["12255"] in ("ok", "unchanged")
    assert {t.outcome for t in third.tables if t.table != "12255"} == {"unchanged"}
    # Forced: every table again.
    forced, paths = run(kostra, store, server, tmp_path, NOW + timedelta(days=2, hours=1), force=True)
    assert data_requests(paths) == tables and "/tables" not in paths


def test_a_table_that_failed_is_fetched_again_though_ssb_did_not_update_it(
    kostra: KostraCatalogue, store: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(kostra, store, server, tmp_path, NOW)
    server.inject("/tables/13502/data", "http500", times=None)
    server.set_table_updated("13502", NOW + timedelta(hours=20))
    failed, _ = run(kostra, store, server, tmp_path, NOW + timedelta(days=1))
    assert [t.table for t in failed.failed] == ["13502"]
    server.clear_faults()
    again, paths = run(kostra, store, server, tmp_path, NOW + timedelta(days=2))
    assert data_requests(paths) == ["13502"] and not again.failed


def test_a_month_without_a_check_fetches_everything(
    kostra: KostraCatalogue, store: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(kostra, store, server, tmp_path, NOW)
    _, paths = run(kostra, store, server, tmp_path, NOW + timedelta(days=40))
    assert data_requests(paths) == sorted(kostra.fetched_tables)


def test_the_cli_has_force(server: FakePxWebApi, tmp_path: Path) -> None:
    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_SSB_URL": server.base_url, "MONITOR_RAW_DIR": str(tmp_path / "raw")}
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    assert CliRunner().invoke(cli, ["kostra", "fetch"], env=env).exit_code == 0
    again = CliRunner().invoke(cli, ["kostra", "fetch"], env=env)
    assert again.exit_code == 0 and "0 feilet, 2 forespørsler til SSB." in again.stdout
    forced = CliRunner().invoke(cli, ["kostra", "fetch", "--force"], env=env)
    tables = len(load_kostra(REPO / "kostra.yaml").fetched_tables)
    assert forced.exit_code == 0 and f"0 feilet, {tables + 1} forespørsler til SSB." in forced.stdout


def test_kostra_status_says_which_rows_are_late_or_failing(server: FakePxWebApi, tmp_path: Path) -> None:
    import json

    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_SSB_URL": server.base_url, "MONITOR_RAW_DIR": str(tmp_path / "raw")}
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    server.inject("/tables/12255/data", "http400_problem", times=None, detail="Value KOSgrunnskolepoe0000 is not valid")
    assert CliRunner().invoke(cli, ["kostra", "fetch"], env=env).exit_code == 1
    kostra = load_kostra(REPO / "kostra.yaml")
    result = CliRunner().invoke(cli, ["kostra", "status"], env=env)
    # The fixtures end in 2024 and 2025 is due (this runs after 15 March 2026): every SSB row is late or failing.
    assert result.exit_code == 1
    fetched = len(kostra.fetched_series)
    assert f"{fetched} av 85 KOSTRA-rader fra SSB er forsinket eller feiler." in result.stderr
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if len(line.split()) > 2}
    assert "Henting feiler" in lines["opp_grunnskolepoeng"] and "KOSgrunnskolepoe0000 is not valid" in lines["opp_grunnskolepoeng"]
    assert "Hentes ikke automatisk" in lines["opp_gruppestorrelse_1_4"] and lines["opp_gruppestorrelse_1_4"].endswith("import")
    data = json.loads(CliRunner().invoke(cli, ["kostra", "status", "--format", "json", "--year", "2022"], env=env).stdout)
    rows = {row["id"]: row for area in data["areas"] for row in area["rows"]}
    assert data["year"] == 2022 and rows["opp_grunnskolepoeng"]["rank"]["position"] == 2
