"""Source faults end to end through the scheduler's path (issue 9).

`monitor.sources.registry.run_fetch`, as the scheduler's job calls it (Settings in, a store opened for the job),
against the fake SSB and FHI servers with every fault of tests/test_ssb_fetch.py and tests/test_fhi_fetch.py
kept on (times=None): each indicator fed by the broken table ends in state fetch_failing in
`evaluate_all`, the observations are byte for byte unchanged, and after the source recovers the state
leaves fetch_failing. Retries are real; only the client's backoff is shortened (1 s → 0.01 s) to keep the
suite fast.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from support.checks import observations_checksum
from support.paths import REPO
from support.fake_fhi import FakeFhi
from support.fake_pxwebapi import FakePxWebApi
from monitor.evaluate.assessment import evaluate_all
from monitor.seed.baseline import load_baseline
from monitor.catalogue.indicators import Catalogue
from monitor.evaluate.indicator import State
from monitor.core.settings import Settings
from monitor.sources.registry import SOURCES, run_fetch
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TODAY = date(2026, 11, 27)
TABLES = {"ssb": ("04861", "/tables/04861/data"), "fhi": ("nokkel/369", "/nokkel/Table/369/data")}

# The two fault lists of the fetch tests, every fault kept on until the source recovers.
SSB_FAULTS = [
    ("reset", {}), ("http429", {"retry_after": 1}), ("http500", {}), ("http502", {}), ("http503", {}),
    ("truncate", {"mode": "content_length"}), ("delay", {"seconds": 1.5}), ("http403_cells", {}),
    ("http400_problem", {"detail": "Value Bosatte is not a valid value code for variable ContentsCode"}),
    ("html", {}), ("truncate", {"mode": "half"}), ("changed_dimension", {}), ("empty", {}),
]
FHI_FAULTS = [
    ("reset", {}), ("http429", {"retry_after": 1}), ("http500", {}), ("http503", {}),
    ("truncate", {"mode": "content_length"}), ("delay", {"seconds": 1.5}),
    ("http400_problem", {"title": "Bad Request", "detail": "Category 0_74 does not exist in dimension ALDER"}),
    ("html", {}), ("truncate", {"mode": "half"}), ("changed_dimension", {}), ("empty", {}),
]
MATRIX = [("ssb", f, p) for f, p in SSB_FAULTS] + [("fhi", f, p) for f, p in FHI_FAULTS]

pytestmark = pytest.mark.slow


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, spec in list(SOURCES.items()):
        if spec.client is None:
            continue
        monkeypatch.setitem(SOURCES, name, replace(spec, client=functools.partial(spec.client, backoff=0.01)))


@pytest.fixture
def servers() -> Iterator[dict[str, FakePxWebApi]]:
    with FakePxWebApi(calls=1000, window=60, now=NOW) as ssb, FakeFhi(calls=1000, window=60) as fhi:
        yield {"ssb": ssb, "fhi": fhi}


def affected(catalogue: Catalogue, source: str, table: str) -> set[str]:
    return {
        i.id for i in catalogue.indicators
        if i.fetch is not None and i.fetch.kind == source and table in {s.table for s in i.fetch.series.values()}
    }


def states(catalogue: Catalogue, store: Store, ids: set[str]) -> dict[str, State]:
    return {e.id: e.state for e in evaluate_all(catalogue, store, TODAY) if e.id in ids}


@pytest.mark.parametrize("source,fault,params", MATRIX,
                         ids=[f"{s}-{f}{p.get('mode', '')}" for s, f, p in MATRIX])
def test_a_lasting_fault_shows_as_fetch_failing_changes_nothing_and_clears_on_recovery(
    real_catalogue: Catalogue, servers: dict[str, FakePxWebApi], tmp_path: Path, fast_retries: None,
    source: str, fault: str, params: dict[str, object],
) -> None:
    server = servers[source]
    table, path = TABLES[source]
    settings = Settings(
        db=tmp_path / "monitor.db", catalogue=REPO / "indicators.yaml", raw_dir=tmp_path / "raw",
        ssb_url=servers["ssb"].base_url, fhi_url=servers["fhi"].base_url, http_timeout=1.0,
    )
    ids = affected(real_catalogue, source, table)
    assert ids
    with Store(settings.db) as store:
        store.migrate()
        load_baseline(store, real_catalogue, NOW)
    # The scheduler's job: a store opened for the run, run_fetch with the settings.
    with Store(settings.db, create=False) as job_store:
        assert run_fetch(settings, real_catalogue, job_store, source).failed == []
        assert not any(s is State.FETCH_FAILING for s in states(real_catalogue, job_store, ids).values())
        before = observations_checksum(job_store)
    server.reset_counters()
    server.inject(path, fault, times=None, **params)
    with Store(settings.db, create=False) as job_store:
        report = run_fetch(settings, real_catalogue, job_store, source, force=True)
        assert [t.table for t in report.failed] == [table]
        assert states(real_catalogue, job_store, ids) == {i: State.FETCH_FAILING for i in ids}
        assert observations_checksum(job_store) == before
    server.clear_faults()
    server.reset_counters()
    with Store(settings.db, create=False) as job_store:
        assert run_fetch(settings, real_catalogue, job_store, source, force=True).failed == []
        after = states(real_catalogue, job_store, ids)
        assert not any(s is State.FETCH_FAILING for s in after.values()), after
        assert observations_checksum(job_store) == before
