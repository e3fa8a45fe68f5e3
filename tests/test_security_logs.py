"""Secrets never reach the output of the long-running and scheduled commands (issue 9).

tests/test_web_auth.py covers pages, cookies and in-process logs, and tests/test_alerts.py the in-process
`alerts send`/`alerts test`. Here the real processes: `monitor schedule` (which logs through logging to
stderr) carrying out a fetch request while the source is down and the SMTP server refuses the login, and
`monitor alerts send` as a subprocess. Neither the SMTP password nor the session secret key may appear.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from support.paths import REPO
from monitor.store.fetchrequests import request_fetch
from monitor.store.database import Store
from support.smtp_server import SmtpServer
from support.waiting import ProcessOutput

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)  # when anne asked; the scheduler carries out any waiting request
SMTP_PASSWORD = "smtp-Hemmelig-passord-77"
SECRET_KEY = "okt-hemmelig-nokkel-0123456789abcdef"
SCRIPT = str(Path(sys.executable).parent / "monitor")

pytestmark = pytest.mark.slow


def test_schedule_and_alerts_send_never_print_the_smtp_password_or_the_secret_key(tmp_path: Path) -> None:
    # The SMTP server knows another password, so every send fails with 535 and the failure is logged.
    server = SmtpServer(user="monitor", password="serverens-eget-passord").start()
    try:
        env = {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
               "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": "http://127.0.0.1:9",
               "MONITOR_FHI_URL": "http://127.0.0.1:9", "MONITOR_UDIR_URL": "http://127.0.0.1:9",
               "MONITOR_SMTP_HOST": "127.0.0.1", "MONITOR_SMTP_PORT": str(server.port),
               "MONITOR_SMTP_USER": "monitor", "MONITOR_SMTP_PASSWORD": SMTP_PASSWORD, "MONITOR_SMTP_TIMEOUT": "5",
               "MONITOR_ALERT_TO": "drift@asker.test", "MONITOR_SECRET_KEY": SECRET_KEY}
        subprocess.run([SCRIPT, "init"], env=env, check=True, capture_output=True, timeout=60)
        with Store(tmp_path / "x.db") as store:
            request_fetch(store, "ssb", "anne", NOW)
        process = subprocess.Popen([SCRIPT, "schedule"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        watched = ProcessOutput(process)
        try:
            # Logged once the request has been carried out (and its alerts tried).
            assert watched.wait_for("henting av ssb bestilt av anne er utført", timeout=60), watched.text
        finally:
            process.send_signal(signal.SIGTERM)
            scheduled = watched.finish(timeout=60)
        with Store(tmp_path / "x.db") as peek:
            assert peek.conn.execute("SELECT finished_at FROM fetch_requests").fetchone()[0] is not None, scheduled
        sent = subprocess.run([SCRIPT, "alerts", "send"], env=env, capture_output=True, text=True, timeout=60)
        tested = subprocess.run([SCRIPT, "alerts", "test"], env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    # The failures were really there and logged: the fetch errors and the SMTP refusal.
    assert "får ikke kontakt med http://127.0.0.1:9" in scheduled
    assert "535" in scheduled + sent.stdout + sent.stderr + tested.stderr
    for text in (scheduled, sent.stdout, sent.stderr, tested.stdout, tested.stderr):
        assert SMTP_PASSWORD not in text
        assert SECRET_KEY not in text
    with Store(tmp_path / "x.db") as store:
        errors = " ".join(str(row[0]) for row in store.conn.execute("SELECT last_error FROM alert_outbox"))
    assert SMTP_PASSWORD not in errors
