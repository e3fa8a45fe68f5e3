"""/healthz: the database and the scheduler's heartbeat, 200 or 503, under each MONITOR_HEALTH_SCHEDULER."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from support.catalogues import BEHAVIOUR_CATALOGUE
from support.paths import OSLO
from monitor.core.settings import Settings
from monitor.service.lock import acquire, heartbeat
from monitor.store.database import Store
from web import create_app

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        store.migrate()
    return path


def make_app(db: Path, **overrides: object) -> Flask:
    values: dict[str, object] = {"db": db, "catalogue": BEHAVIOUR_CATALOGUE, "secret_key": "healthz-test-secret"}
    values.update(overrides)
    app = create_app(Settings(**values), testing=True)  # type: ignore[arg-type]
    app.config["MONITOR_NOW"] = NOW
    return app


def beat(db: Path, at: datetime) -> None:
    """A scheduler (this test process) that took the lock and last beat at `at`, as monitor.service.lock does."""
    with Store(db, create=False) as store:
        acquire(store, at - timedelta(hours=1))
        heartbeat(store, at)


def health(app: Flask) -> tuple[int, dict[str, object]]:
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert isinstance(body, dict)
    return response.status_code, body


def test_without_a_scheduler_a_web_only_deployment_is_healthy(db: Path) -> None:
    status, body = health(make_app(db))
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok"
    assert body["scheduler"] == {"state": "absent", "heartbeat_age_seconds": None,
                                 "max_heartbeat_age_seconds": 900.0, "expected": "auto"}


def test_a_fresh_heartbeat_is_running(db: Path) -> None:
    beat(db, NOW - timedelta(seconds=30))
    status, body = health(make_app(db))
    assert status == 200 and body["status"] == "ok"
    assert body["scheduler"]["state"] == "running"  # type: ignore[index]
    assert body["scheduler"]["heartbeat_age_seconds"] == 30.0  # type: ignore[index]


def test_a_scheduler_silent_longer_than_the_setting_answers_503(db: Path) -> None:
    beat(db, NOW - timedelta(minutes=15, seconds=1))
    status, body = health(make_app(db))
    assert status == 503 and body["status"] == "unhealthy" and body["database"] == "ok"
    assert body["scheduler"]["state"] == "silent"  # type: ignore[index]
    assert body["scheduler"]["heartbeat_age_seconds"] == 901.0  # type: ignore[index]
    # exactly at the limit still counts as running; a longer limit accepts it
    assert health(make_app(db, health_max_heartbeat_age=901))[0] == 200
    assert health(make_app(db, health_max_heartbeat_age=3600))[0] == 200
    assert health(make_app(db, health_max_heartbeat_age=60))[0] == 503


def test_required_fails_without_a_scheduler_and_ignored_never_fails_for_it(db: Path) -> None:
    status, body = health(make_app(db, health_scheduler="required"))
    assert status == 503 and body["scheduler"]["state"] == "absent"  # type: ignore[index]
    beat(db, NOW - timedelta(seconds=5))
    assert health(make_app(db, health_scheduler="required"))[0] == 200
    beat(db, NOW - timedelta(hours=2))
    status, body = health(make_app(db, health_scheduler="ignored"))
    assert status == 200 and body["scheduler"]["state"] == "silent"  # type: ignore[index]


def test_a_database_that_does_not_answer_is_503_without_its_path(db: Path, tmp_path: Path) -> None:
    app = make_app(tmp_path / "finnes-ikke.db")
    status, body = health(app)
    assert status == 503 and body["status"] == "unhealthy" and body["database"] == "unavailable"
    assert body["scheduler"]["state"] == "unknown"  # type: ignore[index]
    assert "finnes-ikke" not in app.test_client().get("/healthz").get_data(as_text=True)
    with Store(tmp_path / "old.db") as store:  # a database at an older schema
        store.conn.execute("PRAGMA user_version = 1")
    assert health(make_app(tmp_path / "old.db"))[0] == 503


def test_open_without_a_login_when_reading_is_closed(db: Path) -> None:
    client = make_app(db, read_open=False).test_client()
    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200
