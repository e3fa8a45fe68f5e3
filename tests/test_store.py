from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.core.errors import StoreError
from monitor.store.migrations import MIGRATIONS, schema_version
from monitor.core.model import Observation, RunRecord
from monitor.store.database import Store


def run_at(moment: datetime, source: str = "import", target: str = "f.csv") -> RunRecord:
    return RunRecord(source=source, target=target, started_at=moment, finished_at=moment)


def obs(value: float | None, period: str = "2022", status: str | None = None) -> Observation:
    return Observation("sykefravaer", "3203", period, value, status, "import")


def test_migrate_is_versioned_and_idempotent(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        assert store.migrate() == list(range(1, len(MIGRATIONS) + 1))
        assert store.migrate() == []
        assert schema_version(store.conn) == len(MIGRATIONS)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


def test_store_refuses_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="monitor init"):
        Store(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_unmigrated_database_is_reported(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store, pytest.raises(StoreError, match="skjemaversjon 0"):
        store.require_current_schema()


def test_each_distinct_value_is_a_vintage_and_latest_is_a_query(store: Store, now: datetime) -> None:
    assert store.write_run(run_at(now), [obs(9.3)])[1] == 1
    assert store.write_run(run_at(now + timedelta(hours=1)), [obs(9.3)])[1] == 0
    assert store.write_run(run_at(now + timedelta(hours=2)), [obs(9.4)])[1] == 1
    # Going back to an earlier value is a change too: the latest value differs.
    assert store.write_run(run_at(now + timedelta(hours=3)), [obs(9.3)])[1] == 1
    assert [v.value for v in store.vintages("sykefravaer")] == [9.3, 9.4, 9.3]
    [latest] = store.latest("sykefravaer")
    assert latest.value == 9.3 and latest.retrieved_at == "2026-11-27T11:30:00+00:00"


def test_status_change_is_a_new_vintage_and_value_none_is_kept(store: Store, now: datetime) -> None:
    store.write_run(run_at(now), [obs(None, status="pending")])
    store.write_run(run_at(now + timedelta(days=30)), [obs(9.3)])
    assert [(v.value, v.status) for v in store.vintages("sykefravaer")] == [(None, "pending"), (9.3, None)]


def test_vintages_cannot_be_updated_or_deleted(store: Store, now: datetime) -> None:
    store.write_run(run_at(now), [obs(9.3)])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE observations SET value = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM observations")
    assert [v.value for v in store.vintages("sykefravaer")] == [9.3]


def test_a_failing_write_leaves_nothing_behind(store: Store, now: datetime, caplog: pytest.LogCaptureFixture) -> None:
    store.write_run(run_at(now), [obs(9.3)])
    before = store.count_observations(), len(store.runs())
    # The second row of the batch fails inside the transaction, after the run row and the first row.
    store.conn.execute(
        "CREATE TEMP TRIGGER fail_mid_write BEFORE INSERT ON observations WHEN NEW.period = '2021' "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    with pytest.raises(StoreError, match="kunne ikke lagre import"):
        store.write_run(run_at(now + timedelta(hours=1)), [obs(9.9), obs(1.0, period="2021")])
    assert "disk on fire" in caplog.text  # SQLite's own words are logged; the user reads bokmål (issue 16 §3)
    assert (store.count_observations(), len(store.runs())) == before
    assert store.latest("sykefravaer")[0].value == 9.3


def test_run_log_records_outcomes(store: Store, now: datetime) -> None:
    store.write_run(run_at(now), [obs(9.3)])
    store.write_run(run_at(now + timedelta(hours=1)), [obs(9.3)])
    store.record_failure(run_at(now + timedelta(hours=2), source="ssb", target="12143"), "HTTP 503 fra SSB")
    runs = store.runs()
    assert [(r["outcome"], r["row_count"], r["new_count"]) for r in runs] == [
        ("failed", 0, 0), ("unchanged", 1, 0), ("ok", 1, 1)
    ]
    assert runs[0]["error"] == "HTTP 503 fra SSB" and runs[0]["source"] == "ssb"


def test_skip_if_unchanged_writes_nothing(store: Store, now: datetime) -> None:
    store.write_run(run_at(now), [obs(9.3)])
    assert store.write_run(run_at(now), [obs(9.3)], skip_if_unchanged=True) == (None, 0)
    assert len(store.runs()) == 1


def test_latest_follows_when_a_vintage_became_known(store: Store, now: datetime) -> None:
    # A named vintage published earlier (the baseline) never hides newer data, even when written later.
    store.write_run(run_at(now), [obs(9.5)])
    published = now - timedelta(days=1000)
    store.write_run(run_at(now), [obs(9.3)], vintage="Handlingsprogram 2024–2027", retrieved_at=published)
    assert store.latest("sykefravaer")[0].value == 9.5
    assert [v.vintage for v in store.vintages("sykefravaer")] == [None, "Handlingsprogram 2024–2027"]
    # and comparing within the named vintage makes the load idempotent
    again = store.write_run(run_at(now), [obs(9.3)], vintage="Handlingsprogram 2024–2027", retrieved_at=published)
    assert again[1] == 0


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.write_run(run_at(datetime(2026, 1, 1)), [obs(1.0)])


def test_latest_can_be_limited_to_one_region(store: Store, now: datetime) -> None:
    other = Observation("sykefravaer", "0301", "2022", 7.0, None, "import")
    store.write_run(run_at(now), [obs(9.3), other])
    assert [(v.region, v.value) for v in store.latest(region="3203")] == [("3203", 9.3)]
    assert [(v.region, v.value) for v in store.latest("sykefravaer", region="0301")] == [("0301", 7.0)]
    assert len(store.latest()) == 2
