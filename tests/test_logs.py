"""MONITOR_LOG_FORMAT: readable text by default; json gives one JSON object per line with run_id, source, table and
outcome on a fetch run's lines (the pipeline's per table, the scheduler job's errors and summary)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from support.catalogues import load_fixture_baseline
from support.clocks import FixedClock
from support.fake_udir import FakeUdir
from support.paths import OSLO, REPO
from fetchers.udir import UdirClient
from fetchers.udir_source import UdirSource
from monitor.catalogue.indicators import Catalogue
from monitor.cli import service
from monitor.core.logs import TEXT_FORMAT, JsonFormatter
from monitor.core.settings import Settings
from monitor.sources.pipeline import FetchReport, IndicatorPlan, TableOutcome, fetch_source
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record of the `monitor` loggers at INFO and above, formatted as MONITOR_LOG_FORMAT=json does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("monitor")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]  # every line is one whole JSON object


def test_a_record_becomes_one_json_line_with_its_fields() -> None:
    logger = logging.getLogger("monitor.test")
    try:
        raise ValueError("linje én\nlinje to")
    except ValueError:
        record = logger.makeRecord("monitor.test", logging.ERROR, __file__, 1, "%s: tabell %s feilet", ("ssb", "12143"),
                                   sys.exc_info(), extra={"run_id": 7, "source": "ssb", "table": "12143", "outcome": "failed"})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "ssb: tabell 12143 feilet" and data["level"] == "ERROR" and data["logger"] == "monitor.test"
    assert (data["run_id"], data["source"], data["table"], data["outcome"]) == (7, "ssb", "12143", "failed")
    assert "ValueError: linje én\nlinje to" in data["exception"]
    assert datetime.fromisoformat(data["time"]).tzinfo is not None
    plain = JsonFormatter().format(logging.LogRecord("web", logging.INFO, __file__, 1, "hei", None, None))
    assert set(json.loads(plain)) == {"time", "level", "logger", "message"}, "no empty fields on other lines"


def test_the_scheduler_job_logs_failed_tables_and_its_summary_with_fields(
    tmp_path: Path, behaviour_catalogue: Catalogue, json_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "monitor.db"
    with Store(db) as store:
        store.migrate()
    report = FetchReport("ssb", [TableOutcome("07459", "ok", new=3, run_id=11),
                                 TableOutcome("12143", "failed", error="SSB svarte 503", run_id=12)], requests=4)
    monkeypatch.setattr(service, "run_fetch", lambda *args, **kwargs: report)
    service.run_scheduled_fetch(Settings(db=db), behaviour_catalogue, None, "ssb", alerts=lambda *args: None)
    lines = parsed(json_lines)
    failed = [line for line in lines if line["level"] == "ERROR"]
    assert failed == [{**failed[0], "run_id": 12, "source": "ssb", "table": "12143", "outcome": "failed",
                       "message": "SSB 12143: SSB svarte 503"}]
    summary = lines[-1]
    assert summary["message"] == "ssb: 2 tabeller, 1 feilet, 4 forespørsler"
    assert (summary["source"], summary["outcome"], summary["tables"], summary["failed"], summary["requests"]) == \
        ("ssb", "failed", 2, 1, 4)

    def broken(*args: object, **kwargs: object) -> FetchReport:
        raise RuntimeError("uventet")

    monkeypatch.setattr(service, "run_fetch", broken)
    service.run_scheduled_fetch(Settings(db=db), behaviour_catalogue, None, "fhi", alerts=lambda *args: None)
    stopped = parsed(json_lines)[-1]
    assert stopped["source"] == "fhi" and stopped["outcome"] == "failed" and "RuntimeError: uventet" in stopped["exception"]


def test_each_table_of_a_fetch_run_logs_its_run_id(
    tmp_path: Path, behaviour_catalogue: Catalogue, json_lines: io.StringIO
) -> None:
    with Store(tmp_path / "monitor.db") as store, FakeUdir(calls=60, window=60) as server:
        store.migrate()
        load_fixture_baseline(store, behaviour_catalogue, NOW, tmp_path)
        with UdirClient(server.base_url, timeout=5, backoff=0.01) as client:
            report = fetch_source(UdirSource(client, behaviour_catalogue), IndicatorPlan(behaviour_catalogue, "udir"),
                                  store, clock=FixedClock(NOW), raw_dir=tmp_path / "raw")
        runs = {row["id"]: row for row in store.runs("udir")}
    tables = [line for line in parsed(json_lines) if line.get("table") and line["logger"] == "monitor.sources.pipeline"]
    assert len(tables) == len(report.tables) >= 1
    for line in tables:
        row = runs[line["run_id"]]
        assert (line["source"], line["table"], line["outcome"]) == ("udir", row["target"], row["outcome"])
        assert line["level"] == "INFO"


def test_a_failed_table_is_logged_with_its_run_id(tmp_path: Path, behaviour_catalogue: Catalogue, json_lines: io.StringIO) -> None:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        with UdirClient("http://127.0.0.1:9", timeout=1, backoff=0.01) as client:
            fetch_source(UdirSource(client, behaviour_catalogue), IndicatorPlan(behaviour_catalogue, "udir"),
                         store, clock=FixedClock(NOW), raw_dir=tmp_path / "raw")
        failed = {row["id"]: row["target"] for row in store.runs("udir") if row["outcome"] == "failed"}
    lines = [line for line in parsed(json_lines) if line.get("outcome") == "failed"]
    assert failed and {line["run_id"]: line["table"] for line in lines if "run_id" in line} == failed


@pytest.mark.parametrize("kind", ["text", "json"])
def test_setup_logging_in_a_fresh_process(kind: str) -> None:
    code = (
        "import logging\nfrom monitor.core.logs import TEXT_FORMAT, setup_logging\n"
        f"setup_logging({kind!r}, logging.INFO, TEXT_FORMAT)\n"
        "logging.getLogger('monitor.sources.pipeline').info('ssb: tabell %s: ok', '12143', "
        "extra={'run_id': 5, 'source': 'ssb', 'table': '12143', 'outcome': 'ok'})\n"
        "logging.getLogger('x').debug('not shown')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    if kind == "text":  # the default stays the readable line it always was
        assert lines[0].endswith(" INFO monitor.sources.pipeline: ssb: tabell 12143: ok")
        assert TEXT_FORMAT == "%(asctime)s %(levelname)s %(name)s: %(message)s"
    else:
        data = json.loads(lines[0])
        assert data["message"] == "ssb: tabell 12143: ok"
        assert (data["run_id"], data["source"], data["table"], data["outcome"]) == (5, "ssb", "12143", "ok")


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.delenv("MONITOR_LOG_FORMAT")
    assert Settings().log_format == "text"
