"""The climate target needs the 2009 emissions (issue 18): Miljødirektoratet's workbook import keeps the 2009
figure when the workbook has it, a later workbook without 2009 does not take it away, and the progress then
judges the −67 % target; without it the explanation names the missing year. Workbooks from
tests/support/miljodir_workbook.py, on the behaviour fixture catalogue."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from support.catalogues import load_behaviour_catalogue, load_fixture_baseline
from support.miljodir_workbook import ASKER_TOTALS, build, detail_rows
from monitor.catalogue.indicators import Catalogue
from monitor.evaluate.progress import ProgressStatus, assess_progress
from monitor.imports.indicators import import_file
from monitor.report.readcache import ReadCache
from monitor.store.database import Store

INDICATOR = "direkte_klimagassutslipp"
EMISSIONS_2009 = Decimal("300000")


@pytest.fixture
def catalogue() -> Catalogue:
    return load_behaviour_catalogue()


@pytest.fixture
def baseline_store(tmp_path: Path, catalogue: Catalogue, now: datetime) -> Store:
    store = Store(tmp_path / "m.db")
    store.migrate()
    load_fixture_baseline(store, catalogue, now, tmp_path)
    return store


def workbook(tmp_path: Path, totals: dict[int, Decimal], number: object = "3203", name: str = "utslipp.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(build(rows=detail_rows(asker_number=number, asker_totals=totals)))
    return path


def test_the_2009_figure_is_kept_and_judges_the_target(baseline_store: Store, catalogue: Catalogue, now: datetime,
                                                      tmp_path: Path) -> None:
    with baseline_store as store:
        before = assess_progress(catalogue.by_id[INDICATOR], store.vintages(INDICATOR))
        assert before.status is ProgressStatus.INSUFFICIENT_DATA and before.target_value is None
        assert before.explanation.endswith("kan ikke vurderes uten verdien for 2009.")
        result = import_file(store, catalogue, workbook(tmp_path, {2009: EMISSIONS_2009, **ASKER_TOTALS}), now=now,
                             actor="kari", fmt="miljodir")
        assert result.periods == ("2009", "2019", "2020", "2021", "2022")
        assert result.new_vintages == 1  # 2019–2022 match the printed baseline
        latest = {v.period: v.value for v in store.latest(INDICATOR)}
        assert latest["2009"] == 300000.0
        after = assess_progress(catalogue.by_id[INDICATOR], store.vintages(INDICATOR))
    # G = 300 000 × (1 − 0,67) = 99 000 by 2030; b = −5 678,67 (2019–2022), r = (99 000 − 212 196)/(2030 − 2022)
    # = −14 149,5, q = 0,401 → limited. The base year counts for the level only, not as a point of the pace.
    assert after.target_value == pytest.approx(99000) and after.target_year == 2030
    assert [p.year for p in after.points] == [2019, 2020, 2021, 2022]
    assert after.required_pace == pytest.approx(-14149.5) and after.ratio == pytest.approx(0.40133, abs=1e-5)
    assert after.status is ProgressStatus.LIMITED
    assert "for å nå 99\u00a0000 innen 2030 må det gå ned med 14\u00a0150 i året" in after.explanation


def test_a_later_workbook_without_2009_leaves_it_stored(baseline_store: Store, catalogue: Catalogue, now: datetime,
                                                        tmp_path: Path) -> None:
    with baseline_store as store:
        import_file(store, catalogue, workbook(tmp_path, {2009: EMISSIONS_2009, **ASKER_TOTALS}, name="a.xlsx"),
                    now=now, actor="kari", fmt="miljodir")
        newer = {**ASKER_TOTALS, 2023: Decimal("205000")}
        import_file(store, catalogue, workbook(tmp_path, newer, name="b.xlsx"), now=now + timedelta(days=30),
                    actor="kari", fmt="miljodir")
        latest = {v.period: v.value for v in store.latest(INDICATOR)}
        assert latest["2009"] == 300000.0 and latest["2023"] == 205000.0
        progress = assess_progress(catalogue.by_id[INDICATOR], store.vintages(INDICATOR))
    assert progress.target_value == pytest.approx(99000) and progress.status is not ProgressStatus.INSUFFICIENT_DATA


def test_2009_under_the_old_kommune_number_is_kept(baseline_store: Store, catalogue: Catalogue, now: datetime,
                                                   tmp_path: Path) -> None:
    """A workbook listing 2009 under Asker's number then (0220) and later years under 3203: both are Asker."""
    path = tmp_path / "mixed.xlsx"
    rows = detail_rows(asker_number="0220", asker_totals={2009: EMISSIONS_2009})
    rows = [row for row in rows if row[2] == "Asker"] + detail_rows(asker_totals=ASKER_TOTALS)
    path.write_bytes(build(rows=rows))
    with baseline_store as store:
        result = import_file(store, catalogue, path, now=now, actor="kari", fmt="miljodir")
        assert "2009" in result.periods
        assert {v.period: v.value for v in store.latest(INDICATOR)}["2009"] == 300000.0


def test_the_cached_evaluation_carries_the_judged_climate_target(baseline_store: Store, catalogue: Catalogue,
                                                                 now: datetime, tmp_path: Path) -> None:
    with baseline_store as store:
        import_file(store, catalogue, workbook(tmp_path, {2009: EMISSIONS_2009, **ASKER_TOTALS}), now=now,
                    actor="kari", fmt="miljodir")
        reads = ReadCache().get(catalogue, store, now + timedelta(minutes=1), now.tzinfo)  # type: ignore[arg-type]
    progress = reads.by_id[INDICATOR].progress
    assert progress is not None and progress.status is ProgressStatus.LIMITED
    assert progress.target_value == pytest.approx(99000)
