"""The constructed SSB PxWebApi v2 fixtures (tests/fixtures/ssb-v2/) against JSON-stat 2.0 and the catalogue.

Every `fetch` series of indicators.yaml must find its dimensions and value codes in its table's metadata.json and
data.json (the check `monitor validate --online` runs live), the data must be the answer to exactly the query
`build_selections` makes, and every SSB indicator derived from the fixtures must reproduce the handlingsprogram's
printed 2019–2022 values (monitor/data/baseline.csv).
"""

from __future__ import annotations

import csv
import json
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from fetchers.ssb_query import (
    Selection,
    _selection,
    build_selections,
    check_series_against_metadata,
    period_of,
    region_codes,
    selection_body,
    split_selection,
)
from monitor.catalogue.indicators import Catalogue, SsbFetch, SsbSeries, load_catalogue
from monitor.sources.derive import Point, Series, evaluate
from monitor.sources.feeds import feed_view

from support.paths import FIXTURES, REPO

SSB_V2 = FIXTURES / "ssb-v2"
TABLES = sorted(path.name for path in SSB_V2.iterdir() if path.is_dir() and path.name.isdigit())


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(REPO / "indicators.yaml")


@pytest.fixture(scope="module")
def codelists() -> dict[str, Any]:
    return {path.stem: load(path) for path in (SSB_V2 / "codelists").glob("*.json")}


def cross_check_tables(catalogue: Catalogue) -> dict[str, tuple[str, SsbSeries]]:
    """The tables validate --online asks on their own to cross-check a series (netto_driftsresultat: 12134)."""
    return {
        i.fetch.cross_check.series.table: (i.id, i.fetch.cross_check.series)
        for i in catalogue.indicators if isinstance(i.fetch, SsbFetch) and i.fetch.cross_check is not None
    }


def test_one_folder_per_catalogue_table(catalogue: Catalogue) -> None:
    wanted = {s.table for i in catalogue.indicators if i.fetch and i.fetch.kind == "ssb" for s in i.fetch.series.values()}
    assert set(TABLES) == wanted | set(cross_check_tables(catalogue))
    assert len(wanted) == 20 and set(cross_check_tables(catalogue)) == {"12134"}  # 09475, 08243: valgdeltakelse_endring
    for table in TABLES:
        for name in ("table.json", "metadata.json", "data.json", "query.json"):
            assert (SSB_V2 / table / name).is_file(), (table, name)


def test_config_has_the_ssb_limits() -> None:
    config = load(SSB_V2 / "config.json")
    assert config["defaultLanguage"] == "no" and config["defaultDataFormat"] == "json-stat2"
    assert (config["maxDataCells"], config["maxCallsPerTimeWindow"], config["timeWindow"]) == (800000, 30, 60)
    assert "creativecommons.org/licenses/by/4.0" in config["license"]
    assert "json-stat2" in config["dataFormats"]


def _check_jsonstat(dataset: dict[str, Any], *, metadata: bool) -> None:
    assert dataset["version"] == "2.0" and dataset["class"] == "dataset"
    ids, sizes = dataset["id"], dataset["size"]
    assert len(ids) == len(sizes) and set(ids) == set(dataset["dimension"])
    for dimension, size in zip(ids, sizes):
        category = dataset["dimension"][dimension]["category"]
        assert isinstance(category["index"], dict) and isinstance(category["label"], dict), dimension
        assert sorted(category["index"].values()) == list(range(size)), dimension
        assert set(category["label"]) == set(category["index"]), dimension
    role = dataset["role"]
    assert len(role["time"]) == 1 and role["time"][0] in ids
    assert len(role["geo"]) == 1 and role["geo"][0] in ids
    assert role["metric"] == ["ContentsCode"]
    assert "unit" in dataset["dimension"]["ContentsCode"]["category"]
    extension = dataset["extension"]
    assert extension["px"]["tableid"] and extension["contact"]
    if metadata:
        assert dataset["value"] == []
        for dimension in ids:
            assert "codelists" in dataset["dimension"][dimension]["extension"], dimension
        return
    values = dataset["value"]
    assert len(values) == math.prod(sizes)
    status = dataset.get("status", {})
    for index, value in enumerate(values):
        assert (value is None) == (str(index) in status), index
    assert all(0 <= int(key) < len(values) and symbol in {".", "..", ":"} for key, symbol in status.items())


@pytest.mark.parametrize("table", TABLES)
def test_fixtures_are_jsonstat2(table: str) -> None:
    metadata = load(SSB_V2 / table / "metadata.json")
    data = load(SSB_V2 / table / "data.json")
    _check_jsonstat(metadata, metadata=True)
    _check_jsonstat(data, metadata=False)
    info = load(SSB_V2 / table / "table.json")
    assert info["id"] == table and info["discontinued"] is False and info["source"] == "Statistisk sentralbyrå"
    assert info["updated"].endswith("Z") and info["updated"] == metadata["updated"] == data["updated"]
    time = metadata["role"]["time"][0]
    codes = list(metadata["dimension"][time]["category"]["index"])
    assert (info["firstPeriod"], info["lastPeriod"]) == (codes[0], codes[-1])
    assert len(info["variableNames"]) == len(metadata["id"])


def _series(catalogue: Catalogue) -> list[tuple[str, str, SsbSeries]]:
    """Every SSB series the fetch asks for: fetch blocks and control blocks (monitor.sources.feeds)."""
    return [
        (i.id, name, s) for i in feed_view(catalogue).indicators if isinstance(i.fetch, SsbFetch)
        for name, s in i.fetch.series.items()
    ]


def test_every_series_finds_its_codes_in_metadata_and_data(catalogue: Catalogue, codelists: dict[str, Any]) -> None:
    problems = []
    for indicator_id, name, series in _series(catalogue):
        for file in ("metadata.json", "data.json"):
            dataset = load(SSB_V2 / series.table / file)
            for problem in check_series_against_metadata(series, dataset, catalogue.municipality, codelists=codelists):
                problems.append(f"{series.table}/{file}: {indicator_id}.{name}: {problem}")
    assert problems == []


def test_data_answers_exactly_the_query_build_selections_makes(catalogue: Catalogue) -> None:
    metadata = {table: load(SSB_V2 / table / "metadata.json") for table in TABLES}
    selections = build_selections(feed_view(catalogue), metadata)  # control series too
    for table, (indicator_id, series) in cross_check_tables(catalogue).items():
        selections[table] = _selection(table, [(indicator_id, "cross_check", series)], catalogue.municipality,
                                       metadata[table])
    for table in TABLES:
        data = load(SSB_V2 / table / "data.json")
        selection = selections[table]
        assert list(selection.values) == data["id"], table
        for dimension, codes in selection.values.items():
            assert list(data["dimension"][dimension]["category"]["index"]) == list(codes), (table, dimension)
        assert load(SSB_V2 / table / "query.json") == selection_body(selection), table


def test_code_history_tables_mark_dead_codes_with_a_dot(catalogue: Catalogue) -> None:
    for table in TABLES:
        data = load(SSB_V2 / table / "data.json")
        region = data["role"]["geo"][0]
        codes = list(data["dimension"][region]["category"]["index"])
        if codes != ["0220", "3025", "3203"]:
            # agg_KommSummer(S) codes are K-xxxx / K.xxxx; the election codelists (09475, 08243) use plain 3203
            assert len(codes) == 1 and (codes[0][:2] in ("K-", "K.") or codes == ["3203"]), (table, codes)
            assert data["dimension"][region]["category"]["label"][codes[0]] == "Asker"
            continue
        status = data.get("status", {})
        sizes = data["size"]
        at = data["id"].index(region)
        time_at = data["id"].index("Tid")
        time_codes = list(data["dimension"]["Tid"]["category"]["index"])
        for flat in range(math.prod(sizes)):
            position, rest = [0] * len(sizes), flat
            for i in reversed(range(len(sizes))):
                position[i], rest = rest % sizes[i], rest // sizes[i]
            year = int(time_codes[position[time_at]][-4:])
            live = catalogue.municipality.code_for(year) == codes[position[at]]
            if not live:
                assert status.get(str(flat)) == ".", (table, flat)
            else:
                assert data["value"][flat] is not None or status.get(str(flat)) == "..", (table, flat)


def _extract(dataset: dict[str, Any], series: SsbSeries, catalogue: Catalogue) -> Series:
    """Test-side reading of a series (lists in `select` are summed); the fetcher has its own."""
    ids, sizes = dataset["id"], dataset["size"]
    index = {d: list(dataset["dimension"][d]["category"]["index"]) for d in ids}
    sums: dict[str, Point] = {}
    for flat, value in enumerate(dataset["value"]):
        coords, rest = {}, flat
        for i in reversed(range(len(ids))):
            coords[ids[i]] = index[ids[i]][rest % sizes[i]]
            rest //= sizes[i]
        if any(coords[d] not in series.codes(d) for d in series.select):
            continue
        period = period_of(coords[series.time_dimension], series.period)
        if period is None or int(period) < series.first_year:
            continue
        expected = series.region.code or catalogue.municipality.code_for(int(period))
        if coords[series.region.dimension] != expected:
            continue
        status = dataset.get("status", {}).get(str(flat))
        before = sums.get(period, Point(0.0))
        if before.value is None or value is None:
            sums[period] = Point(None, before.status or status)
        else:
            sums[period] = Point(before.value + value)
    return sums


def _printed(value: float, decimals: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def test_fixtures_reproduce_the_printed_baseline(catalogue: Catalogue) -> None:
    with (REPO / "monitor" / "data" / "baseline.csv").open(encoding="utf-8") as handle:
        baseline = {(row["indicator_id"], row["period"]): row["value"] for row in csv.DictReader(handle)}
    checked = expected = 0
    for indicator in catalogue.indicators:
        if not isinstance(indicator.fetch, SsbFetch):
            continue
        named = {
            name: _extract(load(SSB_V2 / series.table / "data.json"), series, catalogue)
            for name, series in indicator.fetch.series.items()
        }
        result = evaluate(indicator.fetch.value, named)
        covered = min(series.first_year for series in indicator.fetch.series.values())
        for year in ("2019", "2020", "2021", "2022"):
            printed = baseline.get((indicator.id, year))
            if not printed:
                continue  # "Ikke målt" / "Tall kommer": the fixture has a plausible value instead
            if int(year) < covered:
                assert year not in result, (indicator.id, year)  # e.g. 14490 starts in 2020: 2019 stays as printed
                continue
            expected += 1
            assert result[year].value is not None, (indicator.id, year)
            got = _printed(result[year].value, indicator.decimals)
            assert got == Decimal(printed).quantize(got), (indicator.id, year, result[year].value, printed)
            checked += 1
        if indicator.id == "valgdeltakelse_endring":  # election years only: 2019/2023 kommunestyre-, 2021/2025 stortingsvalg
            assert set(result) == {"2019", "2021", "2023", "2025"}
        else:
            assert {"2023", "2024"} <= set(result), indicator.id
    # every numeric printed 2019–2022 cell of the SSB indicators in the years their series cover (24 indicators × 4
    # years, less 13 "Ikke målt"/"Tall kommer" cells, less stromforbruk 2019, before 14490 starts); netto_lanegjeld
    # is a control figure, not an SSB value; arsverk_fagutdanning_helse adds 2020–2022 (2019 is «Ikke målt»)
    assert checked == expected == 82


def test_region_codes_follow_the_code_history(catalogue: Catalogue) -> None:
    series = catalogue.get("netto_driftsresultat").fetch.series["netto_driftsresultat"]  # type: ignore[union-attr]
    assert region_codes(series, catalogue.municipality) == ["0220", "3025", "3203"]
    later = series.model_copy(update={"first_year": 2021})
    assert region_codes(later, catalogue.municipality) == ["3025", "3203"]


def test_selections_without_metadata_use_from_expressions(catalogue: Catalogue) -> None:
    selections = build_selections(catalogue)
    assert selections["01222"].values["Tid"] == ("from(2018K4)",)
    assert selections["07984"].values["Tid"] == ("from(2018)",)
    assert selections["08487"].values["Tid"] == ("from(2018-2019)",)
    assert selections["12905"].values["KOKfunksjon0000"] == ("130", "221", "222", "261", "381", "386")
    assert selections["01222"].cells is None and split_selection(selections["01222"]) is None
    body = selection_body(selections["13470"])
    region, nace = body["selection"][0], body["selection"][1]
    assert region == {"variableCode": "Region", "codelist": "agg_KommSummer", "outputValues": "aggregated",
                      "valueCodes": ["K-3203"]}
    assert nace["codelist"] == "agg_NACE2007arb11" and "58-63" in nace["valueCodes"]
    assert body["placement"] == {"heading": ["Tid"], "stub": ["Region", "NACE2007", "ContentsCode"]}


def test_split_selection_halves_time(catalogue: Catalogue) -> None:
    metadata = {table: load(SSB_V2 / table / "metadata.json") for table in TABLES}
    selection: Selection = build_selections(catalogue, metadata)["07984"]
    first, second = split_selection(selection)  # type: ignore[misc]
    assert first.values["Tid"] + second.values["Tid"] == selection.values["Tid"]
    assert first.values["Region"] == selection.values["Region"] and first.cells + second.cells == selection.cells  # type: ignore[operator]


def test_check_reports_missing_codes_dimensions_and_codelists(catalogue: Catalogue, codelists: dict[str, Any]) -> None:
    metadata = load(SSB_V2 / "07984" / "metadata.json")
    municipality = catalogue.municipality
    good = catalogue.get("egendekning_arbeidsplasser").fetch.series["arbeidsplasser"]  # type: ignore[union-attr]
    assert check_series_against_metadata(good, metadata, municipality, codelists=codelists) == []
    wrong_code = good.model_copy(update={"select": {**good.select, "Alder": "67-79"}})
    assert check_series_against_metadata(wrong_code, metadata, municipality) == [
        "dimensjonen 'Alder' mangler verdikoden(e) 67-79"
    ]
    missing_dimension = good.model_copy(update={"select": {"ContentsCode": "SysselsatteArb", "Sektor": "EKG"}})
    problems = check_series_against_metadata(missing_dimension, metadata, municipality)
    assert any("mangler dimensjonen 'Sektor'" in p for p in problems)
    wrong_list = good.model_copy(update={"region": good.region.model_copy(update={"codelist": "agg_KommSummer",
                                                                                    "code": "K-3203"})})
    assert any("tilbyr ikke kodelisten 'agg_KommSummer'" in p
               for p in check_series_against_metadata(wrong_list, metadata, municipality))
    wrong_member = good.model_copy(update={"region": good.region.model_copy(update={"code": "K.9999"})})
    assert check_series_against_metadata(wrong_member, metadata, municipality, codelists=codelists) == [
        "kodelisten 'agg_KommSummerS' mangler verdikoden(e) K.9999"
    ]
    kostra = load(SSB_V2 / "12905" / "metadata.json")
    no_function = catalogue.get("vedlikehold_formalsbygg").fetch.series["vedlikehold_130"]  # type: ignore[union-attr]
    dropped = no_function.model_copy(update={"select": {"KOKart0000": "AGD36", "ContentsCode": "KOSbelop0000"}})
    assert check_series_against_metadata(dropped, kostra, municipality) == [
        "dimensjonen 'KOKfunksjon0000' kan ikke elimineres og må stå i `select`"
    ]
    quarterly = good.model_copy(update={"period": "q4"})
    assert any("ingen koder som passer" in p for p in check_series_against_metadata(quarterly, metadata, municipality))


def test_schema_additions_list_select_codelists_and_offset() -> None:
    from pydantic import ValidationError

    from monitor.catalogue.indicators import Derive

    base = {"table": "13470", "select": {"NACE2007": ["58-63", "64-66"], "ContentsCode": "SysselsatteArb"},
            "codelists": {"NACE2007": "agg_NACE2007arb11"}}
    series = SsbSeries.model_validate(base)
    assert series.codes("NACE2007") == ["58-63", "64-66"] and series.codes("ContentsCode") == ["SysselsatteArb"]
    for broken in ({**base, "select": {"NACE2007": [], "ContentsCode": "x"}},
                   {**base, "select": {"NACE2007": ["a", "a"], "ContentsCode": "x"}},
                   {**base, "codelists": {"Alder": "agg_x"}},
                   {**base, "select": {"Tid": "2020", "ContentsCode": "x"}, "codelists": {}}):
        with pytest.raises(ValidationError):
            SsbSeries.model_validate(broken)
    complement = Derive.model_validate({"op": "scale", "factor": -1, "offset": 100, "of": ["x"]})
    assert evaluate(complement, {"x": {"2022": Point(9.1)}})["2022"].value == pytest.approx(90.9)
    with pytest.raises(ValidationError):
        Derive.model_validate({"op": "ratio", "offset": 1, "of": ["a", "b"]})
