"""Deadlines bound what a hung source costs (issue 15 §4).

A source that accepts the connection and never answers used to cost every table its timeout times its attempts
(38 minutes for 18 stalled SSB tables with the production settings). With MONITOR_FETCH_TABLE_DEADLINE and
MONITOR_FETCH_RUN_DEADLINE each table fails when its own deadline passes, the tables the run does not reach fail at
once when the run's deadline passes, and every table has its failed run row.

These tests measure wall time on purpose: the deadline is a promise about wall time. The fake answers after 3 s;
the deadlines are a fraction of a second; the bounds asserted leave a wide margin for a slow machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import FIXTURES, REPO
from support.clocks import FixedClock
from support.fake_pxwebapi import FakePxWebApi
from monitor.catalogue.indicators import load_catalogue
from monitor.catalogue.kostra import load_kostra
from monitor.core.settings import Settings
from monitor.sources.registry import run_fetch
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
HANG = 3.0  # seconds the fake takes to answer a data request


@pytest.fixture
def hung() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(FIXTURES / "ssb-v2-kostra", calls=1000, window=60, now=NOW) as server:
        server.inject("/tables/*/data", "delay", times=None, seconds=HANG)
        yield server


def settings_for(server: FakePxWebApi, tmp_path: Path, *, run: float, table: float) -> Settings:
    settings = Settings(
        db=tmp_path / "monitor.db", catalogue=FIXTURES / "catalogue" / "sources.yaml", raw_dir=tmp_path / "raw",
        ssb_url=server.base_url, http_timeout=30.0, fetch_run_deadline=run, fetch_table_deadline=table,
    )
    with Store(settings.db) as store:
        store.migrate()
    return settings


def test_a_hung_source_ends_within_the_run_deadline_and_every_table_is_recorded(
    hung: FakePxWebApi, tmp_path: Path
) -> None:
    settings = settings_for(hung, tmp_path, run=1.0, table=0.4)
    kostra = load_kostra(REPO / "kostra.yaml")
    started = time.monotonic()
    with Store(settings.db, create=False) as store:
        report = run_fetch(settings, load_catalogue(settings.catalogue), store, "ssb-kostra", kostra=kostra,
                           force=True, clock=FixedClock(NOW))
        runs = [r for r in store.runs("ssb-kostra") if r["outcome"] == "failed"]
    took = time.monotonic() - started
    tables = sorted({series.table for _, series in kostra.fetched_series})
    assert took < 1.0 + 1.5  # the run's deadline, plus margin; without deadlines: 11 tables × 4 × 30 s
    assert sorted(t.table for t in report.failed) == tables and report.tables == report.failed
    assert sorted(r["target"] for r in runs) == tables  # every table has its failed run row
    reached = [t for t in report.failed if "fristen for kjøringen" not in (t.error or "")]
    not_reached = [t for t in report.failed if "fristen for kjøringen (1 s) gikk ut før tabellen ble hentet" in (t.error or "")]
    assert 1 <= len(reached) <= 4 and len(reached) + len(not_reached) == len(tables)
    assert all("tidsavbrudd" in (t.error or "") or "fristen" in (t.error or "") for t in reached)


def test_each_table_has_its_own_deadline(hung: FakePxWebApi, tmp_path: Path) -> None:
    settings = settings_for(hung, tmp_path, run=60.0, table=0.3)
    catalogue = load_catalogue(FIXTURES / "catalogue" / "sources.yaml")
    started = time.monotonic()
    with Store(settings.db, create=False) as store:
        report = run_fetch(settings, catalogue, store, "ssb", force=True, clock=FixedClock(NOW))
    took = time.monotonic() - started
    assert [t.table for t in report.failed] == ["04861"]
    assert "tabell 04861: " in (report.failed[0].error or "") and "fristen" in (report.failed[0].error or "")
    assert took < 0.3 + 1.5  # one table's deadline, plus margin; without it: 4 attempts × 30 s
