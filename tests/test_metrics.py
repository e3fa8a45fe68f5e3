"""GET /metrics: the Prometheus text format read back with prometheus_client's own parser, its figures checked against
the store and the evaluation, its access rule, and every metric the shipped alert rules and Grafana dashboard use."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from support.catalogues import BEHAVIOUR_CATALOGUE, load_fixture_baseline
from support.paths import OSLO, REPO
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.core import timestamps
from monitor.core.errors import ConfigError
from monitor.core.model import Observation, RunRecord
from monitor.core.settings import Settings
from monitor.evaluate.assessment import evaluate_all
from monitor.report.readcache import PROCESS_CACHE
from monitor.store.database import Store
from monitor.store.ops import CLAIM_LEASE, stored_data
from web import create_app

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
SSB_OK = datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc)
SSB_FAILED = datetime(2026, 11, 26, 7, 30, tzinfo=timezone.utc)
BEAT = NOW - timedelta(seconds=42)


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue(BEHAVIOUR_CATALOGUE)


def run(store: Store, source: str, target: str, at: datetime, outcome: str = "ok") -> None:
    record = RunRecord(source, target, at - timedelta(seconds=5), at)
    if outcome == "failed":
        store.record_failure(record, "tabellen svarte ikke")
    else:
        store.write_run(record, [])  # no new vintage: "unchanged"


def mail(store: Store, number: int, *, claimed: datetime | None = None, error: str | None = None, sent: bool = False) -> None:
    store.conn.execute(
        "INSERT INTO alert_outbox (message_id, created_at, sender, mail_to, mail_cc, subject, message, claimed_at, "
        "claim_token, attempts, last_error, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"<{number}@test>", timestamps.encode(NOW), "a@b.no", "[]", "[]", "emne", "tekst",
         timestamps.encode(claimed) if claimed else None, "t" if claimed else None, 1 if error else 0, error,
         timestamps.encode(NOW) if sent else None),
    )


@pytest.fixture
def db(tmp_path: Path, catalogue: Catalogue) -> Path:
    """The baseline, a run log (SSB: a success, then two failures of one table; FHI: one failure; an import),
    the outbox in every state and a scheduler that beat 42 s ago."""
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        store.migrate()
        load_fixture_baseline(store, catalogue, NOW, tmp_path)
        run(store, "ssb", "12143", SSB_OK)
        run(store, "ssb", "07459", SSB_OK - timedelta(days=1))
        run(store, "ssb", "12143", SSB_FAILED - timedelta(days=1), "failed")
        run(store, "ssb", "12143", SSB_FAILED, "failed")
        run(store, "fhi", "sykefravaer", SSB_FAILED, "failed")
        mail(store, 1)  # waiting
        mail(store, 2)  # waiting
        mail(store, 3, error="535 avvist")  # failed
        mail(store, 4, claimed=NOW - timedelta(minutes=1))  # held
        mail(store, 5, claimed=NOW - CLAIM_LEASE - timedelta(minutes=1))  # a stale claim: waiting again
        mail(store, 6, sent=True)
        store.conn.execute("INSERT INTO scheduler_lock (id, host, pid, started_at, heartbeat_at) VALUES (1, 'h', 1, ?, ?)",
                           (BEAT.isoformat(), BEAT.isoformat()))
    return path


def make_app(db: Path, **overrides: object) -> Flask:
    values: dict[str, object] = {"db": db, "catalogue": BEHAVIOUR_CATALOGUE, "secret_key": "metrics-test-secret"}
    values.update(overrides)
    app = create_app(Settings(**values), testing=True)  # type: ignore[arg-type]
    app.config["MONITOR_NOW"] = NOW
    return app


def scrape(app: Flask) -> dict[str, list[Sample]]:
    """GET /metrics from loopback, parsed by prometheus_client's parser: sample name → samples."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


def test_the_figures_match_the_store_and_the_evaluation(db: Path, catalogue: Catalogue) -> None:
    samples = scrape(make_app(db))
    with Store(db, create=False) as store:
        evaluations = evaluate_all(catalogue, store, NOW.date(), NOW, OSLO)
        vintages = store.count_observations()
        keys = len({(v.indicator_id, v.region, v.period) for v in store.latest()})
    feeds = {i.id: i.fetch.kind if i.fetch else "import" for i in catalogue.indicators}
    expected = Counter((e.state.value, feeds[e.id]) for e in evaluations)
    shown = {(s.labels["state"], s.labels["source"]): s.value for s in samples["monitor_indicators"]}
    assert {key: n for key, n in shown.items() if n} == dict(expected)
    assert sum(shown.values()) == len(catalogue.indicators)
    assert ("retired", "ssb") in shown, "every state × source is listed, zeros included"

    assert value(samples, "monitor_source_last_success_timestamp_seconds", source="ssb") == SSB_OK.timestamp()
    assert value(samples, "monitor_source_last_attempt_timestamp_seconds", source="ssb") == SSB_FAILED.timestamp()
    assert value(samples, "monitor_source_consecutive_failures", source="ssb") == 2
    assert value(samples, "monitor_source_consecutive_failures", source="fhi") == 1
    assert value(samples, "monitor_source_consecutive_failures", source="udir") == 0
    assert not [s for s in samples["monitor_source_last_success_timestamp_seconds"] if s.labels["source"] == "fhi"]
    assert value(samples, "monitor_source_last_attempt_timestamp_seconds", source="fhi") == SSB_FAILED.timestamp()
    assert value(samples, "monitor_fetch_runs_total", source="ssb", outcome="unchanged") == 2
    assert value(samples, "monitor_fetch_runs_total", source="ssb", outcome="failed") == 2
    assert value(samples, "monitor_fetch_runs_total", source="ssb", outcome="ok") == 0
    assert value(samples, "monitor_fetch_runs_total", source="udir", outcome="failed") == 0
    assert value(samples, "monitor_fetch_runs_total", source="baseline", outcome="ok") >= 1
    assert value(samples, "monitor_source_info", source="ssb", label="SSB") == 1

    assert value(samples, "monitor_outbox_emails", state="waiting") == 3
    assert value(samples, "monitor_outbox_emails", state="held") == 1
    assert value(samples, "monitor_outbox_emails", state="failed") == 1
    assert value(samples, "monitor_scheduler_running") == 1
    assert value(samples, "monitor_scheduler_heartbeat_age_seconds") == 42
    assert value(samples, "monitor_vintages") == vintages
    assert value(samples, "monitor_observations") == keys


def test_no_scheduler_means_running_0_and_no_heartbeat_age(db: Path) -> None:
    with Store(db, create=False) as store:
        store.conn.execute("DELETE FROM scheduler_lock")
    samples = scrape(make_app(db))
    assert value(samples, "monitor_scheduler_running") == 0
    assert "monitor_scheduler_heartbeat_age_seconds" not in samples


def test_scrapes_come_from_the_cached_reading_and_see_every_write(db: Path, catalogue: Catalogue) -> None:
    app = make_app(db)
    first = scrape(app)
    misses = PROCESS_CACHE.misses
    for _ in range(3):
        assert scrape(app) == first
    assert PROCESS_CACHE.misses == misses, "a scrape with nothing written reads from the cache"

    # A write moves the fingerprint: the counts follow, counted only from the new rows on, and agree with a full count.
    moment = NOW.astimezone(timezone.utc)
    region = catalogue.municipality.current_code
    with Store(db, create=False) as store:
        store.write_run(RunRecord("import", "ny.csv", moment, moment), [
            Observation("sykefravaer", region, "2031", 5.5, None, "import"),  # a new key
            Observation("sykefravaer", region, "2032", 1.0, None, "import"),  # a new key
        ])
        store.write_run(RunRecord("import", "rettet.csv", moment, moment),
                        [Observation("sykefravaer", region, "2031", 6.5, None, "import")])  # a new vintage of one key
        with store.reading():
            full = stored_data(store.conn, ("a database this process never counted",))
    after = scrape(app)
    assert value(after, "monitor_vintages") == value(first, "monitor_vintages") + 3 == full.vintages
    assert value(after, "monitor_observations") == value(first, "monitor_observations") + 2 == full.observations
    assert value(after, "monitor_fetch_runs_total", source="import", outcome="ok") == \
        value(first, "monitor_fetch_runs_total", source="import", outcome="ok") + 2


def test_outbox_and_heartbeat_are_read_on_every_scrape(db: Path) -> None:
    app = make_app(db)
    scrape(app)
    later = NOW + timedelta(minutes=20)
    app.config["MONITOR_NOW"] = later
    with Store(db, create=False) as store:
        mail(store, 7)
    samples = scrape(app)
    assert value(samples, "monitor_scheduler_heartbeat_age_seconds") == 20 * 60 + 42
    assert value(samples, "monitor_outbox_emails", state="waiting") == 4 + 1  # and #4's claim went stale
    assert value(samples, "monitor_outbox_emails", state="held") == 0


def test_by_default_only_this_machine_may_read_it(db: Path) -> None:
    client = make_app(db).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert refused.status_code == 403 and "monitor_" not in refused.get_data(as_text=True)
    # Through a proxy the address is the proxy's (here loopback): refused unless the proxy is trusted.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


def test_listed_networks_and_trusted_proxies(db: Path) -> None:
    client = make_app(db, metrics_allow="10.0.0.0/8, 192.0.2.7").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 403
    assert client.get("/metrics").status_code == 403, "loopback is not in this list"
    behind = make_app(db, metrics_allow="10.0.0.0/8", trusted_proxies=1).test_client()
    assert behind.get("/metrics", headers={"X-Forwarded-For": "10.9.9.9"}).status_code == 200
    assert behind.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_a_bearer_token(db: Path) -> None:
    client = make_app(db, metrics_access="token", metrics_token="s3cret-token").test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-token"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    open_client = make_app(db, metrics_access="open").test_client()
    assert open_client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200


def test_a_rule_that_cannot_work_stops_the_start(db: Path) -> None:
    with pytest.raises(ConfigError, match="MONITOR_METRICS_TOKEN"):
        make_app(db, metrics_access="token")
    with pytest.raises(ConfigError, match="MONITOR_METRICS_ALLOW"):
        make_app(db, metrics_allow="127.0.0.1,lokalt")


def test_no_login_needed_when_reading_is_closed(db: Path) -> None:
    client = make_app(db, read_open=False).test_client()
    assert client.get("/").status_code == 302
    assert client.get("/metrics").status_code == 200


def metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\bmonitor_[a-z_]+\b", expression))


def test_the_alert_rules_use_metrics_that_exist(db: Path) -> None:
    names = set(scrape(make_app(db)))
    rules = yaml.safe_load((REPO / "docs" / "prometheus-rules.yml").read_text(encoding="utf-8"))
    exprs = {rule["alert"]: str(rule["expr"]) for group in rules["groups"] for rule in group["rules"]}
    assert {"MonitorNoSsbSuccess3Days", "MonitorSchedulerHeartbeatStale"} <= set(exprs)
    for alert, expr in exprs.items():
        assert metric_names(expr) <= names, f"{alert}: {sorted(metric_names(expr) - names)} not in a scrape"
    assert 'monitor_source_last_success_timestamp_seconds{source="ssb"}' in exprs["MonitorNoSsbSuccess3Days"]
    assert "3 * 86400" in exprs["MonitorNoSsbSuccess3Days"]
    assert "monitor_scheduler_heartbeat_age_seconds > 15 * 60" in exprs["MonitorSchedulerHeartbeatStale"]


def test_the_dashboard_uses_metrics_that_exist(db: Path) -> None:
    names = set(scrape(make_app(db)))
    dashboard = json.loads((REPO / "docs" / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = set().union(*(metric_names(e) for e in exprs))
    assert len(used) >= 8
    assert used <= names, f"{sorted(used - names)} not in a scrape"
