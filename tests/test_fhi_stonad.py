"""stonad_livsopphold: the real FHI fetcher finds its table by title in the fake's table list (fetchers/fhi_titles.py).

The table's id in FHI's `nokkel` API is not known, so the catalogue names it "nokkel/stonad" with the title part
«stønad til livsopphold»; the constructed fixture lists it as nokkel/999, «Mottakere av stønad til livsopphold (B)»
(tests/fixtures/fhi-api/stonad_table.py). Hand-worked: Asker's RATE for 20-66 år, both sexes, is 11.9 % in the
period 2017_2019, which is read by its last year and rounds (decimals 0) to the printed 12 % for 2019.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from support.clocks import FixedClock
from support.fake_fhi import FakeFhi
from support.fake_pxwebapi import FakePxWebApi
from support.paths import REPO
from fetchers.fhi import FhiClient
from fetchers.fhi_source import FhiSource
from monitor.catalogue.indicators import Catalogue, FhiSeries
from monitor.cli.main import cli
from monitor.seed.baseline import load_baseline
from monitor.sources.online import check_fhi_online
from monitor.sources.pipeline import FetchReport, IndicatorPlan, fetch_source
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TITLE = "Mottakere av stønad til livsopphold (B)"
OTHER_TABLES = ["nokkel/341", "nokkel/360", "nokkel/370", "nokkel/714", "nokkel/803", "nokkel/809"]
NOTE = ("FHI nokkel/stonad: stonad_livsopphold (serie andel): tittelen «stønad til livsopphold» er tabell nokkel/999 "
        f"(«{TITLE}»); kan festes med table: nokkel/999")


@pytest.fixture
def server() -> Iterator[FakeFhi]:
    with FakeFhi(calls=30, window=60) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path, real_catalogue: Catalogue) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_baseline(store, real_catalogue, NOW)
        yield store


def run(catalogue: Catalogue, store: Store, server: FakeFhi, tmp_path: Path, when: datetime = NOW) -> FetchReport:
    server.reset_counters()
    clock = FixedClock(when)
    with FhiClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_source(FhiSource(client, catalogue, clock=clock), IndicatorPlan(catalogue, "fhi"), store,
                            clock=clock, raw_dir=tmp_path / "raw")


def stonad(store: Store) -> dict[str, tuple[float | None, str]]:
    return {v.period: (v.value, v.source) for v in store.latest("stonad_livsopphold")}


def test_the_title_is_resolved_and_the_value_reproduces_the_printed_12_percent_for_2019(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fetchers.fhi_source"):
        report = run(real_catalogue, db, server, tmp_path)
    assert report.failed == [] and {t.table: t.outcome for t in report.tables}["nokkel/stonad"] == "ok"
    # one table list for the whole run (modifiedAt and the title alike), the data asked of the id found
    assert server.path_counts["/nokkel/Table"] == 1 and server.path_counts["/nokkel/Table/999/data"] == 1
    values = stonad(db)
    assert values["2017-2019"] == (11.9, "fhi:nokkel/stonad")
    assert round(values["2017-2019"][0] or 0) == 12  # printed «12 %» for 2019 (baseline.csv), decimals 0
    assert values["2019"] == (12.0, "baseline")  # the printed value stays beside it
    assert list(values)[-1] == "2022-2024" and values["2022-2024"] == (11.3, "fhi:nokkel/stonad")
    # the id it resolved to is kept in the run log (the table's label) and logged
    meta = db.table_meta("fhi")["nokkel/stonad"]
    assert meta.label == f"{TITLE} (nokkel/999, funnet etter tittel)"
    assert meta.updated == "2026-02-24T08:05:12.306000+00:00" and meta.last_period == "2022-2024"
    assert NOTE in caplog.messages


def test_no_table_with_the_title_fails_stonad_alone(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    server.set_title("nokkel/999", "Sosialhjelpsmottakere")
    report = run(real_catalogue, db, server, tmp_path)
    assert [(t.table, t.error) for t in report.failed] == [(
        "nokkel/stonad",
        "tabell nokkel/stonad: ingen tabell i FHIs tabelliste for nokkel har «stønad til livsopphold» i tittelen "
        "(9 tabeller lest), så tabellen kan ikke hentes",
    )]
    assert {t.table: t.outcome for t in report.tables if t.table != "nokkel/stonad"} == dict.fromkeys(OTHER_TABLES, "ok")
    assert server.path_counts["/nokkel/Table/999/data"] == 0
    assert [p for p, (_, source) in stonad(db).items() if source != "baseline"] == []
    assert {v.period: v.value for v in db.latest("fastlege_muskel_skjelett") if v.source == "fhi:nokkel/370"}[
        "2024"] == 302.5  # another FHI indicator is stored


def test_two_tables_with_the_title_fail_stonad_alone_and_name_both(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    server.list_table("nokkel", {"tableId": 1001, "title": "Mottakere av stønad til livsopphold (LHF)",
                                 "publishedAt": "2026-05-04T08:00:00.0000000+00:00",
                                 "modifiedAt": "2026-05-04T08:00:00.0000000+00:00"})
    report = run(real_catalogue, db, server, tmp_path)
    assert [(t.table, t.error) for t in report.failed] == [(
        "nokkel/stonad",
        "tabell nokkel/stonad: 2 tabeller i FHIs tabelliste for nokkel har «stønad til livsopphold» i tittelen "
        f"(999 «{TITLE}», 1001 «Mottakere av stønad til livsopphold (LHF)»); fest den riktige i katalogen med "
        "table: nokkel/<id>",
    )]
    assert [t.table for t in report.tables if t.outcome == "ok"] == OTHER_TABLES
    assert server.path_counts["/nokkel/Table/999/data"] == server.path_counts["/nokkel/Table/1001/data"] == 0


def test_the_change_check_fetches_stonad_when_a_changed_table_has_its_title(
    real_catalogue: Catalogue, db: Store, server: FakeFhi, tmp_path: Path
) -> None:
    run(real_catalogue, db, server, tmp_path)
    later = NOW + timedelta(days=1)
    server.set_modified("nokkel/999", later - timedelta(hours=3))
    report = run(real_catalogue, db, server, tmp_path, later)
    # Common/source, the modifiedAfter list, the whole list (the title), one POST to the id it resolved to
    assert [r.path for r in server.requests] == [
        "/Common/source", "/nokkel/Table", "/nokkel/Table", "/nokkel/Table/999/data"]
    assert server.requests[1].query == {"modifiedAfter": ["2026-11-25"]} and server.requests[2].query == {}
    outcomes = {t.table: t.outcome for t in report.tables}
    assert outcomes == {**dict.fromkeys(OTHER_TABLES, "unchanged"), "nokkel/stonad": "unchanged"}  # same values
    assert db.table_meta("fhi")["nokkel/stonad"].updated == "2026-11-28T05:00:00+00:00"


def test_validate_online_reports_the_id_the_title_resolves_to(real_catalogue: Catalogue, server: FakeFhi) -> None:
    with FhiClient(server.base_url, timeout=5.0) as client:
        tables, problems = check_fhi_online(real_catalogue, client)
        assert (tables, problems, getattr(problems, "notes", None)) == (7, [], [NOTE])
        server.set_title("nokkel/999", "STONAD_1")
        tables, problems = check_fhi_online(real_catalogue, client)
    assert problems == ["FHI nokkel/stonad: ingen tabell i FHIs tabelliste for nokkel har «stønad til livsopphold» i "
                        "tittelen (9 tabeller lest), så tabellen kan ikke hentes"]


def test_monitor_validate_online_prints_the_resolved_id(tmp_path: Path, server: FakeFhi) -> None:
    with FakePxWebApi(calls=30, window=60) as ssb:
        env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
               "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": ssb.base_url,
               "MONITOR_FHI_URL": server.base_url}
        result = CliRunner().invoke(cli, ["validate", "--online"], env=env)
    assert NOTE in result.stdout.splitlines()
    assert f"FHI: 7 tabeller sjekket mot dimensjonene hos {server.base_url}; 0 avvik." in result.stdout


def test_a_title_belongs_to_a_named_table_and_a_named_table_needs_one() -> None:
    named = FhiSeries(table="nokkel/stonad", title="stønad til livsopphold", select={"MEASURE_TYPE": "RATE"})
    assert (named.source_id, named.table_id, named.title) == ("nokkel", "stonad", "stønad til livsopphold")
    with pytest.raises(ValidationError, match="`title` hører til en tabell gitt ved navn"):
        FhiSeries(table="nokkel/stonad", select={"MEASURE_TYPE": "RATE"})
    with pytest.raises(ValidationError, match="`title` hører til en tabell gitt ved navn"):
        FhiSeries(table="nokkel/999", title="stønad", select={"MEASURE_TYPE": "RATE"})
    with pytest.raises(ValidationError, match="pattern"):
        FhiSeries(table="nokkel/Stønad", title="stønad", select={"MEASURE_TYPE": "RATE"})
