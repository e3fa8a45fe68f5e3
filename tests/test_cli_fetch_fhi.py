"""`monitor fetch` and `monitor validate --online` for FHI, end to end against the fake FHI (and the fake SSB)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.paths import REPO
from support.fake_fhi import FakeFhi
from support.fake_pxwebapi import FakePxWebApi
from fetchers.fhi_query import build_requests
from monitor.catalogue.indicators import load_catalogue
from monitor.cli.main import cli

# The FHI tables indicators.yaml reads; a full fetch costs Common/source, the table list and one POST per table.
FHI_TABLES = len(build_requests(load_catalogue(REPO / "indicators.yaml")))


@pytest.fixture
def fhi() -> Iterator[FakeFhi]:
    with FakeFhi() as running:
        yield running


@pytest.fixture
def ssb() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=30, window=60) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, fhi: FakeFhi, ssb: FakePxWebApi) -> dict[str, str]:
    values = {
        "MONITOR_DB": str(tmp_path / "x.db"),
        "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
        "MONITOR_RAW_DIR": str(tmp_path / "raw"),
        "MONITOR_SSB_URL": ssb.base_url,
        "MONITOR_FHI_URL": fhi.base_url,
        "MONITOR_UDIR_URL": "http://127.0.0.1:9",  # never reached by these tests' fetches
    }
    assert CliRunner().invoke(cli, ["init"], env=values).exit_code == 0
    return values


def invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fetch_fhi_then_status_shows_the_rolling_periods(env: dict[str, str], fhi: FakeFhi) -> None:
    code, out, err = invoke(env, "fetch", "--source", "fhi")
    assert code == 0, err
    assert "FHI nokkel/370: nye verdier (12 nye verdier)" in out  # two GP series × the years 2019–2024
    assert f"{FHI_TABLES} tabeller, 0 feilet, {2 + FHI_TABLES} forespørsler til FHI." in out
    code, out, _ = invoke(env, "status", "--format", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["fastlege_muskel_skjelett"]["path"] == "fetch:fhi"
    assert rows["fastlege_muskel_skjelett"]["latest_period"] == "2024"  # nokkel/370: single years
    assert rows["hoftebrudd_over_75"]["path"] == "fetch:fhi"
    assert rows["hoftebrudd_over_75"]["latest_period"] == "2022-2024"  # nokkel/714: 3-year periods
    assert rows["vaksinert_meslinger"]["path"] == "import"


def test_indicators_pick_their_sources(env: dict[str, str], fhi: FakeFhi, ssb: FakePxWebApi) -> None:
    code, out, err = invoke(env, "fetch", "--indicator", "fastlege_psykiske_plager", "--indicator", "nye_boliger")
    assert code == 0, err
    assert "SSB 05940:" in out and "FHI nokkel/370:" in out and "Udir" not in out + err
    assert "1 tabell, 0 feilet, 3 forespørsler til FHI." in out  # Common/source, table list, one POST
    assert fhi.path_counts["/nokkel/Table/360/data"] == 0
    code, _, err = invoke(env, "fetch", "--source", "ssb", "--indicator", "fastlege_psykiske_plager")
    assert code == 2 and "fastlege_psykiske_plager: hentes fra FHI, ikke SSB" in err


def test_a_failed_fhi_table_exits_non_zero_with_one_line_per_failure(env: dict[str, str], fhi: FakeFhi) -> None:
    fhi.inject("/nokkel/Table/370/data", "http400_problem", times=None, title="Bad Request",
               detail="Category 0_74 does not exist in dimension ALDER")
    code, out, err = invoke(env, "fetch", "--source", "fhi")
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("FEIL")] == [
        "FEIL FHI nokkel/370: tabell nokkel/370: HTTP 400: Bad Request – Category 0_74 does not exist in dimension ALDER"
    ]
    assert f"{FHI_TABLES} tabeller, 1 feilet" in out


def test_validate_online_checks_the_fhi_dimensions(env: dict[str, str], fhi: FakeFhi, ssb: FakePxWebApi) -> None:
    _, out, err = invoke(env, "validate", "--online")
    assert f"FHI: {FHI_TABLES} tabeller sjekket mot dimensjonene hos {fhi.base_url}; 0 avvik." in out
    assert not [line for line in err.splitlines() if line.startswith("FHI")]
    document = fhi.dimensions("nokkel/809")
    alder = next(d for d in document["dimensions"] if d["code"] == "ALDER")
    alder["categories"] = [c for c in alder["categories"] if c["value"] != "15_24"]
    fhi.set_dimensions("nokkel/809", document)
    ssb.reset_counters()  # a new process, hours later: SSB's call window starts afresh
    code, out, err = invoke(env, "validate", "--online")
    assert code == 1
    assert ("FHI nokkel/809: unge_utenfor_arbeid_utdanning (serie neet): dimensjonen 'ALDER' mangler kategorikoden "
            "'15_24'") in err
    assert f"FHI: {FHI_TABLES} tabeller sjekket mot dimensjonene hos {fhi.base_url}; 1 avvik." in out
