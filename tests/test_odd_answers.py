"""One odd answer never stops a run (issue 15 §3).

JSON-stat allows a null value with no status: SSB's answer without its `status` object is stored, cell by cell, as a
missing value without a symbol (never an invented ".."), the same for FHI. Any error while handling one table's
answer fails that table alone, with one sentence and its archived body; an indicator that needs a failed table
waits while the others are stored; the CLI prints one line per failed table and exits 1; the scheduler's job still
runs the alerts when the run itself breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import fetchers.ssb_extract
from conftest import FIXTURES
from fetchers.fhi import FhiClient
from fetchers.fhi_source import FhiSource
from fetchers.ssb import SsbClient
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.cli.main import cli
from monitor.cli.service import run_scheduled_fetch
from monitor.core.model import NO_VALUE
from monitor.core.settings import Settings
from monitor.report.status import describe_status
from monitor.sources.pipeline import FetchReport, IndicatorPlan, fetch_source, fetch_ssb
from monitor.store.database import Store
from monitor.store.rawarchive import read_archived
from support.fake_fhi import FakeFhi
from support.fake_pxwebapi import FakePxWebApi

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
SOURCES_CATALOGUE = FIXTURES / "catalogue" / "sources.yaml"
TWO_TABLES = FIXTURES / "catalogue" / "two_tables.yaml"


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=1000, window=60, now=NOW) as running:
        yield running
    assert running.errors == []


def fresh_store(path: Path) -> Store:
    store = Store(path)
    store.migrate()
    return store


def ssb_run(catalogue: Catalogue, store: Store, server: FakePxWebApi, tmp_path: Path) -> FetchReport:
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_ssb(catalogue, store, client, clock=lambda: NOW, raw_dir=tmp_path / "raw", force=True)


def cells(store: Store) -> dict[tuple[str, str, str], tuple[float | None, str | None]]:
    return {(v.indicator_id, v.region, v.period): (v.value, v.status) for v in store.latest()}


def test_an_answer_without_a_status_object_is_stored_cell_by_cell(server: FakePxWebApi, tmp_path: Path) -> None:
    catalogue = load_catalogue(TWO_TABLES)
    with fresh_store(tmp_path / "clean.db") as clean:
        assert ssb_run(catalogue, clean, server, tmp_path / "a").failed == []
        expected = cells(clean)
    server.inject("*", "no_status", times=None)
    with fresh_store(tmp_path / "bare.db") as bare:
        report = ssb_run(catalogue, bare, server, tmp_path / "b")
        assert report.failed == [] and {t.table for t in report.tables} == {"01222", "07984"}
        got = cells(bare)
    assert set(got) == set(expected)
    for key, (value, status) in expected.items():
        if value is not None:
            assert got[key] == (value, status), key  # every number equals the clean answer's
        else:
            assert got[key] == (None, NO_VALUE), key  # SSB's symbol is gone: a missing value, no symbol invented


def test_a_null_without_a_symbol_is_shown_as_mangler() -> None:
    assert describe_status(NO_VALUE) == "mangler"


def test_fhi_treats_a_null_without_a_symbol_like_ssb(tmp_path: Path) -> None:
    catalogue = load_catalogue(SOURCES_CATALOGUE)
    with FakeFhi(calls=1000, window=60) as fhi, fresh_store(tmp_path / "m.db") as store:
        cube = fhi.cube("nokkel/369")
        cube["value"] = [None] * len(cube["value"])  # FHI shows nothing and says nothing about why
        cube.pop("status", None)
        fhi.set_cube("nokkel/369", cube)
        with FhiClient(fhi.base_url, timeout=5.0, backoff=0.01) as client:
            report = fetch_source(FhiSource(client, catalogue, clock=lambda: NOW), IndicatorPlan(catalogue, "fhi"),
                                  store, clock=lambda: NOW, raw_dir=tmp_path / "raw")
        assert report.failed == []
        on_369 = {(v.value, v.status) for v in store.latest() if v.source == "fhi:nokkel/369"}
        assert on_369 == {(None, NO_VALUE)}  # not "..": that would claim more than FHI said


def test_an_unforeseen_error_fails_that_table_alone_with_its_archived_body(
    server: FakePxWebApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = load_catalogue(TWO_TABLES)
    real = fetchers.ssb_extract.extract

    def broken(dataset: Any, table: str, *args: Any) -> Any:
        if table == "07984":
            raise KeyError("Arbeidssted")  # a bug nobody foresaw
        return real(dataset, table, *args)

    monkeypatch.setattr("fetchers.ssb_source.extract", broken)
    with fresh_store(tmp_path / "m.db") as store:
        report = ssb_run(catalogue, store, server, tmp_path)
        assert [t.table for t in report.failed] == ["07984"]
        error = report.failed[0].error or ""
        assert error == "tabell 07984: uventet feil under behandlingen av svaret (KeyError: 'Arbeidssted')"
        run = max((r for r in store.runs("ssb") if r["target"] == "07984"), key=lambda r: r["id"])
        assert run["outcome"] == "failed" and run["error"] == error
        body = read_archived(Path(run["raw_path"]), run["raw_sha256"])
        assert json.loads(body)["id"]  # the answer that broke is kept for the post-mortem
        stored = {v.indicator_id for v in store.latest()}
        assert stored == {"befolkningsvekst"}  # 01222's own indicator; both that need 07984 wait


def test_an_indicator_waits_for_its_failed_table_while_the_healthy_tables_indicators_are_stored_on_the_first_run(
    server: FakePxWebApi, tmp_path: Path
) -> None:
    catalogue = load_catalogue(TWO_TABLES)
    server.inject("/tables/07984/data", "http400_problem", times=None, detail="Non-existent value SysselsatteArb")
    with fresh_store(tmp_path / "m.db") as store:
        report = ssb_run(catalogue, store, server, tmp_path)
        assert {t.table: t.outcome for t in report.tables} == {"01222": "ok", "07984": "failed"}
        assert {v.indicator_id for v in store.latest()} == {"befolkningsvekst"}


def test_the_cli_prints_one_line_per_failed_table_and_exits_1_without_a_traceback(
    server: FakePxWebApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "m.db"
    fresh_store(db).close()
    env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(TWO_TABLES), "MONITOR_RAW_DIR": str(tmp_path / "raw"),
           "MONITOR_SSB_URL": server.base_url}
    server.inject("/tables/07984/data", "html", times=None)
    server.inject("*", "no_status", times=None)
    result = CliRunner().invoke(cli, ["fetch", "--source", "ssb", "--force"], env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    failed = [line for line in result.output.splitlines() if line.startswith("FEIL ")]
    assert len(failed) == 1 and "tabell 07984: fikk HTML i stedet for JSON" in failed[0]
    with Store(db, create=False) as store:
        targets = {r["target"] for r in store.runs("ssb")}
    assert {"01222", "07984"} <= targets  # every table has its run row


def test_the_scheduled_job_runs_the_alerts_even_when_the_run_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(db=tmp_path / "m.db", catalogue=TWO_TABLES, raw_dir=tmp_path / "raw")
    fresh_store(settings.db).close()
    catalogue = load_catalogue(TWO_TABLES)

    def broken(*args: Any, **kwargs: Any) -> FetchReport:
        raise RuntimeError("the run itself broke")

    monkeypatch.setattr("monitor.cli.service.run_fetch", broken)
    alerted: list[str] = []
    run_scheduled_fetch(settings, catalogue, None, "ssb", alerts=lambda s, c: alerted.append("sendt"))
    assert alerted == ["sendt"]


def test_the_scheduled_job_records_every_table_of_an_answer_without_status_and_alerts(
    server: FakePxWebApi, tmp_path: Path
) -> None:
    settings = Settings(db=tmp_path / "m.db", catalogue=TWO_TABLES, raw_dir=tmp_path / "raw", ssb_url=server.base_url)
    fresh_store(settings.db).close()
    catalogue = load_catalogue(TWO_TABLES)
    server.inject("*", "no_status", times=None)
    alerted: list[str] = []
    run_scheduled_fetch(settings, catalogue, None, "ssb", alerts=lambda s, c: alerted.append("sendt"))
    assert alerted == ["sendt"]
    with Store(settings.db, create=False) as store:
        outcomes = {r["target"]: r["outcome"] for r in store.runs("ssb") if r["target"] in ("01222", "07984")}
        assert outcomes == {"01222": "ok", "07984": "ok"}
        assert NO_VALUE not in {v.status for v in store.latest() if v.value is not None}
