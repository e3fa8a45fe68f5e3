"""Udir export table 148 (EUG-Indikator): trivsel_skolen, vurdering_for_laering and motivasjon_skole.

The real fetcher against the local fake export API (tests/fixtures/udir-api/148, constructed: see PROVENANCE.md).
Each index is found by its name in 148's filterVerdier, so no guessed code is sent; each indicator is its own query
("148/trivsel", …), so a renamed index fails that indicator alone. The printed value is the two grades' scores
weighted by AntallBesvart (the `weighted_mean` derive step); the expected numbers below are worked by hand.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from support.catalogues import PRODUCTION_CATALOGUE, production_catalogue
from support.clocks import FixedClock
from support.fake_udir import FakeUdir
from fetchers.udir import UdirClient
from fetchers.udir_source import UdirSource
from monitor.catalogue.indicators import Derive
from monitor.core.model import Point
from monitor.seed.baseline import baseline_path
from monitor.sources.derive import NOT_POSSIBLE, evaluate
from monitor.sources.online import check_udir_online
from monitor.sources.pipeline import FetchReport, IndicatorPlan, fetch_source
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
THREE = {"trivsel_skolen": "148/trivsel", "vurdering_for_laering": "148/vurdering", "motivasjon_skole": "148/motivasjon"}


@pytest.fixture
def server() -> Iterator[FakeUdir]:
    running = FakeUdir(calls=60, window=60)
    with running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        yield store


def run(store: Store, server: FakeUdir, tmp_path: Path) -> FetchReport:
    catalogue = production_catalogue()
    server.reset_counters()
    with UdirClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_source(
            UdirSource(client, catalogue), IndicatorPlan(catalogue, "udir", set(THREE)), store,
            clock=FixedClock(NOW), raw_dir=tmp_path / "raw",
        )


def values(store: Store, indicator: str) -> dict[str, tuple[float | None, str | None]]:
    return {v.period: (v.value, v.status) for v in store.vintages(indicator) if v.source == f"udir:{THREE[indicator]}"}


def printed(indicator: str) -> dict[str, float]:
    with baseline_path().open(encoding="utf-8", newline="") as handle:
        return {row["period"]: float(row["value"]) for row in csv.DictReader(handle) if row["indicator_id"] == indicator}


# ---- the print reproduced ----------------------------------------------------------------------------


# Asker's rows in 148/rows.json: (Score 7., AntallBesvart 7., Score 10., AntallBesvart 10.) per school year.
# 2021-22: n = 1021 / 987 (2008 in all); 2022-23: n = 1043 / 1002 (2045).
HAND_WORKED = {
    # trivsel 2021: (4.4·1021 + 4.0·987) / 2008 = (4492.4 + 3948.0) / 2008 = 8440.4 / 2008 = 4.20339 → 4,2 (printed 4,2)
    # trivsel 2022: (4.3·1043 + 4.1·1002) / 2045 = (4484.9 + 4108.2) / 2045 = 8593.1 / 2045 = 4.20200 → 4,2 (printed 4,2)
    "trivsel_skolen": {"2021": 8440.4 / 2008, "2022": 8593.1 / 2045},
    # vurdering 2021: (3.8·1021 + 3.4·987) / 2008 = (3879.8 + 3355.8) / 2008 = 7235.6 / 2008 = 3.60339 → 3,6 (printed 3,6)
    # vurdering 2022: (3.7·1043 + 3.3·1002) / 2045 = (3859.1 + 3306.6) / 2045 = 7165.7 / 2045 = 3.50401 → 3,5 (printed 3,5)
    "vurdering_for_laering": {"2021": 7235.6 / 2008, "2022": 7165.7 / 2045},
    # motivasjon 2021: (3.9·1021 + 3.3·987) / 2008 = (3981.9 + 3257.1) / 2008 = 7239.0 / 2008 = 3.60508 → 3,6 (printed 3,6)
    # motivasjon 2022: (3.8·1043 + 3.2·1002) / 2045 = (3963.4 + 3206.4) / 2045 = 7169.8 / 2045 = 3.50601 → 3,5 (printed 3,5)
    "motivasjon_skole": {"2021": 7239.0 / 2008, "2022": 7169.8 / 2045},
}


def test_a_run_reproduces_the_printed_2021_and_2022_for_all_three(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    report = run(db, server, tmp_path)
    assert report.failed == [] and [t.table for t in report.tables] == sorted(THREE.values())
    # 148's filterVerdier once for the three queries, then sideData and one page each: 7 requests.
    assert server.total_requests == 7 == report.requests
    for indicator, expected in HAND_WORKED.items():
        got = values(db, indicator)
        for period, value in expected.items():
            assert got[period] == (pytest.approx(value, abs=1e-9), None), (indicator, period)
            assert round(value, 1) == printed(indicator)[period], (indicator, period)
    # 2019 and 2020 are older than the EUG series: they stay the print's alone.
    assert not {"2019", "2020"} & set(values(db, "trivsel_skolen"))


def test_the_grades_are_weighted_by_respondents_not_averaged(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    run(db, server, tmp_path)
    # 2023-24 (invented): trivsel 4,4 (1200 pupils) and 3,9 (800): (5280 + 3120) / 2000 = 4.2; a plain mean gives 4.15.
    assert values(db, "trivsel_skolen")["2023"] == (pytest.approx(4.2), None)
    # motivasjon: (3.8·1200 + 3.3·800) / 2000 = (4560 + 2640) / 2000 = 3.6 (plain mean 3.55)
    assert values(db, "motivasjon_skole")["2023"] == (pytest.approx(3.6), None)


def test_the_query_asks_for_the_code_the_name_resolved_to(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    run(db, server, tmp_path)
    filters = sorted(r.query["filter"][0] for r in server.requests if r.path == "/Eksport/148/data")
    # ids from 148/filterVerdier.json: Trivsel -31, Vurdering for læring -33, Motivasjon -35; 7. and 10. trinn 6 and 9.
    common = "TidID(202112_202212_202312_202412_202512)_EnhetID(-1132)_TrinnID(6_9)"
    assert filters == [f"{common}_SpoersmaalID({i})_KjoennID(-10)_EierformID(-10)" for i in ("-31", "-33", "-35")]
    meta = db.table_meta("udir")
    assert meta["148/trivsel"].label == "SpoersmaalID «Trivsel» = EUIndeks_1379 (id -31)"
    assert meta["148/motivasjon"].label == "SpoersmaalID «Motivasjon» = EUIndeks_9104 (id -35)"


def test_a_suppressed_grade_leaves_the_year_without_value_never_the_other_grade_alone(
    db: Store, server: FakeUdir, tmp_path: Path
) -> None:
    run(db, server, tmp_path)
    motivasjon = values(db, "motivasjon_skole")
    assert motivasjon["2024"] == (None, ":")  # 10. trinn 2024-25 is "*" (prikket): not 3,7 from 7. trinn alone
    assert all(value != 0 for value, _ in motivasjon.values())
    # vurdering 2024: (3.6·1100 + 3.3·950) / 2050 = (3960 + 3135) / 2050 = 7095 / 2050 = 3.46098
    assert values(db, "vurdering_for_laering")["2024"] == (pytest.approx(7095 / 2050), None)


# ---- one index renamed: that indicator alone fails -------------------------------------------------


def _renamed(server: FakeUdir, old: str, new: str) -> None:
    filters = server.filter_values("148")
    for entry in filters["SpoersmaalID"]:
        if entry["navn"] == old:
            entry["navn"] = new
    server.set_filter_values("148", filters)


def test_a_renamed_index_fails_only_its_indicator_in_one_sentence(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    _renamed(server, "Motivasjon", "Motivasjon og innsats")
    report = run(db, server, tmp_path)
    [failed] = report.failed
    assert failed.table == "148/motivasjon"
    assert failed.error is not None and failed.error.startswith(
        "tabell 148/motivasjon: finner ingen SpoersmaalID med kode som begynner med EUIndeks_ som heter «Motivasjon» "
        "i filterVerdier (har «Trivsel», «Støtte fra lærerne», «Vurdering for læring», «Mestring», «Motivasjon og innsats»)"
    )
    assert failed.error.endswith("til det virker igjen kan motivasjon_skole mates med `monitor import`")
    assert "\n" not in failed.error and "Traceback" not in failed.error
    assert values(db, "motivasjon_skole") == {}
    assert values(db, "trivsel_skolen")["2021"][0] == pytest.approx(8440.4 / 2008)
    assert values(db, "vurdering_for_laering")["2022"][0] == pytest.approx(7165.7 / 2045)
    # no code was guessed: the failing query never reached sideData or data
    assert not any("SpoersmaalID(-35)" in r.query.get("filter", [""])[0] for r in server.requests if r.path != "/Eksport")


def test_two_indices_of_the_same_name_fail_rather_than_choose(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    _renamed(server, "Mestring", "Trivsel")
    report = run(db, server, tmp_path)
    [failed] = report.failed
    assert failed.table == "148/trivsel"
    assert (failed.error or "").startswith(
        "tabell 148/trivsel: 2 SpoersmaalID-verdier med kode som begynner med EUIndeks_ heter «Trivsel» "
        "(EUIndeks_1379, EUIndeks_9103); katalogen må velge én med kode"
    )
    assert values(db, "motivasjon_skole")["2021"][0] == pytest.approx(7239.0 / 2008)


def test_a_question_of_the_same_name_is_never_taken_for_the_index(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    filters = server.filter_values("148")
    question = next(entry for entry in filters["SpoersmaalID"] if entry["kode"] == "EUSpoersmaal_Q10001")
    question["navn"] = "Trivsel"  # a single question named like the index: code_prefix EUIndeks_ leaves it out
    server.set_filter_values("148", filters)
    assert run(db, server, tmp_path).failed == []
    assert values(db, "trivsel_skolen")["2022"][0] == pytest.approx(8593.1 / 2045)


# ---- `monitor validate --online` ---------------------------------------------------------------------


def test_the_online_check_reports_the_resolved_codes(server: FakeUdir) -> None:
    with UdirClient(server.base_url, backoff=0.01) as client:
        tables, problems = check_udir_online(production_catalogue(), client)
    assert tables == 4 and problems == []
    assert problems.notes == [  # type: ignore[attr-defined]
        "Udir 148/motivasjon: SpoersmaalID «Motivasjon» = EUIndeks_9104 (id -35)",
        "Udir 148/trivsel: SpoersmaalID «Trivsel» = EUIndeks_1379 (id -31)",
        "Udir 148/vurdering: SpoersmaalID «Vurdering for læring» = EUIndeks_9102 (id -33)",
    ]


def test_the_online_check_names_a_renamed_index_and_an_invalid_enhet(server: FakeUdir) -> None:
    _renamed(server, "Vurdering for læring", "Vurdering")
    rows = [row for row in server.rows("148") if not (row["Skoleaarnavn"] == "2025-26" and row["Kommunekode"] == "3203")]
    server.set_rows("148", rows)  # filterStatus: Asker has no unit valid in 2025-26
    with UdirClient(server.base_url, backoff=0.01) as client:
        _, problems = check_udir_online(production_catalogue(), client)
    assert [p for p in problems if p.startswith("Udir 148/")] == [
        "Udir 148/motivasjon: Asker (EnhetID -1132) er ikke gyldig i det nyeste skoleåret (202512) ifølge filterStatus",
        "Udir 148/trivsel: Asker (EnhetID -1132) er ikke gyldig i det nyeste skoleåret (202512) ifølge filterStatus",
        "Udir 148/vurdering: vurdering_for_laering (serie score_7, score_10, besvart_7, besvart_10): finner ingen "
        "SpoersmaalID med kode som begynner med EUIndeks_ som heter «Vurdering for læring» i filterVerdier (har «Trivsel», "
        "«Støtte fra lærerne», «Vurdering», «Mestring», «Motivasjon»); Udir kan ha gitt indeksen nytt navn",
    ]


def test_cli_validate_online_prints_the_resolved_codes(server: FakeUdir, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli.main import cli

    document = yaml.safe_load(PRODUCTION_CATALOGUE.read_text(encoding="utf-8"))
    document = {  # the kommune and the five Udir-fetched indicators, nothing else (no network for the other sources)
        "municipality": document["municipality"],
        "indicators": [i for i in document["indicators"] if (i.get("fetch") or {}).get("kind") == "udir"],
    }
    catalogue = tmp_path / "udir.yaml"
    catalogue.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {"MONITOR_CATALOGUE": str(catalogue), "MONITOR_UDIR_URL": server.base_url, "MONITOR_DB": str(tmp_path / "x.db")}
    result = CliRunner().invoke(cli, ["validate", "--online"], env=env)
    assert result.exit_code == 0, result.output
    assert "Udir 148/trivsel: SpoersmaalID «Trivsel» = EUIndeks_1379 (id -31)" in result.stdout
    assert "Udir: 4 tabeller sjekket" in result.stdout and "0 avvik" in result.stdout


# ---- the derive step -----------------------------------------------------------------------------------


def _mean(**extra: object) -> Derive:
    return Derive.model_validate({"op": "weighted_mean", "of": ["a", "b"], **extra})


def test_weighted_mean_by_hand() -> None:
    series = {
        "a": {"2021": Point(4.4), "2022": Point(4.3), "2023": Point(None, ":")},
        "b": {"2021": Point(4.0), "2022": Point(4.1), "2023": Point(3.9), "2024": Point(4.0)},
        "na": {"2021": Point(1021), "2022": Point(0), "2023": Point(1200)},
        "nb": {"2021": Point(987), "2022": Point(0), "2023": Point(800)},
    }
    weighted = evaluate(_mean(weights=["na", "nb"]), series)
    assert weighted["2021"] == Point(round(8440.4 / 2008, 10))  # (4.4·1021 + 4.0·987) / 2008
    assert weighted["2022"] == Point(None, NOT_POSSIBLE)  # no respondents at all
    assert weighted["2023"] == Point(None, ":")  # a hidden grade hides the combined figure
    assert "2024" not in weighted  # only periods every input has
    plain = evaluate(_mean(), series)
    assert plain["2021"] == Point(4.2) and plain["2022"] == Point(4.2) and plain["2023"] == Point(None, ":")


def test_weighted_mean_needs_one_weight_per_value_and_weights_only_there() -> None:
    with pytest.raises(ValueError, match="én vekt per argument: 2 argumenter, 1 vekter"):
        _mean(weights=["na"])
    with pytest.raises(ValueError, match="`weights` gjelder bare `weighted_mean`"):
        Derive.model_validate({"op": "sum", "of": ["a", "b"], "weights": ["na", "nb"]})
    assert _mean(weights=["na", "nb"]).series_names() == {"a", "b", "na", "nb"}


def test_the_catalogue_selects_the_indices_by_name() -> None:
    catalogue = production_catalogue()
    for indicator, table in THREE.items():
        fetch = catalogue.get(indicator).fetch
        assert fetch is not None and fetch.kind == "udir"
        assert {series.table for series in fetch.series.values()} == {table}
        labels = {series.select["SpoersmaalID"].label for series in fetch.series.values()}  # type: ignore[union-attr]
        assert len(labels) == 1
        assert catalogue.get(indicator).definition_note is not None


def test_while_148_fails_the_three_can_still_be_imported(db: Store, server: FakeUdir, tmp_path: Path) -> None:
    from monitor.imports.indicators import import_file

    server.inject("/Eksport/148/data", "http400", times=None)
    report = run(db, server, tmp_path)
    assert sorted(t.table for t in report.failed) == sorted(THREE.values())
    assert all("`monitor import`" in (t.error or "") for t in report.failed)
    csv_file = tmp_path / "elevundersokelsen.csv"
    csv_file.write_text(
        "indicator_id;period;value\ntrivsel_skolen;2025;4,1\nvurdering_for_laering;2025;3,5\nmotivasjon_skole;2025;3,5\n",
        encoding="utf-8",
    )
    result = import_file(db, production_catalogue(), csv_file, now=NOW, actor="test")
    assert result.new_vintages == 3
    latest = {v.period: v for v in db.latest("motivasjon_skole")}
    assert latest["2025"].value == 3.5 and latest["2025"].source == "import"
