"""Backups that restore (issue 19 §2): `monitor backup` while others write, `monitor restore`, the daily job.

The copy is taken with SQLite's online backup API: it must pass PRAGMA integrity_check and hold exactly what was
committed at the moment it was taken — every row equal to a snapshot read in the same read transaction (a writer
thread), or a prefix of the runs of a real `monitor fetch` it interrupted (a subprocess against the fake PxWebApi,
slowed down with `delay` faults). A restore round trip gives back every row of every table.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler
from click.testing import CliRunner

from monitor.cli.backup import scheduled_backup_job
from monitor.cli.main import cli
from monitor.core.errors import StoreError
from monitor.core.model import Observation, RunRecord
from monitor.core.numbers import format_number
from monitor.core.settings import Settings
from monitor.service.backups import daily_backup
from monitor.service.lock import STALE_AFTER, acquire
from monitor.service.scheduler import build_scheduler
from monitor.store.backup import backup_name, backup_to_folder, backups_in, check_copy, restore_database, write_backup
from monitor.store.database import Store
from monitor.store.migrations import MIGRATIONS
from support.fake_pxwebapi import FakePxWebApi
from support.paths import OSLO, REPO
from support.waiting import wait_until

SCRIPT = str(Path(sys.executable).parent / "monitor")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)


def rows_of(db: Path | sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered, with the schema and user_version (one read of one snapshot)."""
    conn = db if isinstance(db, sqlite3.Connection) else sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        dump = {table: conn.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2').fetchall() for table in tables}
        dump["(schema)"] = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        dump["(user_version)"] = conn.execute("PRAGMA user_version").fetchall()
        return dump
    finally:
        if not isinstance(db, sqlite3.Connection):
            conn.close()


def integrity(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def run_record(n: int) -> RunRecord:
    moment = NOW + timedelta(seconds=n)
    return RunRecord(source="import", target=f"fil-{n}.csv", started_at=moment, finished_at=moment, actor="test")


def observations(n: int, size: int = 40) -> list[Observation]:
    return [Observation("sykefravaer", f"{3000 + k:04d}", str(2000 + n % 25), float(n * 1000 + k), None, "import")
            for k in range(size)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as opened:
        opened.migrate()
        yield opened


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"MONITOR_DB": str(tmp_path / "monitor.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
            "MONITOR_RAW_DIR": str(tmp_path / "raw"), **extra}


# -- consistency while others write ----------------------------------------------------------------------------------


def test_a_backup_taken_while_a_thread_commits_runs_holds_exactly_the_snapshot_it_read(store: Store, tmp_path: Path) -> None:
    committed = 0
    progress = threading.Condition()
    stop = threading.Event()
    failure: list[BaseException] = []

    def writer() -> None:
        nonlocal committed
        try:
            with Store(store.path) as own:
                n = 0
                while not stop.is_set():
                    n += 1
                    own.write_run(run_record(n), observations(n))
                    with progress:
                        committed = n
                        progress.notify_all()
        except BaseException as exc:  # noqa: B036 - reported to the test below
            failure.append(exc)
            with progress:
                progress.notify_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with progress:
            assert progress.wait_for(lambda: committed >= 5 or failure, timeout=30)
        with Store(store.path, create=False) as reader:
            reader.conn.execute("BEGIN")
            snapshot = rows_of(reader.conn)  # the read transaction's snapshot: the copy must equal it
            report = write_backup(reader, tmp_path / "kopi.db")
            reader.conn.execute("COMMIT")
        taken = len(snapshot["fetch_runs"])
        with progress:  # the writer went on committing after the copy's snapshot
            assert progress.wait_for(lambda: committed >= taken + 3 or failure, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failure, failure
    copy = tmp_path / "kopi.db"
    assert integrity(copy) == [("ok",)]
    assert rows_of(copy) == snapshot
    assert report.counts["fetch_runs"] == taken and report.counts["observations"] == 40 * taken
    final = rows_of(store.path)
    # What the copy holds is a prefix of the committed runs, each with all its observations, and nothing after.
    assert snapshot["fetch_runs"] == final["fetch_runs"][:taken] and len(final["fetch_runs"]) > taken
    kept = {run[0] for run in snapshot["fetch_runs"]}
    assert snapshot["observations"] == [row for row in final["observations"] if row[-1] in kept]
    assert not list(tmp_path.glob(".kopi.db*")) and not list(tmp_path.glob("kopi.db-*"))


@pytest.fixture
def ssb() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=1000, window=60, now=NOW) as server:
        yield server


def test_monitor_backup_during_a_real_fetch_copies_the_runs_committed_so_far(tmp_path: Path, ssb: FakePxWebApi) -> None:
    env = {**os.environ, "MONITOR_DB": str(tmp_path / "monitor.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": ssb.base_url, "MONITOR_HTTP_TIMEOUT": "10"}
    db = tmp_path / "monitor.db"
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    before = len(rows_of(db)["fetch_runs"])
    ssb.inject("/tables/*/data", "delay", times=None, seconds=0.15)  # every table takes 0.15 s: the copy lands mid-run

    def ssb_runs() -> int:
        conn = sqlite3.connect(db)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM fetch_runs WHERE source = 'ssb'").fetchone()[0])
        finally:
            conn.close()

    fetch = subprocess.Popen([SCRIPT, "fetch", "--source", "ssb", "--force"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: ssb_runs() >= 2, timeout=60), "the fetch committed no table"
        result = CliRunner().invoke(cli, ["backup", str(tmp_path / "midt-i.db")], env=env)
        assert fetch.wait(timeout=120) in (0, 1)
    finally:
        if fetch.poll() is None:
            fetch.kill()
            fetch.wait()
    assert result.exit_code == 0, result.output
    copy = tmp_path / "midt-i.db"
    assert integrity(copy) == [("ok",)]
    assert "integritetssjekk ok" in result.output
    taken, final = rows_of(copy), rows_of(db)
    runs = len(taken["fetch_runs"])
    assert before + 2 <= runs < len(final["fetch_runs"]), "the backup did not land in the middle of the fetch"
    assert taken["fetch_runs"] == final["fetch_runs"][:runs]
    kept = {run[0] for run in taken["fetch_runs"]}
    assert taken["observations"] == [row for row in final["observations"] if row[-1] in kept]
    assert f"observations: {format_number(len(taken['observations']), 0)} rader" in result.output


# -- the command and its folder --------------------------------------------------------------------------------------


def test_backups_in_a_folder_are_named_by_the_clock_and_only_the_newest_are_kept(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    (folder).mkdir()
    (folder / "notater.txt").write_text("ikke en kopi", encoding="utf-8")
    removed_all: list[Path] = []
    for day in range(4):
        store.write_run(run_record(day), observations(day, 3))
        report, removed = backup_to_folder(store, folder, NOW + timedelta(days=day), keep=2)
        removed_all += removed
        assert report.path.name == backup_name(NOW + timedelta(days=day))
    assert [p.name for p in backups_in(folder)] == ["monitor-20261129-090000.db", "monitor-20261130-090000.db"]
    assert [p.name for p in removed_all] == ["monitor-20261127-090000.db", "monitor-20261128-090000.db"]
    assert (folder / "notater.txt").exists()
    assert check_copy(folder / "monitor-20261130-090000.db").counts["fetch_runs"] == 4


def test_the_backup_command_prints_size_and_counts_in_bokmal(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    with Store(tmp_path / "monitor.db", create=False) as opened:
        opened.write_run(run_record(1), observations(1, 1200))
        count = opened.conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    result = runner.invoke(cli, ["backup", "--dir", str(tmp_path / "kopier"), "--keep", "3"], env=env)
    assert result.exit_code == 0, result.output
    made = backups_in(tmp_path / "kopier")
    assert len(made) == 1
    assert f"{made[0]}: " in result.output and "\u00a0kB, skjemaversjon" in result.output
    assert f"  observations: {format_number(count, 0)} rader" in result.output and "\u00a0" in format_number(count, 0)
    assert "  users: 0 rader" in result.output
    again = runner.invoke(cli, ["backup", str(made[0])], env=env)
    assert again.exit_code == 1 and "finnes fra før" in again.output
    assert runner.invoke(cli, ["backup"], env=env).exit_code == 2
    assert runner.invoke(cli, ["backup", str(tmp_path / "x.db"), "--keep", "2"], env=env).exit_code == 2
    itself = runner.invoke(cli, ["backup", "--force", str(tmp_path / "monitor.db")], env=env)
    assert itself.exit_code == 1 and "selve databasen" in itself.output


# -- restore ---------------------------------------------------------------------------------------------------------


def test_a_restore_round_trip_gives_back_every_row_of_every_table(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runner = CliRunner()
    db = tmp_path / "monitor.db"
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    assert runner.invoke(cli, ["user", "add", "kari", "--role", "admin", "--password-stdin"], env=env,
                         input="et langt passord 123\n").exit_code == 0
    with Store(db, create=False) as opened:
        for n in range(3):
            opened.write_run(run_record(n), observations(n))
    before = rows_of(db)
    assert runner.invoke(cli, ["backup", str(tmp_path / "kopi.db")], env=env).exit_code == 0
    with Store(db, create=False) as opened:  # the database moves on after the backup (and keeps a -wal)
        opened.write_run(run_record(9), observations(9))
        opened.conn.execute("DELETE FROM users")
        assert rows_of(opened.conn) != before
    result = runner.invoke(cli, ["restore", str(tmp_path / "kopi.db")], env=env)
    assert result.exit_code == 0, result.output
    assert "gjenopprettet fra" in result.output and "integritetssjekk ok" in result.output
    assert rows_of(db) == before
    assert integrity(db) == [("ok",)]
    assert not list(tmp_path.glob(".monitor.db*"))
    assert runner.invoke(cli, ["status"], env=env).exit_code == 0  # the service's commands take it as it is


def test_restore_refuses_while_a_scheduler_runs_and_allows_a_dead_ones_lock(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runner = CliRunner()
    db = tmp_path / "monitor.db"
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    assert runner.invoke(cli, ["backup", str(tmp_path / "kopi.db")], env=env).exit_code == 0
    with Store(db, create=False) as opened:
        opened.write_run(run_record(1), observations(1))
        acquire(opened, datetime.now(OSLO))  # this process holds the lock, its heartbeat fresh
    before = db.read_bytes()
    refused = runner.invoke(cli, ["restore", str(tmp_path / "kopi.db")], env=env)
    assert refused.exit_code == 1
    assert "en planlegger kjører mot" in refused.output and f"prosess {os.getpid()}" in refused.output
    assert db.read_bytes() == before
    with Store(db, create=False) as opened:  # the holder fell silent long ago: no scheduler runs
        stale = (datetime.now(OSLO) - STALE_AFTER - timedelta(minutes=1)).isoformat()
        opened.conn.execute("UPDATE scheduler_lock SET heartbeat_at = ?", [stale])
    allowed = runner.invoke(cli, ["restore", str(tmp_path / "kopi.db")], env=env)
    assert allowed.exit_code == 0, allowed.output
    assert rows_of(db)["fetch_runs"] == rows_of(tmp_path / "kopi.db")["fetch_runs"]


def test_restore_refuses_while_another_process_has_the_database_open(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runner = CliRunner()
    db = tmp_path / "monitor.db"
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    assert runner.invoke(cli, ["backup", str(tmp_path / "kopi.db")], env=env).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT COUNT(*) FROM observations').fetchone(); print('open', flush=True); sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        refused = runner.invoke(cli, ["restore", str(tmp_path / "kopi.db")], env=env)
        assert refused.exit_code == 1 and "er åpen i en annen prosess" in refused.output
        assert not list(tmp_path.glob(".monitor.db*"))
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    assert runner.invoke(cli, ["restore", str(tmp_path / "kopi.db")], env=env).exit_code == 0


def test_restore_checks_the_copy_first_and_leaves_the_database_alone(store: Store, tmp_path: Path) -> None:
    store.write_run(run_record(1), observations(1))
    good = write_backup(store, tmp_path / "god.db").path
    store.close()
    db = store.path
    before = rows_of(db)
    broken = tmp_path / "ødelagt.db"
    data = bytearray(good.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = b"\xff" * 4096  # a page of garbage in the middle
    broken.write_bytes(bytes(data))
    newer = tmp_path / "nyere.db"
    newer.write_bytes(good.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    foreign = tmp_path / "fremmed.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    text = tmp_path / "tekst.db"
    text.write_text("ikke en database", encoding="utf-8")
    expected = {broken: "", newer: "nyere enn programmet", foreign: "ikke en database fra overvåkingen", text: ""}
    for copy, words in expected.items():
        with pytest.raises(StoreError) as caught:
            restore_database(copy, db)
        assert words in str(caught.value)
        assert rows_of(db) == before
        assert not list(db.parent.glob(".monitor.db*"))
    with pytest.raises(StoreError, match="finnes ikke"):
        restore_database(tmp_path / "borte.db", db)
    older = tmp_path / "eldre.db"
    older.write_bytes(good.read_bytes())
    with sqlite3.connect(older) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.close()
    result = CliRunner().invoke(cli, ["restore", str(older)], env=env_for(tmp_path))
    assert result.exit_code == 0 and "kjør `monitor init`" in result.output


# -- the daily job ---------------------------------------------------------------------------------------------------


def test_the_daily_backup_job_keeps_the_newest_and_logs_a_failure(store: Store, tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "var" / "backups"
    for day in range(3):
        store.write_run(run_record(day), observations(day, 2))
        report = daily_backup(store.path, folder, 2, NOW.replace(hour=4, minute=15) + timedelta(days=day))
        assert report is not None and report.counts["fetch_runs"] == day + 1
    assert [p.name for p in backups_in(folder)] == ["monitor-20261128-041500.db", "monitor-20261129-041500.db"]
    assert all(integrity(p) == [("ok",)] for p in backups_in(folder))
    with caplog.at_level(logging.ERROR, logger="monitor.service.backups"):
        assert daily_backup(tmp_path / "finnes-ikke.db", folder, 2, NOW) is None
    assert "sikkerhetskopien feilet" in caplog.text


def test_the_scheduler_takes_the_daily_backup_at_a_quiet_hour_only_when_asked(store: Store, tmp_path: Path) -> None:
    assert scheduled_backup_job(Settings(db=store.path)) is None  # off by default
    job = scheduled_backup_job(Settings(db=store.path, backup_dir=tmp_path / "b", backup_keep=1))
    assert job is not None
    job()  # the job itself, as the scheduler calls it: a backup by the real clock, checked
    assert len(backups_in(tmp_path / "b")) == 1
    plain = build_scheduler(store, lambda source: None, now=NOW, timezone=OSLO, scheduler=BlockingScheduler(timezone=OSLO))
    assert plain.get_job("backup") is None
    scheduler = build_scheduler(store, lambda source: None, now=NOW, timezone=OSLO, backup=job,
                                scheduler=BlockingScheduler(timezone=OSLO))
    backup_job = scheduler.get_job("backup")
    assert backup_job is not None and backup_job.func is job
    fire = backup_job.trigger.get_next_fire_time(None, NOW)
    assert (fire.hour, fire.minute) == (4, 15) and not 2 <= fire.hour < 3
    assert fire.date() == (NOW + timedelta(days=1)).date()  # daily, never caught up at start


def test_restore_replaces_a_damaged_database(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    runner = CliRunner()
    db = tmp_path / "monitor.db"
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    assert runner.invoke(cli, ["backup", str(tmp_path / "kopi.db")], env=env).exit_code == 0
    db.write_bytes(b"\x00" * 100 + b"ikke lenger en database" * 200)  # what a restore is for
    (tmp_path / "monitor.db-wal").write_bytes(b"stale")
    result = runner.invoke(cli, ["restore", str(tmp_path / "kopi.db")], env=env)
    assert result.exit_code == 0, result.output
    assert "kan ikke leses" in result.stderr
    assert not (tmp_path / "monitor.db-wal").exists()
    assert rows_of(db) == rows_of(tmp_path / "kopi.db") and integrity(db) == [("ok",)]
