"""`monitor check`, `monitor serve` and `monitor run` end to end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from click.testing import CliRunner

from support.paths import FIXTURES, REPO
from support.catalogues import indicator_count
from support.waiting import wait_until
from monitor.cli.main import cli
from monitor.store.database import Store

REQUIRED = {"id", "name", "state", "target_status", "latest_period", "explanation"}


def env_for(tmp_path: Path, catalogue: Path = REPO / "indicators.yaml") -> dict[str, str]:
    return {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(catalogue),
            "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": "http://127.0.0.1:9",
            "MONITOR_FHI_URL": "http://127.0.0.1:9"}


def test_check_exits_1_on_the_baseline_with_one_object_per_indicator(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    result = runner.invoke(cli, ["check", "--format", "json"], env=env)
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert len(rows) == indicator_count() and all(REQUIRED <= set(row) for row in rows)
    assert {row["state"] for row in rows} >= {"late", "ok", "not_measured"}
    assert "forsinket eller feiler" in result.stderr


def test_check_exits_0_when_nothing_is_late_or_failing(tmp_path: Path) -> None:
    text = (FIXTURES / "catalogue" / "small.yaml").read_text(encoding="utf-8")
    for frequency in ("annual", "biennial"):
        text = text.replace(f"frequency: {frequency}", "frequency: sporadic")
    catalogue = tmp_path / "calm.yaml"
    catalogue.write_text(text, encoding="utf-8")
    env = env_for(tmp_path, catalogue)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code in (0, 1)
    result = runner.invoke(cli, ["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "i rute" in result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> httpx.Response:
    """The first answer from `url`, once the server listens (it prints its address before it binds)."""
    answers: list[httpx.Response] = []

    def answered() -> bool:
        try:
            answers.append(httpx.get(url, timeout=5))
        except httpx.TransportError:
            return False
        return True

    assert wait_until(answered, timeout=seconds), f"{url} did not answer within {seconds} s"
    return answers[0]


@pytest.mark.parametrize("command", ["serve", "run"])
def test_service_answers_with_every_name_and_stops_cleanly(tmp_path: Path, command: str) -> None:
    env = {**os.environ, **env_for(tmp_path)}
    script = str(Path(sys.executable).parent / "monitor")
    subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    process = subprocess.Popen([script, command, "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = wait_for(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200
        from monitor.catalogue.indicators import load_catalogue

        html = page.text
        for indicator in load_catalogue(REPO / "indicators.yaml").indicators:
            assert str(escape(indicator.name)) in html, indicator.id
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0 or command == "serve", output
    if command == "run":
        # The scheduler child released its lock and said so before the parent finished.
        assert "Planleggeren er stoppet." in output and "Tjenesten er stoppet." in output
        with Store(tmp_path / "x.db") as store:
            assert store.conn.execute("SELECT COUNT(*) FROM scheduler_lock").fetchone()[0] == 0
