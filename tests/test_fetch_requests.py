"""Fetches asked for in the web UI: recorded by the web, carried out by the scheduler's 30-second job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue
from support.waiting import ProcessOutput
from monitor.sources.pipeline import IndicatorPlan
from monitor.store.fetchrequests import claim_pending, latest_requests, request_fetch, run_pending
from monitor.service.scheduler import REQUEST_INTERVAL, build_scheduler
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=OSLO)


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=5)
        return self.moment


def test_a_request_is_recorded_once_while_it_is_open(store: Store) -> None:
    first, new = request_fetch(store, "ssb", "anne", NOW)
    assert new and first.pending and first.started_at is None
    again, new_again = request_fetch(store, "ssb", "bjorn", NOW + timedelta(minutes=1))
    assert not new_again and again.id == first.id
    _, other = request_fetch(store, "fhi", "anne", NOW)
    assert other
    assert set(latest_requests(store)) == {"ssb", "fhi"}


def test_run_pending_claims_runs_each_source_once_and_marks_finished(store: Store) -> None:
    request_fetch(store, "ssb", "anne", NOW)
    request_fetch(store, "fhi", "anne", NOW)
    ran: list[str] = []
    done = run_pending(store, ran.append, Clock())
    assert ran == ["ssb", "fhi"] and [r.source for r in done] == ["ssb", "fhi"]
    rows = store.conn.execute("SELECT source, started_at, finished_at FROM fetch_requests ORDER BY id").fetchall()
    assert all(started and finished and started < finished for _, started, finished in rows)
    assert run_pending(store, ran.append, Clock()) == [] and ran == ["ssb", "fhi"]  # nothing left
    # Finished requests no longer block a new one.
    assert request_fetch(store, "ssb", "anne", NOW + timedelta(hours=1))[1]


def test_a_failing_fetch_still_finishes_every_request_and_is_raised(store: Store) -> None:
    request_fetch(store, "ssb", "anne", NOW)
    request_fetch(store, "udir", "anne", NOW)
    ran: list[str] = []

    def run_source(source: str) -> None:
        ran.append(source)
        if source == "ssb":
            raise RuntimeError("SSB svarer ikke")

    with pytest.raises(RuntimeError, match="SSB svarer ikke"):
        run_pending(store, run_source, Clock())
    assert ran == ["ssb", "udir"]
    assert store.conn.execute("SELECT COUNT(*) FROM fetch_requests WHERE finished_at IS NULL").fetchone()[0] == 0


def test_a_claimed_request_is_not_claimed_twice(store: Store) -> None:
    request_fetch(store, "ssb", "anne", NOW)
    assert len(claim_pending(store, NOW)) == 1
    assert claim_pending(store, NOW) == []
    # Still open (started, not finished): asking again adds nothing while it runs.
    assert not request_fetch(store, "ssb", "anne", NOW)[1]


def test_the_scheduler_looks_at_requests_every_30_seconds(store: Store) -> None:
    calls: list[str] = []
    scheduler = build_scheduler(
        store, calls.append, now=NOW, timezone=OSLO, sources=set(), requests=lambda: None,
        scheduler=BackgroundScheduler(timezone=OSLO),
    )
    job = scheduler.get_job("fetch-requests")
    assert job is not None and REQUEST_INTERVAL == 30
    assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(seconds=30)
    assert build_scheduler(store, calls.append, now=NOW, timezone=OSLO, sources=set(),
                           scheduler=BackgroundScheduler(timezone=OSLO)).get_job("fetch-requests") is None


def test_monitor_schedule_carries_out_a_request_made_in_the_ui(tmp_path: Path) -> None:
    """End to end: a request waiting in the database is fetched by `monitor schedule` and marked finished."""
    catalogue = load_behaviour_catalogue()
    env = {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
           "MONITOR_BASELINE": str(baseline_for(catalogue, tmp_path)),
           "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": "http://127.0.0.1:9",
           "MONITOR_FHI_URL": "http://127.0.0.1:9", "MONITOR_UDIR_URL": "http://127.0.0.1:9"}
    script = str(Path(sys.executable).parent / "monitor")
    subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=60)
    with Store(tmp_path / "x.db") as store:
        request_fetch(store, "ssb", "anne", NOW)
    process = subprocess.Popen([script, "schedule"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched = ProcessOutput(process)
    try:
        # Logged once the request has been carried out and marked finished.
        assert watched.wait_for("henting av ssb bestilt av anne er utført", timeout=60), watched.text
    finally:
        process.send_signal(signal.SIGTERM)
        output = watched.finish(timeout=60)
    with Store(tmp_path / "x.db") as peek:
        assert peek.conn.execute("SELECT finished_at FROM fetch_requests").fetchone()[0] is not None, output
    with Store(tmp_path / "x.db") as after:
        # SSB is unreachable here: the fetch ran and logged a failure for every table the catalogue reads.
        failed = {row[0] for row in after.conn.execute("SELECT target FROM fetch_runs WHERE source = 'ssb' AND outcome = 'failed'")}
        assert failed == set(IndicatorPlan(catalogue, "ssb").tables), output
