"""The read cache: reused while data, catalogue, day and next checks stay the same; bounded."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from support.catalogues import load_fixture_baseline
from support.paths import OSLO
from monitor.catalogue.indicators import Catalogue
from monitor.core.model import Observation, RunRecord
from monitor.report.readcache import DATABASES, DERIVED, ReadCache
from monitor.store.database import Store

EVENING = datetime(2026, 11, 27, 20, 0, tzinfo=OSLO)


def test_reused_until_a_write_a_new_catalogue_or_midnight(
    tmp_path: Path, small_catalogue: Catalogue, behaviour_catalogue: Catalogue
) -> None:
    cache = ReadCache()
    with Store(tmp_path / "m.db") as store:
        store.migrate()
        first = cache.get(small_catalogue, store, EVENING, OSLO)
        assert cache.get(small_catalogue, store, EVENING + timedelta(hours=1), OSLO) is first
        load_fixture_baseline(store, behaviour_catalogue, EVENING, tmp_path)
        assert cache.get(small_catalogue, store, EVENING, OSLO) is not first  # a write
        second = cache.get(small_catalogue, store, EVENING, OSLO)
        assert cache.get(behaviour_catalogue, store, EVENING, OSLO) is not second  # another catalogue
        third = cache.get(behaviour_catalogue, store, EVENING, OSLO)
        assert cache.get(behaviour_catalogue, store, EVENING + timedelta(hours=4), OSLO) is not third  # past midnight
        assert cache.get(behaviour_catalogue, store, EVENING - timedelta(hours=1), OSLO) is not third  # the clock went back
        assert cache.misses == 5
        fourth = cache.get(behaviour_catalogue, store, EVENING - timedelta(hours=1), OSLO)
        run = RunRecord("import", "x.csv", EVENING, EVENING)
        store.write_run(run, [Observation("sykefravaer", "3203", "2023", 9.1, None, "import")])
        assert cache.get(behaviour_catalogue, store, EVENING, OSLO).by_id["sykefravaer"].latest_value == 9.1
        assert fourth.by_id["sykefravaer"].latest_value != 9.1


def test_the_first_scheduled_check_ends_the_reuse(tmp_path: Path, behaviour_catalogue: Catalogue) -> None:
    cache = ReadCache()
    morning = datetime(2026, 11, 27, 8, 0, tzinfo=OSLO)
    with Store(tmp_path / "m.db") as store:
        store.migrate()
        before = cache.get(behaviour_catalogue, store, morning, OSLO)
        assert before.by_id["netto_driftsresultat"].next_check == "2026-11-27T08:30:00+01:00"
        assert cache.get(behaviour_catalogue, store, morning + timedelta(minutes=29), OSLO) is before
        after = cache.get(behaviour_catalogue, store, morning + timedelta(minutes=31), OSLO)
        assert after.by_id["netto_driftsresultat"].next_check == "2026-11-28T08:30:00+01:00"


def test_derived_values_are_built_once_and_bounded(tmp_path: Path, small_catalogue: Catalogue) -> None:
    cache = ReadCache()
    built: list[int] = []
    with Store(tmp_path / "m.db") as store:
        store.migrate()
        reads = cache.get(small_catalogue, store, EVENING, OSLO)
    assert reads.derived("a", lambda: built.append(1) or "A") == "A"
    assert reads.derived("a", lambda: built.append(2) or "B") == "A" and built == [1]
    for number in range(DERIVED + 1):
        reads.derived(number, lambda n=number: n)
    assert reads.derived("a", lambda: "again") == "again"  # the oldest fell out


def test_one_entry_per_database_and_a_bounded_number_of_databases(tmp_path: Path, small_catalogue: Catalogue) -> None:
    cache = ReadCache()
    paths = [tmp_path / f"{n}.db" for n in range(DATABASES + 1)]
    for path in paths:
        with Store(path) as store:
            store.migrate()
            cache.get(small_catalogue, store, EVENING, OSLO)
    with Store(paths[-1]) as store:
        cache.get(small_catalogue, store, EVENING, OSLO)
    assert cache.misses == DATABASES + 1
    with Store(paths[0]) as store:
        cache.get(small_catalogue, store, EVENING, OSLO)
    assert cache.misses == DATABASES + 2  # the first database fell out
