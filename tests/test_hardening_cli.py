"""Issue 16, the command line and the alerts: a busy port is one line, held mail is named, users read bokmål."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.alerts.conditions import find_conditions
from monitor.alerts.episodes import record
from monitor.alerts.outbox import CLAIM_LEASE, claim
from monitor.catalogue.indicators import load_catalogue
from monitor.cli import alerts as alerts_cli
from monitor.cli.alerts import HELD_EXIT_CODE, alert_config
from monitor.cli.main import cli
from monitor.core.errors import FetchError, StoreError
from monitor.core.model import Observation, RunRecord
from monitor.core.settings import Settings
from monitor.evaluate.assessment import evaluate_all
from fetchers.jsonstat import JsonStatError, parse_dataset
from monitor.sources.pipeline import failure_message
from monitor.store import database
from monitor.store.database import Store
from support.fake_pxwebapi import FakePxWebApi
from support.paths import FIXTURES, OSLO
from support.smtp_server import SmtpServer

MONITOR = str(Path(sys.executable).parent / "monitor")
SMALL = FIXTURES / "catalogue" / "small.yaml"


def service_env(tmp_path: Path) -> dict[str, str]:
    """A migrated database and the small catalogue, for a `monitor` subprocess."""
    with Store(tmp_path / "x.db") as store:
        store.migrate()
    return {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(SMALL),
            "MONITOR_RAW_DIR": str(tmp_path / "raw")}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port some other program listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def processes_using(db: Path) -> list[str]:
    """Every live process (besides this one) started with MONITOR_DB=db: an orphan scheduler would be one."""
    wanted = f"MONITOR_DB={db}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


# -- 1. a busy port ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_busy_port_is_one_line_and_a_nonzero_exit(tmp_path: Path, busy_port: int, command: str) -> None:
    env = service_env(tmp_path)
    done = subprocess.run([MONITOR, command, "--port", str(busy_port)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "OSError" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Feil: port {busy_port} er i bruk") and "--port" in lines[0]
    assert "Nettsidene svarer" not in done.stdout  # it never claimed to answer
    # `monitor run` binds before it starts the scheduler: none was started, none is left behind, no lock is held.
    assert "Planleggeren" not in done.stdout
    if Path("/proc/self/environ").exists():
        assert processes_using(tmp_path / "x.db") == []
    with Store(tmp_path / "x.db", create=False) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM scheduler_lock").fetchone()[0] == 0


# -- 2. held mail is named -------------------------------------------------------------------------------

OPS = "drift@asker.test"
# sykefravaer (annual, register "Asker kommune", in small.yaml): period 2025 is late after mid-July 2026.
LATE = datetime(2026, 7, 20, 8, 0, tzinfo=OSLO)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


def alerts_env(tmp_path: Path, port: int) -> dict[str, str]:
    return {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(SMALL), "MONITOR_SMTP_HOST": "127.0.0.1",
            "MONITOR_SMTP_PORT": str(port), "MONITOR_ALERT_TO": OPS, "MONITOR_SMTP_TIMEOUT": "5"}


def send_at(tmp_path: Path, smtp: SmtpServer, moment: datetime, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`monitor alerts send` with the command's clock at `moment`."""
    monkeypatch.setattr(alerts_cli, "_now", lambda settings: moment)
    return CliRunner().invoke(cli, ["alerts", "send"], env=alerts_env(tmp_path, smtp.port))


def held_by_a_killed_run(tmp_path: Path, smtp: SmtpServer) -> tuple[int, str]:
    """An alert queued, then claimed by a run that died before sending: a fresh claim on held mail."""
    settings = Settings(db=tmp_path / "x.db", catalogue=SMALL, smtp_host="127.0.0.1",  # type: ignore[call-arg]
                        smtp_port=smtp.port, alert_to=OPS, smtp_timeout=5.0)
    catalogue = load_catalogue(SMALL)
    with Store(tmp_path / "x.db") as store:
        store.migrate()
        when = datetime(2025, 6, 1, tzinfo=OSLO)
        run = RunRecord(source="import", target="sykefravaer", started_at=when, finished_at=when)
        store.write_run(run, [Observation("sykefravaer", "3203", "2024", 6.1, None, "import")])
        findings = find_conditions(catalogue, store, evaluate_all(catalogue, store, LATE.date(), LATE, OSLO), OSLO)
        queued = record(store, catalogue, findings, alert_config(settings), LATE)
        assert len(queued.outbox_ids) == 1
        outbox_id = queued.outbox_ids[0]
        assert claim(store, outbox_id, LATE, "killed-run")
        subject = store.conn.execute("SELECT subject FROM alert_outbox WHERE id = ?", (outbox_id,)).fetchone()[0]
    return outbox_id, subject


def test_alerts_send_names_mail_held_by_a_fresh_claim_with_its_expiry_and_a_distinct_exit_code(
    tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox_id, subject = held_by_a_killed_run(tmp_path, smtp)
    result = send_at(tmp_path, smtp, LATE + timedelta(minutes=2), monkeypatch)
    assert smtp.received == []
    assert result.exit_code == HELD_EXIT_CODE == 3, result.output
    expires = (LATE + CLAIM_LEASE).astimezone(OSLO)
    assert expires.strftime("%d.%m.%Y kl. %H:%M") == "20.07.2026 kl. 08:15"
    assert "1 holdt av en annen kjøring" in result.stdout
    held = [line for line in result.stderr.splitlines() if f"#{outbox_id}" in line]
    assert len(held) == 1, result.stderr
    assert subject in held[0] and "20.07.2026 kl. 08:15" in held[0]
    # Once the claim has expired the next run sends it, once, and exits 0.
    later = LATE + CLAIM_LEASE + timedelta(minutes=1)
    again = send_at(tmp_path, smtp, later, monkeypatch)
    assert again.exit_code == 0, again.output
    assert "1 sendt" in again.stdout and "holdt" not in again.output
    assert len(smtp.received) == 1


# -- 3. users read bokmål, and no raw control characters ---------------------------------------------------

TWO_TABLES = FIXTURES / "catalogue" / "two_tables.yaml"
IMPORTS = FIXTURES / "catalogue" / "imports.yaml"
ENGLISH = ("body is", "truncated", "malformed", "database is locked", "could not", "field larger", "field limit")


@pytest.fixture
def pxweb() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=1000, window=60, now=LATE) as running:
        yield running


def fetch_env(tmp_path: Path, server: FakePxWebApi) -> dict[str, str]:
    with Store(tmp_path / "m.db") as store:
        store.migrate()
    return {"MONITOR_DB": str(tmp_path / "m.db"), "MONITOR_CATALOGUE": str(TWO_TABLES),
            "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": server.base_url}


def failed_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FEIL ")]


def stored_error(tmp_path: Path, table: str) -> str:
    with Store(tmp_path / "m.db", create=False) as store:
        return str([run for run in store.runs("ssb") if run["target"] == table][-1]["error"])


def test_an_unreadable_answer_is_one_bokmal_sentence_and_the_parsers_words_go_to_the_log(
    tmp_path: Path, pxweb: FakePxWebApi, caplog: pytest.LogCaptureFixture
) -> None:
    env = fetch_env(tmp_path, pxweb)
    pxweb.inject("/tables/07984/data", "truncate", mode="half", times=None)
    caplog.set_level(logging.WARNING)
    result = CliRunner().invoke(cli, ["fetch", "--source", "ssb", "--force"], env=env)
    assert result.exit_code == 1, result.output
    [line] = failed_lines(result.output)
    expected = "tabell 07984: svaret fra kilden kunne ikke leses (svaret er avkortet eller ikke gyldig JSON"
    assert expected in line
    for text in (line, stored_error(tmp_path, "07984")):  # the CLI's line, and the run log the web and e-mails show
        assert expected in text and not any(word in text for word in ENGLISH), text
    assert "truncated or malformed JSON" in caplog.text  # the technical detail is in the log


def test_control_characters_from_a_source_are_shown_escaped(tmp_path: Path, pxweb: FakePxWebApi) -> None:
    env = fetch_env(tmp_path, pxweb)
    pxweb.inject("/tables/07984/data", "http500", body="\x00\x01feil\x1b[2J", content_type="text/plain", times=None)
    result = CliRunner().invoke(cli, ["fetch", "--source", "ssb", "--force"], env=env)
    assert result.exit_code == 1, result.output
    [line] = failed_lines(result.output)
    for text in (line, stored_error(tmp_path, "07984")):
        assert "\\x00\\x01feil\\x1b[2J" in text, text  # the four characters \x00, not the byte
        assert not any(char in text for char in "\x00\x01\x1b"), repr(text)


def test_the_json_stat_error_behind_a_fetch_error_is_translated_too() -> None:
    """Udir's adapter wraps the parser's error in a FetchError naming the table and adding a hint."""
    with pytest.raises(JsonStatError) as caught:
        parse_dataset(b"\x00\x01{")
    try:
        raise FetchError(f"tabell 123: {caught.value} – importer tallene med monitor import") from caught.value
    except FetchError as wrapped:
        text = failure_message("123", wrapped)
    assert text.startswith("tabell 123: svaret fra kilden kunne ikke leses (")
    assert text.endswith("– importer tallene med monitor import")
    assert not any(word in text for word in ENGLISH) and "\x00" not in text


def import_env(tmp_path: Path) -> dict[str, str]:
    with Store(tmp_path / "i.db") as store:
        store.migrate()
    return {"MONITOR_DB": str(tmp_path / "i.db"), "MONITOR_CATALOGUE": str(IMPORTS), "MONITOR_IMPORT_BY": "test"}


def first_import_line(tmp_path: Path) -> str:
    path = tmp_path / "ok.csv"
    path.write_text("indicator_id;period;value\nsykefravaer;2024;5,5\n", encoding="utf-8")
    return str(path)


def test_a_locked_database_is_said_in_bokmal_with_sqlites_words_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env = import_env(tmp_path)
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    caplog.set_level(logging.WARNING)
    writer = sqlite3.connect(tmp_path / "i.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process is writing
        result = CliRunner().invoke(cli, ["import", first_import_line(tmp_path)], env=env)
    finally:
        writer.close()
    assert result.exit_code == StoreError.exit_code, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("Feil: ") and "kunne ikke lagre" in line and "databasen er låst av en annen prosess" in line
    assert not any(word in line for word in ENGLISH), line
    assert "database is locked" in caplog.text


def test_a_csv_field_over_the_limit_is_said_in_bokmal(tmp_path: Path) -> None:
    env = import_env(tmp_path)
    path = tmp_path / "open-quote.csv"
    path.write_text('indicator_id;period;value\nx;2024;"' + "9" * 200_000 + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(path)], env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    problem = result.stderr.splitlines()[0]
    assert "ugyldig CSV: et felt er lengre enn 131072 tegn; mangler et avsluttende anførselstegn" in problem
    assert not any(word in problem for word in ENGLISH), problem
