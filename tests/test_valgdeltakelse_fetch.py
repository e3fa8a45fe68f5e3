"""valgdeltakelse_endring from SSB 09475 (kommunestyrevalg) and 08243 (stortingsvalg), and the derive ops it needs.

The value is each election's turnout against the same kind of election four years before (`change` with `years: 4`),
the two kinds merged into one series of odd years (`merge`). Unit tests of the ops use hand-worked numbers; the
behaviour tests run the real SSB fetcher against the fake PxWebApi (tests/fixtures/ssb-v2/09475 and 08243,
constructed: Asker 3203 on today's borders, see PROVENANCE.md) with a small catalogue holding the indicator's
block; one test reads the real block of indicators.yaml and compares with the printed 8,8 (2019) and -2,0 (2021).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from support.clocks import FixedClock
from support.fake_pxwebapi import FakePxWebApi
from support.paths import REPO
from support.relabel import relabel
from fetchers.ssb import SsbClient
from monitor.catalogue.indicators import Catalogue, Derive, load_catalogue
from monitor.core.errors import FetchError
from monitor.core.model import Point
from monitor.seed.baseline import load_baseline
from monitor.sources.derive import evaluate
from monitor.sources.online import check_ssb_online
from monitor.sources.pipeline import FetchReport, fetch_ssb
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
ID = "valgdeltakelse_endring"

MUNICIPALITY = """\
municipality:
  name: Asker
  codes:
    - {code: "0220", first_year: null, last_year: 2019}
    - {code: "3025", first_year: 2020, last_year: 2023}
    - {code: "3203", first_year: 2024, last_year: null}
indicators:
"""
HEAD = """\
    area: "Samarbeid for å nå målene"
    hovedmal: "H"
    delmal: "D"
    frequency: biennial
    unit: percentage_points
    symbol: "%"
    decimals: 1
    direction: higher_is_better
"""
KOMMUNESTYREVALG = """\
          table: "09475"
          region: {dimension: Region, codelist: agg_KommunerV1, code: "3203"}
          select: {ContentsCode: DeltaProsent}
          labels: {ContentsCode: "valgdeltak"}
          unit: "prosent"
"""
STORTINGSVALG = """\
          table: "08243"
          region: {dimension: Region, codelist: agg_KommunValg2025, code: "3203"}
          select: {ContentsCode: ValgSProsent}
          labels: {ContentsCode: "valgdeltak"}
          unit: "prosent"
"""
# The indicator's block as indicators.yaml has it (fetch part copied, comments left out).
VALGDELTAKELSE = f"""\
  - id: {ID}
    name: "Endring i valgdeltakelse (prosentpoeng)"
    source: {{kind: ssb, name: "Valgdirektoratet", table: ["09475", "08243"]}}
{HEAD}    fetch:
      series:
        kommunestyrevalg:
{KOMMUNESTYREVALG}          first_year: KO_FIRST
        stortingsvalg:
{STORTINGSVALG}          first_year: 2017
      value:
        op: merge
        of:
          - {{op: change, years: 4, of: [kommunestyrevalg]}}
          - {{op: change, years: 4, of: [stortingsvalg]}}
"""
# A catalogue mistake: the same election twice in one merge. Its table fails; the stortingsvalg indicator does not.
OVERLAP = f"""\
  - id: valg_dobbelt
    name: "Kommunestyrevalget to ganger"
    source: {{kind: ssb, name: "SSB 09475", table: "09475"}}
{HEAD}    fetch:
      series:
        ko:
{KOMMUNESTYREVALG}          first_year: 2015
        ko_igjen:
{KOMMUNESTYREVALG}          first_year: 2015
      value:
        op: merge
        of:
          - {{op: change, years: 4, of: [ko]}}
          - {{op: change, years: 4, of: [ko_igjen]}}
  - id: stortingsvalg_endring
    name: "Endring i valgdeltakelse ved stortingsvalget"
    source: {{kind: ssb, name: "SSB 08243", table: "08243"}}
{HEAD}    fetch:
      series:
        st:
{STORTINGSVALG}          first_year: 2017
      value: {{op: change, years: 4, of: [st]}}
"""


def small(tmp_path: Path, indicators: str) -> Catalogue:
    path = tmp_path / "catalogue.yaml"
    path.write_text(MUNICIPALITY + indicators, encoding="utf-8")
    return load_catalogue(path)


def valg_catalogue(tmp_path: Path, ko_first: int = 2015) -> Catalogue:
    return small(tmp_path, VALGDELTAKELSE.replace("KO_FIRST", str(ko_first)))


def derive(**spec: Any) -> Derive:
    return Derive.model_validate(spec)


def points(values: dict[str, float | None], status: dict[str, str] | None = None) -> dict[str, Point]:
    return {period: Point(value, (status or {}).get(period)) for period, value in values.items()}


def rounded(series: dict[str, Point]) -> dict[str, float | None]:
    return {period: None if p.value is None else round(p.value, 1) for period, p in series.items()}


# -- the derive ops, by hand ------------------------------------------------------------------------------------------

def test_change_over_four_years_pairs_each_election_with_the_one_four_years_before() -> None:
    ko = points({"2015": 61.6, "2019": 70.4, "2023": 67.1})
    got = evaluate(derive(op="change", years=4, of=["ko"]), {"ko": ko})
    # 70,4 − 61,6 = 8,8; 67,1 − 70,4 = −3,3; 2015 has no 2011: not produced
    assert got == {"2019": Point(8.8), "2023": Point(-3.3)}


def test_growth_over_two_years() -> None:
    got = evaluate(derive(op="growth", years=2, of=["x"]), {"x": points({"2018": 200.0, "2019": 1.0, "2020": 230.0})})
    assert got == {"2020": Point(15.0)}  # (230 / 200 − 1) × 100; 2019 has no 2017, 2018 no 2016


def test_a_missing_earlier_election_gives_no_value_never_an_invented_one() -> None:
    ko = points({"2019": 70.4, "2023": 67.1})  # 2015 not there (e.g. the codelist does not reach back)
    assert evaluate(derive(op="change", years=4, of=["ko"]), {"ko": ko}) == {"2023": Point(-3.3)}
    # one year back is not four years back: 2022 is no base for 2023 with years 4
    assert evaluate(derive(op="change", years=4, of=["x"]), {"x": points({"2022": 1.0, "2023": 2.0})}) == {}


def test_a_status_in_either_election_carries_into_the_change() -> None:
    ko = points({"2015": None, "2019": 70.4, "2023": None}, {"2015": "..", "2023": ":"})
    got = evaluate(derive(op="change", years=4, of=["ko"]), {"ko": ko})
    assert got == {"2019": Point(None, ".."), "2023": Point(None, ":")}


def test_merge_joins_the_two_kinds_of_election_into_one_series_of_odd_years() -> None:
    named = {"ko": points({"2015": 61.6, "2019": 70.4, "2023": 67.1}), "st": points({"2017": 84.3, "2021": 82.3, "2025": 84.0})}
    value = derive(op="merge", of=[derive(op="change", years=4, of=["ko"]), derive(op="change", years=4, of=["st"])])
    got = evaluate(value, named)
    assert list(got) == ["2019", "2021", "2023", "2025"]
    assert rounded(got) == {"2019": 8.8, "2021": -2.0, "2023": -3.3, "2025": 1.7}


def test_merge_keeps_a_status_cell_of_one_input() -> None:
    got = evaluate(derive(op="merge", of=["a", "b"]), {"a": points({"2019": 8.8}), "b": points({"2021": None}, {"2021": "."})})
    assert got == {"2019": Point(8.8), "2021": Point(None, ".")}


def test_merge_of_overlapping_years_is_an_error_not_a_choice() -> None:
    named = {"a": points({"2019": 8.8, "2021": 1.0}), "b": points({"2021": -2.0, "2023": 1.0})}
    with pytest.raises(FetchError) as caught:
        evaluate(derive(op="merge", of=["a", "b"]), named)
    message = str(caught.value)
    assert "2021" in message and "2019" not in message and "merge" in message
    # even a status-only cell in both is an overlap
    with pytest.raises(FetchError):
        evaluate(derive(op="merge", of=["a", "b"]), {"a": points({"2021": None}, {"2021": ".."}), "b": points({"2021": 1.0})})


@pytest.mark.parametrize(("spec", "words"), [
    ({"op": "merge", "of": ["a"]}, "`merge` tar minst 2"),
    ({"op": "ratio", "years": 4, "of": ["a", "b"]}, "`years` gjelder bare"),
    ({"op": "change", "years": 0, "of": ["a"]}, "greater than or equal to 1"),
    ({"op": "merge", "years": 4, "of": ["a", "b"]}, "`years` gjelder bare"),
])
def test_the_catalogue_refuses_a_malformed_merge_or_years(spec: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Derive.model_validate(spec)
    assert words in str(caught.value)


# -- the real fetcher against the fake PxWebApi ----------------------------------------------------------------------

@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=30, window=60, now=NOW) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        yield store


def run(catalogue: Catalogue, store: Store, server: FakePxWebApi, tmp_path: Path, only: set[str] | None = None) -> FetchReport:
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_ssb(catalogue, store, client, clock=FixedClock(NOW), raw_dir=tmp_path / "raw", only=only)


def stored(store: Store, indicator_id: str) -> dict[str, float | None]:
    return {v.period: None if v.value is None else round(v.value, 1) for v in store.latest(indicator_id)}


def test_fetch_gives_every_election_year_from_both_tables(db: Store, server: FakePxWebApi, tmp_path: Path) -> None:
    report = run(valg_catalogue(tmp_path), db, server, tmp_path)
    assert report.failed == [] and sorted(t.table for t in report.tables) == ["08243", "09475"]
    assert stored(db, ID) == {"2019": 8.8, "2021": -2.0, "2023": -3.3, "2025": 1.7}
    assert {v.source for v in db.latest(ID)} == {"ssb:08243+09475"}
    assert {v.region for v in db.latest(ID)} == {"3203"}
    # Asker through the aggregated election codelists: one code, today's borders, the election years from the base
    bodies = {r.path.split("/")[2]: r.body for r in server.requests if r.path.endswith("/data")}
    region = {t: next(s for s in b["selection"] if s["variableCode"] == "Region") for t, b in bodies.items()}
    assert region["09475"] == {"variableCode": "Region", "codelist": "agg_KommunerV1", "outputValues": "aggregated",
                               "valueCodes": ["3203"]}
    assert region["08243"]["codelist"] == "agg_KommunValg2025" and region["08243"]["valueCodes"] == ["3203"]
    times = {t: next(s for s in b["selection"] if s["variableCode"] == "Tid")["valueCodes"] for t, b in bodies.items()}
    assert times == {"09475": ["from(2015)"], "08243": ["from(2017)"]}  # from each series' first (base) election


def test_without_the_earlier_election_the_first_change_is_not_produced(db: Store, server: FakePxWebApi, tmp_path: Path) -> None:
    report = run(valg_catalogue(tmp_path, ko_first=2019), db, server, tmp_path)  # 2015 is not asked for
    assert report.failed == []
    assert stored(db, ID) == {"2021": -2.0, "2023": -3.3, "2025": 1.7}


def test_an_overlapping_merge_fails_its_table_alone_in_words(db: Store, server: FakePxWebApi, tmp_path: Path) -> None:
    report = run(small(tmp_path, OVERLAP), db, server, tmp_path)
    assert [t.table for t in report.failed] == ["09475"]
    error = report.failed[0].error or ""
    assert "2019, 2023" in error and "merge" in error and "Error" not in error and "Traceback" not in error
    assert stored(db, "valg_dobbelt") == {}
    assert stored(db, "stortingsvalg_endring") == {"2021": -2.0, "2025": 1.7}  # 82,3 − 84,3; 84,0 − 82,3


def test_the_real_block_reproduces_the_printed_values(server: FakePxWebApi, tmp_path: Path) -> None:
    catalogue = load_catalogue(REPO / "indicators.yaml")
    with (REPO / "monitor" / "data" / "baseline.csv").open(encoding="utf-8") as handle:
        printed = {row["period"]: row["value"] for row in csv.DictReader(handle) if row["indicator_id"] == ID and row["value"]}
    assert printed == {"2019": "8.8", "2021": "-2.0"}  # 2020 and 2022: "Ikke målt"
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_baseline(store, catalogue, NOW)
        report = run(catalogue, store, server, tmp_path, only={ID})
        assert report.failed == [] and sorted(t.table for t in report.tables) == ["08243", "09475"]
        # An SSB value equal to the printed one adds no vintage: 2019 and 2021 stay the printed 8,8 and -2,0 (the
        # fetched ones equal them), 2023 and 2025 are new from SSB.
        fetched = {v.period: round(v.value, 1) for v in store.vintages(ID) if v.source.startswith("ssb:") and v.value is not None}
        assert fetched == {"2023": -3.3, "2025": 1.7}
        assert stored(store, ID) == {"2019": 8.8, "2020": None, "2021": -2.0, "2022": None, "2023": -3.3, "2025": 1.7}
        assert {p: v for p, v in stored(store, ID).items() if p in printed} == {p: float(v) for p, v in printed.items()}


def test_validate_online_checks_both_tables(server: FakePxWebApi, tmp_path: Path) -> None:
    catalogue = valg_catalogue(tmp_path)
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        assert check_ssb_online(catalogue, client) == (2, [])
        # SSB gives DeltaProsent another meaning: the label check names table, indicator and series
        relabel(server, "09475", "ContentsCode", "DeltaProsent", "Forhåndsstemmer (prosent)")
        # and 08243's ValgSProsent becomes a count
        relabel(server, "08243", "ContentsCode", "ValgSProsent", "Stemmeberettigede")
        server.reset_counters()
        checked, problems = check_ssb_online(catalogue, client)
    assert checked == 2 and len(problems) == 2, problems
    assert problems[0].startswith(f"SSB 08243: {ID} (serie stortingsvalg): ") and "Stemmeberettigede" in problems[0]
    assert problems[1].startswith(f"SSB 09475: {ID} (serie kommunestyrevalg): ") and "valgdeltak" in problems[1]
