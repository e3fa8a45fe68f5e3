from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.checks import file_digest
from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue
from support.paths import FIXTURES
from monitor.catalogue.indicators import Catalogue
from monitor.seed.baseline import read_baseline
from monitor.cli.main import cli


@pytest.fixture
def catalogue() -> Catalogue:
    return load_behaviour_catalogue()


@pytest.fixture
def env(tmp_path: Path, catalogue: Catalogue) -> dict[str, str]:
    """The CLI on the behaviour fixture catalogue and the printed baseline's cells for its indicators."""
    return {
        "MONITOR_DB": str(tmp_path / "x.db"),
        "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
        "MONITOR_BASELINE": str(baseline_for(catalogue, tmp_path)),
        "MONITOR_TIMEZONE": "Europe/Oslo",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_init_then_status_lists_every_indicator_with_baseline_values(env: dict[str, str], catalogue: Catalogue) -> None:
    cells = len(read_baseline(catalogue, Path(env["MONITOR_BASELINE"])))
    code, out, _ = run(env, "init")
    assert code == 0 and f"grunnlinjen «Handlingsprogram 2024–2027»: {cells} nye verdier" in out  # every printed cell
    code, out, _ = run(env, "status", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [row["id"] for row in rows] == [i.id for i in catalogue.indicators]
    by_id = {row["id"]: row for row in rows}
    netto = by_id["netto_driftsresultat"]
    assert (netto["latest_period"], netto["value"], netto["display"]) == ("2022", -0.7, "-0,7\u00a0%")
    assert netto["path"] == "fetch:ssb" and netto["source"] == "SSB 12143"
    assert all(row["name"] for row in rows)


def test_init_is_idempotent(env: dict[str, str]) -> None:
    run(env, "init")
    before = file_digest(Path(env["MONITOR_DB"]))
    code, out, _ = run(env, "init")
    assert code == 0 and "skjemaet var oppdatert" in out and "0 nye verdier" in out
    assert file_digest(Path(env["MONITOR_DB"])) == before


def test_status_table_and_no_database(env: dict[str, str], catalogue: Catalogue) -> None:
    code, _, err = run(env, "status")
    assert code == 1 and "monitor init" in err
    run(env, "init")
    code, out, _ = run(env, "status")
    assert code == 0 and out.splitlines()[0].startswith("Indikator")
    assert len(out.splitlines()) == 1 + len(catalogue.indicators)  # the header, a line per indicator


def test_import_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "init")
    good = tmp_path / "sykefravaer.csv"
    good.write_text("indicator_id;period;value\nsykefravaer;2023;9,1\n", encoding="utf-8")
    code, out, _ = run(env, "import", str(good), "--by", "kari")
    assert code == 0 and "1 ny verdi lagret" in out
    code, out, _ = run(env, "import", str(good), "--by", "kari")
    assert code == 0 and "ingen endringer" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator_id;period;value\nsykefravaer;2023;mye\n", encoding="utf-8")
    before = file_digest(Path(env["MONITOR_DB"]))
    code, _, err = run(env, "import", str(bad))
    assert code == 2 and f"{bad}:2: sykefravaer: verdi: 'mye' er ikke et tall" in err
    assert file_digest(Path(env["MONITOR_DB"])) == before


def test_validate_a_catalogue(env: dict[str, str], catalogue: Catalogue) -> None:
    code, out, _ = run(env, "validate", str(BEHAVIOUR_CATALOGUE))
    assert code == 0 and out == (
        f"{BEHAVIOUR_CATALOGUE}: gyldig – {len(catalogue.indicators)} indikatorer, "
        f"{len(catalogue.placeholders)} plassholdere, {len(catalogue.retired)} utgåtte.\n"
    )


def test_bad_setting_is_a_clear_error(env: dict[str, str]) -> None:
    code, _, err = run({**env, "MONITOR_SMTP_PORT": "tjuefem"}, "status")
    assert code == 1 and "MONITOR_SMTP_PORT" in err


def test_console_script_reports_a_bad_catalogue_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "monitor"
    bad = tmp_path / "bad.yaml"
    small = (FIXTURES / "catalogue" / "small.yaml").read_text(encoding="utf-8")
    bad.write_text(small.replace("frequency: biennial", "frequency: often"), encoding="utf-8")
    result = subprocess.run(
        [str(script), "validate", str(bad)], capture_output=True, text=True, env={**os.environ}, timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:" in result.stderr and "'medarbeiderskap'" in result.stderr and "frequency" in result.stderr


def test_large_import_shows_progress_on_stderr(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "init")
    lines = ["indicator_id;period;value;region"] + [
        f"sykefravaer;2023;{n % 100},5;{n:04d}" for n in range(1, 3001)
    ]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(env, "import", str(big))
    assert code == 0 and "3000 nye verdier" in out
    assert "Kontrollerer rader" in err
