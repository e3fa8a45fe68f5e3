"""KOSTRA fetching: one POST per table for every row, region and year, against constructed SSB fixtures.

The fixtures in tests/fixtures/ssb-v2-kostra/ are constructed (see build_fixtures.py there): the shapes are SSB's
json-stat2, and a row printed as SSB publishes it reproduces its printed 2021/2022 cells.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from support.checks import observations_checksum
from support.paths import FIXTURES, REPO
from support.fake_pxwebapi import FakePxWebApi
from fetchers.jsonstat import parse_dataset
from fetchers.kostra_query import RegionHistory, extract_regions
from fetchers.ssb import SsbClient
from fetchers.ssb_query import selection_body
from monitor.cli.main import cli
from monitor.catalogue.kostra import KOSTRA_SOURCE, KostraCatalogue, SsbSeries, load_kostra
from monitor.seed.kostra_baseline import load_kostra_baseline
from monitor.sources.kostra import fetch_kostra, kostra_selections
from monitor.core.model import Point
from monitor.sources.pipeline import FetchReport
from monitor.store.database import Store
from test_exports import TableReader

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
KOSTRA_FIXTURES = FIXTURES / "ssb-v2-kostra"
TABLES = ["11787", "11816", "12051", "12209", "12241", "12255", "12279", "12362", "12842", "13135", "13502"]


@pytest.fixture(scope="module")
def kostra() -> KostraCatalogue:
    return load_kostra(REPO / "kostra.yaml")


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(KOSTRA_FIXTURES, calls=30, window=60, now=NOW) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path, kostra: KostraCatalogue) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_kostra_baseline(store, kostra, NOW)
        yield store


def run(kostra: KostraCatalogue, store: Store, server: FakePxWebApi, tmp_path: Path) -> FetchReport:
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_kostra(kostra, store, client, clock=lambda: NOW, raw_dir=tmp_path / "raw")


def printed() -> dict[tuple[str, str, str], float]:
    with (REPO / "monitor" / "data" / "kostra_baseline.csv").open(encoding="utf-8") as handle:
        return {(row["kostra_id"], row["region"], row["period"]): float(row["value"]) for row in csv.DictReader(handle)}


# ---- the queries ------------------------------------------------------------------------------------------------


def test_one_selection_per_table_with_every_region_code_and_row(kostra: KostraCatalogue) -> None:
    selections = kostra_selections(kostra)
    assert sorted(selections) == TABLES
    spending = selections["12362"]
    # first_year 2020: the codes valid from 2020 on; ASSS has no SSB code and is not asked for
    assert spending.values["KOKkommuneregion0000"] == (
        "3025", "3203", "3024", "3201", "3005", "3301", "3030", "3205", "EKG12"
    )
    assert spending.values["Tid"] == ("from(2020)",)
    assert set(spending.values["KOKart0000"]) == {"AGD2", "AGD10"}
    assert set(spending.values["ContentsCode"]) == {"KOSbelopinnbygge0000", "KOSandel3501"}
    assert {"100", "110", "120", "180", "FGK1a", "FGK1b", "FGK1c", "380", "381", "FGK9"} <= set(spending.values["KOKfunksjon0000"])
    assert spending.cells is None  # time is an expression until SSB answers


def test_the_fixture_queries_are_what_the_selections_send(kostra: KostraCatalogue) -> None:
    metadata = {t: json.loads((KOSTRA_FIXTURES / t / "metadata.json").read_text(encoding="utf-8")) for t in TABLES}
    selections = kostra_selections(kostra, metadata)
    for table in TABLES:
        body = selection_body(selections[table])
        assert body == json.loads((KOSTRA_FIXTURES / table / "query.json").read_text(encoding="utf-8")), table
        regions = body["selection"][0]
        assert regions["variableCode"] == "KOKkommuneregion0000" and "codelist" not in regions
        assert regions["valueCodes"][0] == "EKG12"  # the table's own order: groups before kommuner
    assert selections["12362"].values["Tid"] == ("2020", "2021", "2022", "2023", "2024")
    assert selections["12362"].cells == 9 * 2 * 30 * 2 * 5


# ---- extraction ---------------------------------------------------------------------------------------------------


def _dataset(regions: list[str], values: list[float | None], status: dict[str, str]) -> bytes:
    return json.dumps({
        "version": "2.0", "class": "dataset", "label": "test", "id": ["KOKkommuneregion0000", "ContentsCode", "Tid"],
        "size": [len(regions), 1, 2], "role": {"time": ["Tid"], "geo": ["KOKkommuneregion0000"], "metric": ["ContentsCode"]},
        "dimension": {
            "KOKkommuneregion0000": {"category": {"index": {code: i for i, code in enumerate(regions)}}},
            "ContentsCode": {"category": {"index": {"KOSx0000": 0}}},
            "Tid": {"category": {"index": {"2023": 0, "2024": 1}}},
        },
        "value": values, "status": status,
    }).encode()


def test_each_year_keeps_the_valid_code_and_falls_back_to_the_current_one() -> None:
    asker = RegionHistory("3203", (("0220", None, 2019), ("3025", 2020, 2023), ("3203", 2024, None)))
    group = RegionHistory("EKG12", (("EKG12", None, None),))
    series = SsbSeries.model_validate(
        {"table": "12209", "region": {"dimension": "KOKkommuneregion0000"}, "select": {"ContentsCode": "KOSx0000"},
         "first_year": 2020}
    )
    # SSB keeps 2023 under 3025 and 2024 under 3203 ("." for a code outside its years)
    normal = parse_dataset(_dataset(["3025", "3203", "EKG12"], [11.0, None, None, 12.0, 5.0, 6.0], {"1": ".", "2": "."}))
    assert extract_regions(normal, "12209", series, [asker, group]) == {
        "3203": {"2023": Point(11.0), "2024": Point(12.0)}, "EKG12": {"2023": Point(5.0), "2024": Point(6.0)},
    }
    # a table that moved the old years to the current code: 2023 is taken from 3203
    moved = parse_dataset(_dataset(["3025", "3203"], [None, None, 11.0, 12.0], {"0": ".", "1": "."}))
    assert extract_regions(moved, "12209", series, [asker])["3203"] == {"2023": Point(11.0), "2024": Point(12.0)}
    # a suppressed figure under the valid code stays suppressed
    hidden = parse_dataset(_dataset(["3025", "3203"], [None, None, None, 12.0], {"0": ":", "1": ".", "2": "."}))
    assert extract_regions(hidden, "12209", series, [asker])["3203"] == {"2023": Point(None, ":"), "2024": Point(12.0)}


# ---- the fetch ------------------------------------------------------------------------------------------------------


def test_one_request_per_table_fills_every_fetched_row_and_region(
    kostra: KostraCatalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    report = run(kostra, db, server, tmp_path)
    assert report.failed == [] and [t.table for t in report.tables] == TABLES
    assert server.total_requests == len(TABLES) + 1 == report.requests  # /config and one POST per table
    assert {r.path for r in server.requests if r.method == "POST"} == {
        f"/tables/{t}/data" for t in TABLES
    }
    stored = {(v.indicator_id, v.region) for row in kostra.rows for v in db.vintages(row.fetched_series_id)
              if v.source.startswith("ssb:")}
    regions = ["3203", "3201", "3301", "3205", "EKG12"]
    assert stored == {(row.fetched_series_id, region) for row, _ in kostra.fetched_series for region in regions}
    assert all(run_row["source"] == KOSTRA_SOURCE for run_row in db.runs("ssb-kostra"))
    assert db.runs("ssb") == []  # the indicator catalogue's runs are untouched
    assert set(db.table_meta(KOSTRA_SOURCE)) == set(TABLES)


def test_rows_printed_as_ssb_publishes_them_reproduce_the_print(
    kostra: KostraCatalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(kostra, db, server, tmp_path)
    cells = printed()
    compared = 0
    for row, _ in kostra.fetched_series:
        if row.adjusted:
            continue
        for (row_id, region, period), value in cells.items():
            if row_id != row.id or region == "ASSSUO":
                continue
            vintages = [v for v in db.vintages(row.series_id, region) if v.period == period]
            # SSB's figure equals the printed one: no new vintage, the handlingsprogram's stays
            assert [(v.vintage, v.value) for v in vintages] == [("Handlingsprogram 2024–2027", value)], (row.id, region, period)
            compared += 1
    assert compared == 71  # 12 rows × (Asker 2021, 2022, three peers, KOSTRA-gruppe 12), but lekkasje prints no group figure
    later = [v for v in db.vintages("kostra.opp_barnehage_3_5", "3203") if v.period == "2024"]
    assert len(later) == 1 and later[0].source == "ssb:13502" and later[0].vintage is None


def test_adjusted_rows_are_stored_apart_as_nominal(
    kostra: KostraCatalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    run(kostra, db, server, tmp_path)
    printed_series = [v for v in db.vintages("kostra.osu_politisk_styring") if v.source.startswith("ssb:")]
    assert printed_series == []  # the printed (deflated, need-adjusted) series gets no SSB figure
    nominal = {(v.region, v.period): v.value for v in db.vintages("kostra.osu_politisk_styring.nominal")}
    assert nominal[("3203", "2022")] == round(366 * 0.97) and nominal[("3203", "2021")] == round(426 * 0.94)
    assert {period for _, period in nominal} == {"2020", "2021", "2022", "2023", "2024"}


def test_a_failing_table_does_not_stop_the_others(
    kostra: KostraCatalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    server.inject("/tables/12255/data", "http400_problem", times=1, detail="Non-existent value KOSgrunnskolepoe0000")
    report = run(kostra, db, server, tmp_path)
    assert [t.table for t in report.failed] == ["12255"]
    assert "KOSgrunnskolepoe0000" in (report.failed[0].error or "")
    assert len([t for t in report.tables if t.outcome == "ok"]) == len(TABLES) - 1
    failures = [r for r in db.runs(KOSTRA_SOURCE) if r["outcome"] == "failed"]
    assert [r["target"] for r in failures] == ["12255"]


def test_a_table_ssb_refuses_even_for_one_period_fails_alone_with_a_clear_error(
    kostra: KostraCatalogue, db: Store, server: FakePxWebApi, tmp_path: Path
) -> None:
    # Issue 14: the KOSTRA fetch had its own copy of the "too many cells" split, without the fix of issue 9, and
    # recursed until RecursionError when SSB kept refusing. Now one function splits every SSB query.
    run(kostra, db, server, tmp_path)
    before = observations_checksum(db)
    server.inject("/tables/12362/data", "http403_cells", times=None)
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        report = fetch_kostra(kostra, db, client, clock=lambda: NOW, raw_dir=tmp_path / "raw", force=True)
    assert [t.table for t in report.failed] == ["12362"]
    assert "for stor selv for én periode" in (report.failed[0].error or ""), report.failed[0].error
    assert {t.outcome for t in report.tables if t.table != "12362"} == {"unchanged"}  # the others went on
    # The first POST asks for from(2020); one metadata request names 2020–2024; the first half (2020–2021) is
    # refused, then its first single period (2020): that fails the table at once, after 3 POSTs.
    assert server.path_counts["/tables/12362/metadata"] <= 1
    assert server.path_counts["/tables/12362/data"] == 3
    assert observations_checksum(db) == before
    failures = [r for r in db.runs(KOSTRA_SOURCE) if r["outcome"] == "failed"]
    assert [r["target"] for r in failures] == ["12362"]


def test_a_second_run_adds_nothing(kostra: KostraCatalogue, db: Store, server: FakePxWebApi, tmp_path: Path) -> None:
    first = run(kostra, db, server, tmp_path)
    assert all(t.outcome == "ok" for t in first.tables)
    count = db.count_observations()
    second = run(kostra, db, server, tmp_path)
    assert {t.outcome for t in second.tables} == {"unchanged"} and db.count_observations() == count


def test_export_after_a_fetch_shows_later_years_with_marks(
    kostra: KostraCatalogue, server: FakePxWebApi, tmp_path: Path
) -> None:
    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_SSB_URL": server.base_url, "MONITOR_RAW_DIR": str(tmp_path / "raw")}
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["kostra", "fetch"], env=env)
    assert result.exit_code == 0, result.output
    assert "SSB KOSTRA 12362: nye verdier" in result.stdout and "11 tabeller, 0 feilet, 12 forespørsler til SSB." in result.stdout
    out = tmp_path / "k.html"
    result = CliRunner().invoke(cli, ["export", "kostra", "--format", "html", "--out", str(out)], env=env)
    assert result.exit_code == 0 and "for 2024" in result.stdout
    reader = TableReader()
    text = out.read_text(encoding="utf-8")
    reader.feed(text)
    rows = {r[0]: r for t in reader.tables for r in t["rows"]}  # type: ignore[union-attr]
    assert rows["Nøkkeltall"][1:3] == ["Asker 2023", "Asker 2024"]
    share = rows["Andel barn 3-5 år med barnehageplass i forhold til innbyggere 3-5 år (B)"]
    assert share[6] == "" and share[2].endswith("\u00a0%") and "³" not in share[2]  # ASSS: no SSB figure
    politics = rows["Netto driftsutgifter per innbygger (100) politisk styring (B) *) **)"]
    assert all(cell.endswith("³") for cell in politics[1:6] + politics[7:])  # nominal SSB figures, marked
    assert "³ SSBs tall, ikke inflasjonsjustert eller justert for utgiftsbehov" in text
    # the printed year is still there as it was printed
    result = CliRunner().invoke(cli, ["export", "kostra", "--format", "html", "--out", str(out), "--year", "2022"], env=env)
    reader = TableReader()
    reader.feed(out.read_text(encoding="utf-8"))
    rows = {r[0]: r for t in reader.tables for r in t["rows"]}  # type: ignore[union-attr]
    assert rows["Netto driftsutgifter per innbygger (100) politisk styring (B) *) **)"][1:] == [
        "426", "366", "336", "273", "191", "291", "291"]


def test_unknown_table_is_refused(server: FakePxWebApi, tmp_path: Path) -> None:
    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_SSB_URL": server.base_url}
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["kostra", "fetch", "--table", "99999"], env=env)
    assert result.exit_code == 1 and "ingen KOSTRA-rad bruker tabell 99999" in result.stderr


def test_validate_online_checks_every_row_and_region_code(server: FakePxWebApi, tmp_path: Path) -> None:
    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml"),
           "MONITOR_SSB_URL": server.base_url}
    result = CliRunner().invoke(cli, ["kostra", "validate", "--online"], env=env)
    assert result.exit_code == 0, result.output
    assert "SSB: 11 KOSTRA-tabeller sjekket mot metadata" in result.stdout and "0 avvik" in result.stdout
    broken = tmp_path / "indicators.yaml"
    broken.write_text((REPO / "indicators.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    text = (REPO / "kostra.yaml").read_text(encoding="utf-8").replace("ContentsCode: KOSgrunnskolepoe0000", "ContentsCode: KOSgrunnskolepoeng")
    (tmp_path / "kostra.yaml").write_text(text.replace('{code: EKG12}', '{code: EKG99}'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["kostra", "validate", "--online"], env={**env, "MONITOR_CATALOGUE": str(broken)})
    assert result.exit_code == 1
    assert "tabell 12255: opp_grunnskolepoeng: dimensjonen 'ContentsCode' mangler verdikoden(e) KOSgrunnskolepoeng" in result.stderr
    assert "tabell 12362: regiondimensjonen mangler kodene EKG99" in result.stderr
