"""The scheduler: jobs, DST, catch-up after downtime from fetch_runs, and one scheduler per database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from support.hermetic import closed_port, source_url_env
from support.paths import FIXTURES, REPO
from support.waiting import ProcessOutput
from monitor.store.fetchrequests import request_fetch
from monitor.catalogue.kostra import load_kostra
from monitor.core.model import RunRecord
from monitor.core.errors import LockHeld
from monitor.service.lock import acquire, heartbeat, release
from monitor.sources.registry import JOBS, next_check
from monitor.sources.schedule import SourceJob
from monitor.service.scheduler import MISFIRE_GRACE, build_scheduler, needs_catch_up, previous_fire
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")


def test_no_job_runs_between_two_and_three() -> None:
    assert all(job.hour != 2 for job in JOBS)
    with pytest.raises(ValueError, match="02:00 and 03:00"):
        SourceJob("x", 2, 30).trigger(OSLO)


@pytest.mark.parametrize(
    "after,expected",
    [
        # The night to 29 March 2026 loses an hour; the night to 25 October 2026 repeats one.
        (datetime(2026, 3, 28, 9, 0, tzinfo=OSLO), datetime(2026, 3, 29, 8, 30, tzinfo=OSLO)),
        (datetime(2026, 10, 24, 9, 0, tzinfo=OSLO), datetime(2026, 10, 25, 8, 30, tzinfo=OSLO)),
        (datetime(2026, 12, 31, 9, 0, tzinfo=OSLO), datetime(2027, 1, 1, 8, 30, tzinfo=OSLO)),
        (datetime(2028, 2, 28, 9, 0, tzinfo=OSLO), datetime(2028, 2, 29, 8, 30, tzinfo=OSLO)),
    ],
)
def test_ssb_runs_at_0830_local_across_dst_and_new_year(after: datetime, expected: datetime) -> None:
    trigger = SourceJob("ssb", 8, 30).trigger(OSLO)
    fire = trigger.get_next_fire_time(None, after)
    assert fire == expected and fire.utcoffset() == expected.utcoffset()


def test_next_check_is_the_next_fire_of_the_sources_job() -> None:
    assert next_check("ssb", datetime(2026, 11, 27, 9, 0, tzinfo=OSLO), OSLO) == datetime(2026, 11, 28, 8, 30, tzinfo=OSLO)
    assert next_check("fhi", datetime(2026, 11, 27, 8, 0, tzinfo=OSLO), OSLO) == datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
    assert next_check("import", datetime(2026, 11, 27, 8, 0, tzinfo=OSLO), OSLO) is None


def test_previous_fire() -> None:
    trigger = SourceJob("ssb", 8, 30).trigger(OSLO)
    assert previous_fire(trigger, datetime(2026, 11, 27, 8, 29, tzinfo=OSLO)) == datetime(2026, 11, 26, 8, 30, tzinfo=OSLO)
    assert previous_fire(trigger, datetime(2026, 11, 27, 8, 30, tzinfo=OSLO)) == datetime(2026, 11, 27, 8, 30, tzinfo=OSLO)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "s.db")
    opened.migrate()
    return opened


def log_run(store: Store, source: str, at: datetime) -> None:
    store.write_run(RunRecord(source, "endringssjekk", at, at), [])


def test_catch_up_is_decided_from_fetch_runs(store: Store) -> None:
    job = SourceJob("ssb", 8, 30)
    morning = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
    assert needs_catch_up(store, job, morning, OSLO)  # never ran
    log_run(store, "ssb", datetime(2026, 11, 26, 8, 31, tzinfo=OSLO))
    assert needs_catch_up(store, job, morning, OSLO)  # today's 08:30 was missed
    assert not needs_catch_up(store, job, datetime(2026, 11, 27, 8, 0, tzinfo=OSLO), OSLO)
    log_run(store, "ssb", datetime(2026, 11, 27, 8, 30, 5, tzinfo=OSLO))
    assert not needs_catch_up(store, job, morning, OSLO)


def test_jobs_are_built_with_safe_options(store: Store) -> None:
    now = datetime(2026, 11, 27, 9, 10, tzinfo=OSLO)
    log_run(store, "fhi", now - timedelta(minutes=5))  # FHI ran at 09:05 as planned; SSB never did
    scheduler = build_scheduler(store, lambda source: None, now=now, timezone=OSLO, scheduler=BlockingScheduler(timezone=OSLO))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"fetch-ssb", "fetch-fhi", "fetch-udir", "fetch-barnehagefakta", "fetch-miljodir",
                         "fetch-ssb-kostra"}
    assert str(jobs["fetch-miljodir"].trigger.fields[4]) == "mon"  # weekly: day_of_week (a yearly workbook)
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, MISFIRE_GRACE)
    assert MISFIRE_GRACE >= 3600
    # Not started: pending jobs carry the catch-up marker as their first run time.
    assert jobs["fetch-ssb"].next_run_time == now
    assert getattr(jobs["fetch-fhi"], "next_run_time", None) is None  # follows its cron trigger


def test_after_a_missed_run_exactly_one_catch_up_runs(store: Store) -> None:
    ran: list[str] = []
    done = threading.Event()

    def run_source(source: str) -> None:
        ran.append(source)
        log_run(Store(store.path), source, now)
        done.set()

    # APScheduler's BackgroundScheduler runs on the wall clock, so the catch-up time is now.
    now = datetime.now(OSLO)
    # Simulate a restart after downtime: the last SSB run is two days old.
    log_run(store, "ssb", now - timedelta(days=2))
    scheduler = build_scheduler(store, run_source, now=now, timezone=OSLO, sources={"ssb"},
                                scheduler=BackgroundScheduler(timezone=OSLO))
    scheduler.start()
    try:
        assert done.wait(10)
        # The catch-up ran; the job's next run is its next daily time, not another run now.
        job = scheduler.get_job("fetch-ssb")
        assert job is not None and job.next_run_time == SourceJob("ssb", 8, 30).trigger(OSLO).get_next_fire_time(now, now)
        assert job.next_run_time > now
    finally:
        scheduler.shutdown(wait=True)
    assert ran == ["ssb"]
    # A second restart right after finds nothing missed.
    assert not needs_catch_up(store, SourceJob("ssb", 8, 30), now, OSLO)


def test_lock_refuses_a_second_scheduler_and_takes_over_from_the_dead(store: Store) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
    acquire(store, now, host="h1", pid=os.getpid())
    with pytest.raises(LockHeld, match="en annen planlegger kjører allerede"):
        acquire(store, now, host="h2", pid=4242)
    heartbeat(store, now + timedelta(seconds=30), host="h1", pid=os.getpid())
    # Silent for longer than the stale limit: taken over.
    acquire(store, now + timedelta(minutes=10), host="h2", pid=4242)
    with pytest.raises(LockHeld, match="tatt over"):
        heartbeat(store, now + timedelta(minutes=10), host="h1", pid=os.getpid())
    release(store, host="h2", pid=4242)
    # A holder on this host whose process is gone is taken over at once.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    acquire(store, now, host="h3", pid=dead.pid)
    acquire(store, now + timedelta(seconds=1), host="h3", pid=os.getpid())


def test_two_scheduler_processes_on_one_database(tmp_path: Path) -> None:
    # Every source, Udir included, at a closed loopback port: the catch-up runs fail at once, off no real source.
    sources = source_url_env(closed_port())
    env = {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_RAW_DIR": str(tmp_path / "raw"), **sources}
    assert {"MONITOR_SSB_URL", "MONITOR_FHI_URL", "MONITOR_UDIR_URL"} <= set(sources)
    script = str(Path(sys.executable).parent / "monitor")
    subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=60)
    first = subprocess.Popen([script, "schedule"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ProcessOutput(first)
    try:
        # The first scheduler prints this once it holds the lock.
        assert output.wait_for("Planleggeren kjører mot", timeout=20), output.text
        with Store(tmp_path / "x.db") as peek:
            assert peek.conn.execute("SELECT COUNT(*) FROM scheduler_lock").fetchone()[0] == 1
        second = subprocess.run([script, "schedule"], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "en annen planlegger kjører allerede" in second.stderr and "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        text = output.finish(timeout=30)
    assert first.returncode == 0, text
    assert "Planleggeren er stoppet." in text
    with Store(tmp_path / "x.db") as after:
        assert after.conn.execute("SELECT COUNT(*) FROM scheduler_lock").fetchone()[0] == 0


def test_the_scheduler_fetches_the_kostra_comparison(tmp_path: Path) -> None:
    """`monitor schedule` on a fresh database catches up every job, the KOSTRA peer comparison included."""
    from support.fake_pxwebapi import FakePxWebApi

    with FakePxWebApi(FIXTURES / "ssb-v2-kostra") as ssb:
        env = {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
               "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": ssb.base_url,
               "MONITOR_FHI_URL": "http://127.0.0.1:9", "MONITOR_UDIR_URL": "http://127.0.0.1:9"}
        script = str(Path(sys.executable).parent / "monitor")
        subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=60)
        tables = sorted({series.table for _, series in load_kostra(REPO / "kostra.yaml").fetched_series})
        with Store(tmp_path / "x.db") as store:
            # The other sources ran just now (no catch-up for them); an admin asked for a KOSTRA fetch on /kilder.
            # `monitor schedule` reads the wall clock, so "just now" is the wall clock here too.
            wall_now = datetime.now(OSLO)
            for source in ("ssb", "fhi", "udir"):
                log_run(store, source, wall_now)
            request_fetch(store, "ssb-kostra", "anne", wall_now)
        process = subprocess.Popen([script, "schedule"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        watched = ProcessOutput(process)
        try:
            # Logged once the requested fetch has run and the request is marked done.
            assert watched.wait_for("henting av ssb-kostra bestilt av anne er utført", timeout=60), watched.text
        finally:
            process.send_signal(signal.SIGTERM)
            output = watched.finish(timeout=30)
    with Store(tmp_path / "x.db") as peek:
        done = [row[0] for row in peek.conn.execute(
            "SELECT target FROM fetch_runs WHERE source = 'ssb-kostra' AND outcome = 'ok'")]
        assert peek.conn.execute("SELECT finished_at FROM fetch_requests").fetchone()[0] is not None
    assert sorted(done) == tables, output
    assert "henting av ssb-kostra bestilt av anne er utført" in output
    with Store(tmp_path / "x.db") as store:
        # Asker's 2024 figure of a row printed as SSB publishes it, stored under today's code.
        assert store.vintages("kostra.opp_grunnskolepoeng", "3203")[-1].period == "2024"
    assert "ssb-kostra: %d tabeller, 0 feilet" % len(tables) in output
