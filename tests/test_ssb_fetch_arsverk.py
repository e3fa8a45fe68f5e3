"""arsverk_fagutdanning_helse: SSB KOSTRA KOSandelmhelseut0000, table 12209 (UNVERIFIED), through the real fetcher
against the fake PxWebApi; it reproduces the printed 2020–2022 values, and a wrong table guess fails it alone."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.core.fetchspec import SsbFetch
from monitor.store.database import Store
from support.catalogues import PRODUCTION_CATALOGUE, production_catalogue
from support.fake_pxwebapi import FakePxWebApi
from support.paths import FIXTURES, OSLO, REPO
from support.ssb_catalogue import catalogue_with, over_80
from support.ssb_runs import run_ssb, stored

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
ID = "arsverk_fagutdanning_helse"
CODE = "KOSandelmhelseut0000"
# The fixture (tests/fixtures/ssb-v2/12209, constructed): 2020–2022 are the printed 72,7/76,5/74,5 %, 2023–2024
# invented; 2019 («Ikke målt» in the print) is before first_year 2020. Each year under the code valid that year:
# 3025 for 2020–2023, 3203 for 2024.
EXPECTED = {"2020": 72.7, "2021": 76.5, "2022": 74.5, "2023": 75.2, "2024": 75.9}


def production_entry() -> dict[str, Any]:
    """The indicator's block as indicators.yaml has it."""
    document = yaml.safe_load(PRODUCTION_CATALOGUE.read_text(encoding="utf-8"))
    entry: dict[str, Any] = next(i for i in document["indicators"] if i["id"] == ID)
    return entry




@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=1000, window=60, now=NOW) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        yield store






def test_the_real_block_parses_with_its_kostra_region_and_unverified_marks() -> None:
    indicator = production_catalogue().get(ID)
    assert indicator.source.kind.value == "ssb" and indicator.source.name == "Helsedirektoratet"
    assert indicator.source.tables == ["12209"]
    fetch = indicator.fetch
    assert isinstance(fetch, SsbFetch) and fetch.value == "andel_helseutdanning"
    series = fetch.series["andel_helseutdanning"]
    assert (series.table, series.region.dimension, series.region.code) == ("12209", "KOKkommuneregion0000", None)
    assert series.select == {"ContentsCode": CODE} and series.first_year == 2020 and series.unit == "prosent"
    assert series.labels == {"ContentsCode": "Andel brukerrettede årsverk i omsorgstjenesten"}
    block = PRODUCTION_CATALOGUE.read_text(encoding="utf-8").split(f"- id: {ID}\n")[1].split("\n  - id: ")[0]
    assert block.count("UNVERIFIED") >= 3  # the table, the label/unit, and that Helsedirektoratet's figure is SSB's


def test_the_fetch_reproduces_the_printed_values(tmp_path: Path, db: Store, server: FakePxWebApi) -> None:
    catalogue = catalogue_with(tmp_path, production_entry())
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert report.failed == []
    assert stored(db, ID) == EXPECTED
    with (REPO / "monitor" / "data" / "baseline.csv").open(encoding="utf-8") as handle:
        printed = {row["period"]: row["value"] for row in csv.DictReader(handle) if row["indicator_id"] == ID}
    assert {period: value for period, value in printed.items() if value} == {
        "2020": "72.7", "2021": "76.5", "2022": "74.5"}
    for period, value in printed.items():
        if value:
            assert round(EXPECTED[period], 1) == float(value)
    # one POST asks 12209 for the code history from 2020 (0220 was not in use any more) and the one code
    body = next(r.body for r in server.requests if r.method == "POST")
    assert body["selection"][0] == {"variableCode": "KOKkommuneregion0000", "valueCodes": ["3025", "3203"]}
    assert body["selection"][1] == {"variableCode": "ContentsCode", "valueCodes": [CODE]}


def test_sharing_12209_with_over_80_is_one_query_for_both(tmp_path: Path, db: Store, server: FakePxWebApi) -> None:
    catalogue = catalogue_with(tmp_path, production_entry(), over_80())
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert report.failed == [] and server.path_counts["/tables/12209/data"] == 1
    assert stored(db, ID) == EXPECTED
    assert stored(db, "bor_hjemme")["2022"] == pytest.approx(90.9)


def test_a_wrong_table_guess_fails_only_this_indicator(tmp_path: Path, db: Store, server: FakePxWebApi) -> None:
    """If 12209 does not hold KOSandelmhelseut0000, SSB refuses the whole query; over_80 is still stored."""
    metadata = json.loads((FIXTURES / "ssb-v2" / "12209" / "metadata.json").read_text(encoding="utf-8"))
    contents = metadata["dimension"]["ContentsCode"]["category"]
    for key in ("index", "label", "unit"):
        contents[key].pop(CODE)
    contents["index"] = {code: position for position, code in enumerate(contents["index"])}
    metadata["size"][metadata["id"].index("ContentsCode")] = len(contents["index"])
    server.set_metadata("12209", metadata)
    catalogue = catalogue_with(tmp_path, production_entry(), over_80())
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert {t.table: (t.outcome, t.error) for t in report.tables} == {
        "12209": ("ok", None),
        f"12209:{ID}": ("failed", f"SSB-tabell 12209 har ingen verdi {CODE} i ContentsCode"),
    }
    assert stored(db, ID) == {}
    assert stored(db, "bor_hjemme")["2022"] == pytest.approx(90.9)
