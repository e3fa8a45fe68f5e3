"""A code that exists but means something else (issue 15 §2): `labels` and `unit` against what the source says.

The fakes serve the fixtures; `support.relabel` changes one label (or unit), and exactly that mismatch must be
reported: by `monitor validate --online`, by a fetch (the table fails, nothing of it is stored, the others go on) and
by `monitor kostra validate --online`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from support.fake_barnehagefakta import FakeBarnehagefakta
from support.fake_fhi import FakeFhi
from support.fake_miljodir import FakeMiljodir
from support.miljodir_workbook import ASKER_TOTALS, build, detail_rows
from support.fake_pxwebapi import FakePxWebApi
from support.fake_udir import FakeUdir
from support.paths import FIXTURES, REPO
from support.relabel import relabel, restate_unit
from fetchers.meaning import matches
from monitor.cli.main import cli
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
SOURCES = FIXTURES / "catalogue" / "sources.yaml"


@pytest.fixture
def servers() -> Iterator[tuple[FakePxWebApi, FakeFhi, FakeUdir]]:
    with FakePxWebApi(calls=30, window=60, now=NOW) as ssb, FakeFhi() as fhi, FakeUdir() as udir:
        yield ssb, fhi, udir


@pytest.fixture
def files() -> Iterator[tuple[FakeMiljodir, FakeBarnehagefakta]]:
    """The catalogue's other two sources, answering as they should (the workbook with 2009, the climate base)."""
    workbook = build(rows=detail_rows(asker_totals={2009: Decimal("300000"), **ASKER_TOTALS}))
    with FakeMiljodir(workbook) as miljodir, FakeBarnehagefakta() as barnehagefakta:
        yield miljodir, barnehagefakta


@pytest.fixture
def env(tmp_path: Path, servers: tuple[FakePxWebApi, FakeFhi, FakeUdir],
        files: tuple[FakeMiljodir, FakeBarnehagefakta]) -> dict[str, str]:
    ssb, fhi, udir = servers
    values = {
        "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(SOURCES), "MONITOR_RAW_DIR": str(tmp_path / "raw"),
        "MONITOR_SSB_URL": ssb.base_url, "MONITOR_FHI_URL": fhi.base_url, "MONITOR_UDIR_URL": udir.base_url,
        "MONITOR_MILJODIR_URL": files[0].base_url, "MONITOR_BARNEHAGEFAKTA_URL": files[1].base_url,
    }
    with Store(tmp_path / "x.db") as store:  # `init` would load the real catalogue's baseline; the schema suffices
        store.migrate()
    return values


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "betyr noe annet" in line or "annen enhet" in line]


def test_a_label_matches_as_a_case_and_whitespace_blind_part() -> None:
    assert matches("areal av  TETTSTED", "Areal av tettsted (km²)")
    assert matches("per 1 000", "per\u00a01 000 innbyggere")
    assert not matches("vei og gate", "Brutto driftsutgifter til gatebelysning langs kommunale veier og gater")


def test_validate_online_names_the_one_code_that_means_something_else(
    env: dict[str, str], servers: tuple[FakePxWebApi, FakeFhi, FakeUdir]
) -> None:
    ssb, fhi, udir = servers
    result = CliRunner().invoke(cli, ["validate", "--online"], env=env)
    assert result.exit_code == 0, result.output
    relabel(ssb, "04861", "ContentsCode", "Bosatte", "Bygninger")
    result = CliRunner().invoke(cli, ["validate", "--online"], env=env)
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        "SSB 04861: bosatte_per_km2_tettsted (serie bosatte): ContentsCode Bosatte betyr noe annet: "
        "ventet «Bosatte», kilden sier «Bygninger»"
    ]


def test_validate_online_names_a_changed_unit_and_fhi_and_udir_labels(
    env: dict[str, str], servers: tuple[FakePxWebApi, FakeFhi, FakeUdir]
) -> None:
    ssb, fhi, udir = servers
    restate_unit(ssb, "04861", "Areal", "dekar")
    relabel(fhi, "nokkel/369", "KODEGRUPPE", "L01_L29ogL70_L71ogL82_L99", "Hjerte og kar")
    relabel(udir, "150", "TrinnID", "7", "10. årstrinn")
    result = CliRunner().invoke(cli, ["validate", "--online"], env=env)
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        "SSB 04861: bosatte_per_km2_tettsted (serie areal): ContentsCode Areal har en annen enhet: "
        "ventet «km²», kilden sier «dekar»",
        "FHI nokkel/369: fastlege_muskel_skjelett (serie kontakter): KODEGRUPPE L01_L29ogL70_L71ogL82_L99 betyr noe "
        "annet: ventet «Muskel og skjelett», kilden sier «Hjerte og kar»",
        "Udir 150: mobbing_7_trinn (serie mobbing): TrinnID 7 betyr noe annet: ventet «7. årstrinn», "
        "kilden sier «10. årstrinn»",
    ]


def test_a_fetch_fails_the_table_whose_code_means_something_else_and_stores_nothing_of_it(
    env: dict[str, str], servers: tuple[FakePxWebApi, FakeFhi, FakeUdir]
) -> None:
    ssb, _, _ = servers
    relabel(ssb, "04861", "ContentsCode", "Areal", "Areal av jordbruksareal (km²)")
    result = CliRunner().invoke(cli, ["fetch"], env=env)
    assert result.exit_code == 1
    failures = [line for line in result.stderr.splitlines() if line.startswith("FEIL")]
    assert failures == [
        "FEIL SSB 04861: tabell 04861: bosatte_per_km2_tettsted (serie areal): ContentsCode Areal betyr noe annet: "
        "ventet «areal av TETTSTED», kilden sier «Areal av jordbruksareal (km²)»"
    ]
    with sqlite3.connect(env["MONITOR_DB"]) as db:
        stored = {row[0] for row in db.execute("SELECT DISTINCT indicator_id FROM observations WHERE run_id IS NOT NULL")}
    assert "bosatte_per_km2_tettsted" not in stored
    assert {"fastlege_muskel_skjelett", "mobbing_7_trinn"} <= stored  # the other sources' tables went on


def test_kostra_validate_online_names_the_row_whose_code_means_something_else(tmp_path: Path) -> None:
    with FakePxWebApi(FIXTURES / "ssb-v2-kostra", calls=30, window=60, now=NOW) as ssb:
        env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
               "MONITOR_SSB_URL": ssb.base_url}
        relabel(ssb, "12255", "ContentsCode", "KOSgrunnskolepoe0000", "Andel elever med spesialundervisning (prosent)")
        result = CliRunner().invoke(cli, ["kostra", "validate", "--online"], env=env)
    assert result.exit_code == 1
    assert problem_lines(result.stderr) == [
        "tabell 12255: opp_grunnskolepoeng: ContentsCode KOSgrunnskolepoe0000 betyr noe annet: "
        "ventet «Gjennomsnittlig grunnskolepoeng», kilden sier «Andel elever med spesialundervisning (prosent)»"
    ]
