"""`monitor fetch` and `monitor validate --online` end to end, against the fake PxWebApi."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from support.paths import REPO
from support.fake_barnehagefakta import FakeBarnehagefakta
from support.fake_fhi import FakeFhi
from support.fake_miljodir import FakeMiljodir
from support.fake_pxwebapi import FakePxWebApi
from support.fake_udir import FakeUdir
from monitor.cli.main import cli

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=30, window=60, now=NOW) as running:
        yield running


@pytest.fixture
def udir() -> Iterator[FakeUdir]:
    with FakeUdir() as running:
        yield running


@pytest.fixture
def fhi() -> Iterator[FakeFhi]:
    with FakeFhi() as running:
        yield running


@pytest.fixture
def miljodir() -> Iterator[FakeMiljodir]:
    from decimal import Decimal

    from support.miljodir_workbook import ASKER_TOTALS, build, detail_rows

    # with 2009, the climate target's base year, which validate --online asks for
    with FakeMiljodir(build(rows=detail_rows(asker_totals={2009: Decimal("300000"), **ASKER_TOTALS}))) as running:
        yield running


@pytest.fixture
def barnehagefakta() -> Iterator[FakeBarnehagefakta]:
    with FakeBarnehagefakta() as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, server: FakePxWebApi, udir: FakeUdir, fhi: FakeFhi, miljodir: FakeMiljodir,
        barnehagefakta: FakeBarnehagefakta) -> dict[str, str]:
    values = {
        "MONITOR_DB": str(tmp_path / "x.db"),
        "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
        "MONITOR_RAW_DIR": str(tmp_path / "raw"),
        "MONITOR_SSB_URL": server.base_url,
        "MONITOR_UDIR_URL": udir.base_url,
        "MONITOR_FHI_URL": fhi.base_url,
        "MONITOR_MILJODIR_URL": miljodir.base_url,
        "MONITOR_BARNEHAGEFAKTA_URL": barnehagefakta.base_url,
    }
    assert CliRunner().invoke(cli, ["init"], env=values).exit_code == 0
    return values


def invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fetch_then_status_shows_ssb_values(env: dict[str, str], server: FakePxWebApi) -> None:
    code, out, err = invoke(env, "fetch")
    assert code == 0, err
    # /config, 20 data POSTs and 12143's metadata (disposisjonsfond's control figure chooses its code by label)
    assert "20 tabeller, 0 feilet, 22 forespørsler til SSB." in out
    assert "SSB 01222:" in out
    code, out, _ = invoke(env, "status", "--format", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["befolkningsvekst"]["latest_period"] == "2024"
    assert rows["netto_driftsresultat"]["path"] == "fetch:ssb"


def test_fetch_one_indicator_and_unknown_ids(env: dict[str, str], server: FakePxWebApi) -> None:
    code, out, _ = invoke(env, "fetch", "--indicator", "nye_boliger")
    assert code == 0 and "1 tabell," in out and server.path_counts["/tables/05940/data"] == 1
    code, _, err = invoke(env, "fetch", "--indicator", "finnes_ikke", "--indicator", "sykefravaer")
    assert code == 2
    assert "ukjent indikator-id 'finnes_ikke'" in err and "sykefravaer: hentes ikke fra en kilde med API (import)" in err


def test_failed_table_exits_non_zero_with_one_line_per_failure(env: dict[str, str], server: FakePxWebApi) -> None:
    server.inject("/tables/12143/data", "http400_problem", times=None, detail="Value AGD23 is not a valid value code")
    code, _, err = invoke(env, "fetch")
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("FEIL")] == [
        "FEIL SSB 12143: tabell 12143: HTTP 400: Parameter error – Value AGD23 is not a valid value code"
    ]


def test_validate_online_accepts_the_catalogue_and_reports_changed_codes(env: dict[str, str], server: FakePxWebApi) -> None:
    code, out, err = invoke(env, "validate", "--online")
    assert code == 0, err
    assert "21 tabeller sjekket mot metadata" in out and "0 avvik" in out  # 20 tables + the 12134 cross-check
    # SSB renames a value code: the check names the table, the indicator, the series and the code.
    meta = json.loads((REPO / "tests/fixtures/ssb-v2/01222/metadata.json").read_text(encoding="utf-8"))
    contents = meta["dimension"]["ContentsCode"]["category"]
    contents["index"] = {c.replace("Folketallet11", "Folketallet12"): i for c, i in contents["index"].items()}
    contents["label"] = {c.replace("Folketallet11", "Folketallet12"): t for c, t in contents["label"].items()}
    server.set_metadata("01222", meta)
    server.reset_counters()  # a new process, hours later: the call window starts afresh
    code, out, err = invoke(env, "validate", "--online")
    assert code == 1
    assert "SSB 01222: befolkningsvekst (serie " in err and "Folketallet11" in err
    assert "1 avvik" in out or "avvik." in out


def test_unreachable_ssb_ends_within_seconds_without_traceback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MONITOR_DB": str(tmp_path / "x.db"),
        "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
        "MONITOR_RAW_DIR": str(tmp_path / "raw"),
        "MONITOR_SSB_URL": "http://127.0.0.1:9",
    }
    script = str(Path(sys.executable).parent / "monitor")
    subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=60)
    started = time.monotonic()
    result = subprocess.run([script, "fetch", "--source", "ssb"], env=env, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("FEIL SSB")]
    assert len(failures) == 20 and all("får ikke kontakt med http://127.0.0.1:9" in line for line in failures)
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM observations WHERE source LIKE 'ssb:%'").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM fetch_runs WHERE outcome = 'failed'").fetchone()[0] == 20
