"""The JSON-stat normaliser on real responses and the official samples, cross-checked cell by cell with pyjstat."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pyjstat import pyjstat

from fetchers.jsonstat import Cell, Dataset, JsonStatError, parse_dataset

FIXTURES = Path(__file__).parent / "fixtures"

# pyjstat 2.4 reads a constant dimension without category.index through `Series[0]` (pyjstat.py:246),
# which pandas 2 warns about (positional fallback) and pandas 3 turns into `KeyError: 0` (seen with
# pandas 3.1.1 on canada, galicia, oecd, oecd-canada, us-labor and us-unr): this is why the README pins
# pandas < 3. The warning comes from pyjstat, not from our code, so only those cases ignore it.
PYJSTAT_POSITIONAL = pytest.mark.filterwarnings(
    "ignore:Series.__getitem__ treating keys as positions is deprecated:FutureWarning"
)


def read(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


def load(rel: str) -> dict[str, Any]:
    return json.loads(read(rel))


def cell_map(ds: Dataset) -> dict[tuple[str, ...], Cell]:
    return {cell.codes: cell for cell in ds.cells()}


# --- cross-check with pyjstat, cell by cell ---------------------------------------------------

# Every file pyjstat can read. Not here, with the reason:
#   jsonstat-samples/collection.json      links only, no data (pyjstat: IndexError; we: JsonStatError)
#   jsonstat-samples/oecd-canada-col.json a collection of two datasets: pyjstat's Dataset cannot read it
#                                         (IndexError); checked below against oecd.json/canada.json instead
#   jsonstat-samples/oecd-canada.json     a 1.x bundle of two: cross-checked one dataset at a time below
#   pxwebapi2-scb/TAB6471_metadata.json   `value: []` (metadata only): pyjstat's get_values does values[0]
#                                         and raises IndexError
CROSS_CHECKED = [
    "ssb-v0/v0-05300-data-jsonstat2.json",
    "ssb-v0/v0-07221-boligprisindeks-jsonstat2.json",
    "ssb-v0/v0-13861-data-jsonstat2.json",
    "ssb-v0/v0-dataset-1120-salmon-weekly-jsonstat1.json",
    "ssb-v0/v0-dataset-29843-production-index-jsonstat1.json",
    "pxwebapi2-scb/TAB6471_data.json",
    "fhi/readme-example-data-jsonstat2.json",
    "jsonstat-samples/hierarchy.json",
    "jsonstat-samples/order.json",
    "jsonstat-samples/us-gsp.json",
    pytest.param("jsonstat-samples/canada.json", marks=PYJSTAT_POSITIONAL),
    pytest.param("jsonstat-samples/galicia.json", marks=PYJSTAT_POSITIONAL),
    pytest.param("jsonstat-samples/oecd.json", marks=PYJSTAT_POSITIONAL),
    pytest.param("jsonstat-samples/us-labor.json", marks=PYJSTAT_POSITIONAL),
    pytest.param("jsonstat-samples/us-unr.json", marks=PYJSTAT_POSITIONAL),
    "jsonstat-samples/cso-style-size-strings.json",  # constructed: "size" as digit strings, see PROVENANCE.md
]


def assert_same_as_pyjstat(text: str, ds: Dataset) -> None:
    frame = pyjstat.Dataset.read(text).write("dataframe", naming="id")
    assert list(frame.columns) == [*ds.ids, "value"]
    assert len(frame) == ds.n_cells == math.prod(ds.sizes)
    for row, cell in zip(frame.itertuples(index=False, name=None), ds.cells(), strict=True):
        assert row[:-1] == cell.codes
        theirs = row[-1]
        if theirs is None or (isinstance(theirs, float) and math.isnan(theirs)):
            assert cell.value is None
        elif isinstance(theirs, str):  # order.json has strings as values: ours keep them as the status
            assert (cell.value, cell.status) == (None, theirs)
        else:
            assert cell.value == theirs and isinstance(cell.value, float)


@pytest.mark.parametrize("rel", CROSS_CHECKED)
def test_every_cell_matches_pyjstat(rel: str) -> None:
    body = read(rel)
    assert_same_as_pyjstat(body.decode("utf-8"), parse_dataset(body))


@PYJSTAT_POSITIONAL  # both have a constant dimension without category.index
@pytest.mark.parametrize("name", ["oecd", "canada"])
def test_each_dataset_of_the_1x_bundle_matches_pyjstat(name: str) -> None:
    one = {name: load("jsonstat-samples/oecd-canada.json")[name]}
    ds = parse_dataset(json.dumps(one))
    assert ds.version is None
    assert_same_as_pyjstat(json.dumps(one), ds)
    assert list(ds.cells()) == list(parse_dataset(read(f"jsonstat-samples/{name}.json")).cells())


@pytest.mark.parametrize("position, name", [(0, "oecd"), (1, "canada")])
def test_collection_with_one_embedded_dataset(position: int, name: str) -> None:
    collection = load("jsonstat-samples/oecd-canada-col.json")
    collection["link"]["item"] = [collection["link"]["item"][position]]
    ds = parse_dataset(collection)
    assert ds.version == "2.0"
    assert list(ds.cells()) == list(parse_dataset(read(f"jsonstat-samples/{name}.json")).cells())


ALL_DATA = [p if isinstance(p, str) else p.values[0] for p in CROSS_CHECKED]


@pytest.mark.parametrize("rel", ALL_DATA)
def test_cells_columns_and_rows_agree(rel: str) -> None:
    ds = parse_dataset(read(rel))
    cells = list(ds.cells())
    columns = ds.columns()
    assert list(columns) == [*ds.ids, "value", "status"]
    assert [Cell(tuple(codes), v, s) for *codes, v, s in zip(*columns.values())] == cells
    assert ds.to_rows() == [{**dict(zip(ds.ids, c.codes)), "value": c.value, "status": c.status} for c in cells]
    assert ds == parse_dataset(load(rel)) == parse_dataset(read(rel).decode("utf-8"))
    assert [c.status for c in cells] == ds.statuses
    assert {type(v) for v in ds.values} <= {float, type(None)}
    assert all(type(code) is str for codes in ds.codes for code in codes)


def test_columns_share_the_datasets_lists_and_dict_input_is_not_aliased() -> None:
    doc = load("ssb-v0/v0-13861-data-jsonstat2.json")
    ds = parse_dataset(doc)
    assert ds.columns()["value"] is ds.values  # documented: no copy, that is part of the speed
    doc["value"][0] = 99.0
    assert ds.values[0] == 0.205


def test_metadata_numbers_stay_integers_when_parsed_from_bytes() -> None:
    # parse_dataset reads JSON integers as float for speed, then restores them in the metadata
    ds = parse_dataset(read("ssb-v0/v0-07221-boligprisindeks-jsonstat2.json"))
    assert type(ds.units["ContentsCode"]["Boligindeks"]["decimals"]) is int
    assert type(ds.extension["px"]["decimals"]) is int and all(type(size) is int for size in ds.sizes)
    assert ds.extension == load("ssb-v0/v0-07221-boligprisindeks-jsonstat2.json")["extension"]


# --- real SSB responses ---------------------------------------------------------------------------


def test_ssb_07221_house_prices_keeps_dotdot_with_null_value() -> None:
    ds = parse_dataset(read("ssb-v0/v0-07221-boligprisindeks-jsonstat2.json"))
    assert ds.sizes == (12, 3, 1, 8) and ds.n_cells == 288
    assert ds.codes[0][:3] == ("TOTAL", "001", "002")  # leading zeros kept
    assert ds.labels["Region"]["007"] == "Innlandet" and ds.labels["Boligtype"]["02"] == "Småhus"
    # Småhus in Innlandet, Trøndelag uten Trondheim and Nord-Norge: ".." for every quarter, value null.
    assert ds.cell(Region="007", Boligtype="02", Tid="2023K4") == Cell(("007", "02", "Boligindeks", "2023K4"), None, "..")
    assert Counter(ds.statuses) == Counter({None: 264, "..": 24})
    dotdot = {(c.codes[0], c.codes[1]) for c in ds.cells() if c.status == ".."}
    assert dotdot == {("007", "02"), ("010", "02"), ("011", "02")}
    assert all(c.value is None for c in ds.cells() if c.status == "..")
    assert ds.cell(Region="001", Boligtype="01", Tid="2023K4").value == 148.9
    assert ds.cell(Region="TOTAL", Boligtype="01", Tid="2022K1") == Cell(("TOTAL", "01", "Boligindeks", "2022K1"), 136.2, None)
    assert ds.roles == {"time": ["Tid"], "metric": ["ContentsCode"]}
    assert ds.updated == "2024-01-12T07:00:00Z" and ds.source == "Statistisk sentralbyrå"
    assert ds.notes[1].startswith(".. = Tallgrunnlag mangler")
    assert ds.units == {"ContentsCode": {"Boligindeks": {"base": "indeks", "decimals": 1}}}
    assert ds.extension["px"]["tableid"] == "07221"


def test_ssb_05300_dot_and_dotdot() -> None:
    ds = parse_dataset(read("ssb-v0/v0-05300-data-jsonstat2.json"))
    assert ds.codes[0] == ("01", "02", "03", "04", "05", "06")
    assert Counter(s for s in ds.statuses if s) == {".": 20, "..": 8}
    # Bokhandel (08) under 1 km (01) in 2021: "." (category not applicable), value null, kept.
    assert ds.cell(Avstand1="01", Kulturtilbud="08", Tid="2021") == Cell(("01", "08", "Avstand", "2021"), None, ".")
    assert ds.cell(Avstand1="06", Kulturtilbud="01", Tid="1991") == Cell(("06", "01", "Avstand", "1991"), None, "..")
    assert ds.cell(Avstand1="01", Kulturtilbud="01", Tid="1991") == Cell(("01", "01", "Avstand", "1991"), 16.0, None)
    assert ds.cell(Avstand1="01", Kulturtilbud="01", Tid="1994").value == 14.0
    assert [c.status for c in ds.cells() if c.value is None] == [s for s in ds.statuses if s]  # no null without status
    assert ds.updated == "2022-05-24T06:00:00Z" and ds.extension["px"]["decimals"] == 0


def test_ssb_13861_gini_with_units_and_notes() -> None:
    ds = parse_dataset(read("ssb-v0/v0-13861-data-jsonstat2.json"))
    assert ds.ids == ("NACE2007", "ContentsCode", "Tid") and ds.codes[0] == ("A-Z", "A", "B", "C")
    assert ds.cell(NACE2007="A-Z", ContentsCode="Ginikoeffisient", Tid="2016").value == 0.205
    assert ds.cell(NACE2007="A-Z", ContentsCode="P90P10", Tid="2016").value == 2.3
    assert set(ds.statuses) == {None}
    assert ds.units["ContentsCode"]["Ginikoeffisient"] == {"base": "ginikoeffisient", "decimals": 3}
    assert ds.notes[0].startswith("Vi kan ikke oppgi tall")
    assert ds.dimension_labels["ContentsCode"] == "statistikkvariabel"


def test_ssb_29843_jsonstat1_bundle() -> None:
    ds = parse_dataset(read("ssb-v0/v0-dataset-29843-production-index-jsonstat1.json"))
    assert ds.version is None and ds.sizes == (20, 6, 312) and ds.n_cells == 37440
    assert Counter(ds.statuses) == {None: 30240, ".": 7200}
    assert all(c.value is None for c in ds.cells() if c.status == ".")
    assert ds.cell(PKoder="P120", ContentsCode="Vekter", Tid="2015M12").value == 5.8
    assert ds.roles == {"metric": ["ContentsCode"], "time": ["Tid"]}
    assert ds.updated == "2016-02-13T14:00:25Z"


def test_ssb_1120_weekly_codes() -> None:
    ds = parse_dataset(read("ssb-v0/v0-dataset-1120-salmon-weekly-jsonstat1.json"))
    assert ds.codes == (("01", "02"), ("2014U30", "2014U31"), ("Vekt", "Kilopris"))
    assert [c.value for c in ds.cells()] == [14297.0, 42.23, 15439.0, 37.7, 342.0, 43.49, 447.0, 43.32]
    assert ds.units["ContentsCode"]["Kilopris"] == {"base": "NOK"}


# --- PxWebApi 2 (SCB) and FHI -------------------------------------------------------------------


def test_pxwebapi2_data() -> None:
    ds = parse_dataset(read("pxwebapi2-scb/TAB6471_data.json"))
    assert ds.sizes == (21, 11, 3, 1, 4) and ds.codes[0][:2] == ("01", "03")
    assert ds.cell(Region="01", Alder="0-9", Kon="TotSa", Tid="2026M01").value == 245284.0
    assert ds.cell(Region="01", Alder="0-9", Kon="TotSa", Tid="2026M04").value == 251635.0
    assert ds.labels["Region"]["01"] == "Stockholms län" and ds.updated == "2026-06-08T06:00:00Z"


def test_pxwebapi2_metadata_only_needs_allow_empty() -> None:
    body = read("pxwebapi2-scb/TAB6471_metadata.json")
    with pytest.raises(JsonStatError, match=r"value is empty but the size product is 2006784.*allow_empty=True"):
        parse_dataset(body)
    ds = parse_dataset(body, allow_empty=True)
    assert ds.metadata_only and ds.n_cells == 0 and list(ds.cells()) == [] and ds.to_rows() == []
    assert ds.sizes == (312, 134, 3, 1, 16) and ds.codes[0][:3] == ("00", "01", "0114")
    assert ds.codes[4][-1] == "2026M04" and all(col == [] for col in ds.columns().values())
    assert not parse_dataset(read("pxwebapi2-scb/TAB6471_data.json")).metadata_only


def test_fhi_empty_status_string_and_null_roles() -> None:
    ds = parse_dataset(read("fhi/readme-example-data-jsonstat2.json"))
    assert ds.codes[0] == ("03", "30") and ds.labels["GEO"] == {"03": "Oslo", "30": "Viken"}
    assert ds.roles == {"time": [], "geo": [], "metric": ["MEASURE_TYPE"]}
    assert ds.to_rows()[0] == {
        "GEO": "03", "AAR": "2020_2020", "KJONN": "0", "ALDER": "0", "MEASURE_TYPE": "BEFVEKST_ANT",
        "value": 3516.0, "status": None,
    }
    assert [c.value for c in ds.cells()] == [3516.0, 2817.0, 11219.0, 16846.0]
    assert set(ds.statuses) == {None}
    assert ds.updated == "2022-12-20T11:44:58.7706326+00:00" and ds.source is None
    assert ds.units["MEASURE_TYPE"]["BEFVEKST_ANT"]["decimals"] is None


# --- official samples: the format's features --------------------------------------------------


def test_oecd_status_object_and_constant_dimension_without_index() -> None:
    ds = parse_dataset(read("jsonstat-samples/oecd.json"))
    assert ds.codes[0] == ("UNR",) and ds.codes[1][:3] == ("AU", "AT", "BE")
    assert Counter(ds.statuses) == {None: 360, "e": 72}
    assert ds.cell(area="AU", year="2003") == Cell(("UNR", "AU", "2003"), 5.943826289, None)
    assert ds.cell(area="AU", year="2013").status == "e"  # "10": "e"
    assert ds.labels["year"]["2003"] == "2003"  # no category.label: the code is the label


def test_canada_one_element_status_array_applies_to_all() -> None:
    ds = parse_dataset(read("jsonstat-samples/canada.json"))
    assert ds.codes[:2] == (("CA",), ("2012",)) and set(ds.statuses) == {"a"}
    assert ds.cell(age="T", concept="POP", sex="T").value == 34880.5


def test_hierarchy_sparse_value_object() -> None:
    ds = parse_dataset(read("jsonstat-samples/hierarchy.json"))
    assert ds.n_cells == 132 and set(ds.values) == {None} and set(ds.statuses) == {None}


def test_order_row_major_and_string_values() -> None:
    ds = parse_dataset(read("jsonstat-samples/order.json"))
    got = {c.codes: c.status for c in ds.cells()}
    expected = {(a, b, c): f"A{a}B{b}C{c}" for a in "123" for b in "12" for c in "1234"}
    expected["2", "1", "4"] = "A1B1C4"  # the sample itself has this typo at position 11
    assert got == expected and set(ds.values) == {None}
    assert [c.codes for c in ds.cells()][:5] == [("1", "1", "1"), ("1", "1", "2"), ("1", "1", "3"), ("1", "1", "4"), ("1", "2", "1")]


def test_us_samples_keep_leading_zeros_and_units() -> None:
    gsp = parse_dataset(read("jsonstat-samples/us-gsp.json"))
    assert gsp.codes[1][:2] == ("01", "02") and gsp.labels["state"]["01"] == "Alabama"
    assert gsp.units["concept"]["gsp"]["multiplier"] == 6
    labor = parse_dataset(read("jsonstat-samples/us-labor.json"))
    assert labor.codes[1][0] == "01001" and labor.n_cells == 12880
    assert labor.cell(county="01001", labor="unr").value == 6.5


def test_galicia_two_geo_roles_and_nulls() -> None:
    ds = parse_dataset(read("jsonstat-samples/galicia.json"))
    assert ds.roles["geo"] == ["residence", "birth"] and ds.n_cells == 3960
    assert sum(v is None for v in ds.values) == 4 and ds.values[:3] == [2695880.0, 1096027.0, 357648.0]


def test_status_array_one_per_cell_and_symbols_in_value() -> None:
    doc = load("fhi/readme-example-data-jsonstat2.json")
    doc["status"] = ["", ":", None, "-"]
    doc["value"] = [3516, None, "..", 16846]
    assert [(c.value, c.status) for c in parse_dataset(doc).cells()] == [
        (3516.0, None), (None, ":"), (None, ".."), (16846.0, "-")
    ]


# --- errors --------------------------------------------------------------------------------------


def broken_07221(change) -> dict[str, Any]:
    doc = load("ssb-v0/v0-07221-boligprisindeks-jsonstat2.json")
    change(doc)
    return doc


@pytest.mark.parametrize(
    "data, message",
    [
        (read("ssb-v0/v0-07221-boligprisindeks-jsonstat2.json")[:5000], r"truncated or malformed JSON: .* of 5000"),
        (b"", r"truncated or malformed JSON"),
        (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>", r"body is HTML, not JSON"),
        (b"\xff\xfe\x00", r"truncated or malformed JSON|not UTF-8"),
        (b"[1, 2]", r"top-level JSON value is a list"),
        (broken_07221(lambda d: d.update(size=[12, 3, 1, 9])), r"dimension 'Tid': 8 distinct categories but size says 9"),
        (broken_07221(lambda d: d.update(value=d["value"][:-1])), r"value has 287 cells, size product is 288"),
        (broken_07221(lambda d: d["dimension"].pop("Tid")), r"dimension 'Tid' is listed in 'id' but missing"),
        (broken_07221(lambda d: d["dimension"]["Tid"]["category"].pop("index")), r"'Tid': category.index missing on a dimension of size 8"),
        (broken_07221(lambda d: d.update(id=["Region", "Boligtype", "Tid"])), r"'id' names 3 dimensions but 'size' has 4"),
        (broken_07221(lambda d: d.update(status=[".."] * 5)), r"status array has 5 entries; expected 1 or 288"),
        (broken_07221(lambda d: d["status"].update({"288": ".."})), r"status object key '288' is outside 0..287"),
        (broken_07221(lambda d: d["dimension"]["Tid"]["category"]["index"].update({"2023K4": 9})), r"'Tid': category.index positions"),
        (broken_07221(lambda d: d.update(role={"time": ["Kvartal"]})), r"role 'time' must list dimension ids"),
        (broken_07221(lambda d: d.update(value={"x": 1})), r"value object key 'x' is not a cell index"),
        (broken_07221(lambda d: d["value"].__setitem__(3, [1])), r"value\[3\] is \[1\]"),
        (broken_07221(lambda d: d["value"].__setitem__(3, True)), r"value\[3\] is True"),
        (json.dumps(broken_07221(lambda d: d["value"].__setitem__(3, True))), r"value\[3\] is True"),
        (load("jsonstat-samples/oecd-canada-col.json"), r"collection with 2 items, 2 embedded datasets: expected one"),
        (load("jsonstat-samples/collection.json"), r"collection with 8 items, 0 embedded datasets"),
        (load("jsonstat-samples/oecd-canada.json"), r"1.x bundle with 2 datasets \(oecd, canada\)"),
        ({"version": "2.0", "class": "dimension", "category": {}}, r"not a JSON-stat 2.0 dataset: class 'dimension'"),
        (load("ssb-v0/v0-error-bodies.json")["fake_post_too_many_values_selected"], r"error body: .*Too many values selected"),
        (load("pxwebapi2-scb/TAB6471_data.json") | {"value": "x"}, r"'value' must be an array or an object"),
    ],
)
def test_malformed_input_gives_a_clear_json_stat_error(data: Any, message: str) -> None:
    with pytest.raises(JsonStatError, match=message):
        parse_dataset(data)


def test_json_stat_error_is_a_value_error_without_a_json_traceback() -> None:
    with pytest.raises(ValueError) as caught:
        parse_dataset(read("fhi/readme-example-data-jsonstat2.json")[:-3])
    assert type(caught.value) is JsonStatError and caught.value.__cause__ is None
    assert caught.value.__suppress_context__



# --- JSON-stat as real producers write it (issue 15 §5) ------------------------------------------


def kommune(value: Any, **changes: Any) -> dict[str, Any]:
    """A small SSB-shaped JSON-stat 2.0 dataset: 2 kommuner x 1 statistic x 3 years (constructed)."""
    doc: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": "Befolkning, etter region, statistikkvariabel og år",
        "source": "Statistisk sentralbyrå",
        "updated": "2024-02-21T07:00:00Z",
        "id": ["Region", "ContentsCode", "Tid"],
        "size": [2, 1, 3],
        "role": {"geo": ["Region"], "metric": ["ContentsCode"], "time": ["Tid"]},
        "dimension": {
            "Region": {"label": "region", "category": {"index": {"3203": 0, "0301": 1}, "label": {"3203": "Asker", "0301": "Oslo"}}},
            "ContentsCode": {
                "label": "statistikkvariabel",
                "category": {"index": {"Folkemengde": 0}, "label": {"Folkemengde": "Personer"}, "unit": {"Folkemengde": {"base": "personer", "decimals": 0}}},
            },
            "Tid": {"label": "år", "category": {"index": {"2021": 0, "2022": 1, "2023": 2}, "label": {"2021": "2021", "2022": "2022", "2023": "2023"}}},
        },
        "value": list(value) if isinstance(value, (list, tuple)) else value,  # a fresh list each time
    }
    return doc | changes


SIX = (95000, 96000, 97000, 697000, 699000, 709000)


def test_cso_style_sizes_as_digit_strings() -> None:
    body = read("jsonstat-samples/cso-style-size-strings.json")
    assert load("jsonstat-samples/cso-style-size-strings.json")["size"] == ["1", "3", "12"]
    ds = parse_dataset(body)
    assert ds.sizes == (1, 3, 12) and all(type(size) is int for size in ds.sizes) and ds.n_cells == 36
    assert ds.codes[1] == ("-", "1", "2") and ds.codes[2][0] == "2023M01"
    assert ds.cell(C02199V02655="-", **{"TLIST(M1)": "2023M01"}) == Cell(("XMP01C01", "-", "2023M01"), 1520.4, None)
    assert ds.cell(C02199V02655="2", **{"TLIST(M1)": "2023M12"}) == Cell(("XMP01C01", "2", "2023M12"), None, None)
    as_ints = load("jsonstat-samples/cso-style-size-strings.json") | {"size": [1, 3, 12]}
    assert ds == parse_dataset(as_ints) == parse_dataset(json.dumps(as_ints))


def test_sizes_as_whole_number_floats_everywhere() -> None:
    with_ints = parse_dataset(kommune(SIX))
    for size in ([2.0, 1.0, 3.0], ["2", "1", "3"], [2, 1.0, "3"]):
        assert parse_dataset(kommune(SIX, size=size)) == with_ints  # a dict from the caller
        assert parse_dataset(json.dumps(kommune(SIX, size=size))) == with_ints  # the body as text
    # a 1.x bundle keeps id/size inside "dimension": the same rule there
    bundle = kommune(SIX)
    del bundle["version"], bundle["class"]
    bundle["dimension"] |= {"id": bundle.pop("id"), "size": [2.0, 1.0, 3.0], "role": bundle.pop("role")}
    for data in ({"dataset": bundle}, json.dumps({"dataset": bundle})):
        ds = parse_dataset(data)
        assert ds.sizes == (2, 1, 3) and all(type(size) is int for size in ds.sizes) and ds.values == with_ints.values
    # category.index positions written 0.0, 1.0 read the same from a dict as from the body
    floats = kommune(SIX)
    floats["dimension"]["Tid"]["category"]["index"] = {"2021": 0.0, "2022": 1.0, "2023": 2.0}
    assert parse_dataset(floats) == parse_dataset(json.dumps(floats)) == with_ints


@pytest.mark.parametrize("bad", [2.5, -2, -2.0, True, "٢", "2.0", " 2", "-2", "+2", "", None, [2], float("nan"), float("inf")])
@pytest.mark.parametrize("as_text", [False, True])
def test_size_that_is_not_a_whole_non_negative_number_is_refused(bad: Any, as_text: bool) -> None:
    doc = kommune(SIX, size=[bad, 1, 3])
    with pytest.raises(JsonStatError, match=r"'size' must be a list of non-negative integers, got \["):
        parse_dataset(json.dumps(doc) if as_text else doc)


# (value, message): each names the cell by index and by its category in every dimension
CELL_4 = r"\(Region=0301, ContentsCode=Folkemengde, Tid=2022\)"
REFUSED_VALUES = [
    ("NaN", rf"value\[4\] is 'NaN' {CELL_4}: not a finite number"),
    ("Infinity", rf"value\[4\] is 'Infinity' {CELL_4}: not a finite number"),
    ("-Infinity", rf"value\[4\] is '-Infinity' {CELL_4}: not a finite number"),
    ("nan", rf"value\[4\] is 'nan' {CELL_4}: not a finite number"),
    ("-inf", rf"value\[4\] is '-inf' {CELL_4}: not a finite number"),
    ("1e999", rf"value\[4\] is '1e999' {CELL_4}: not a finite number"),
    ("٣", rf"value\[4\] is '٣' {CELL_4}: digits that are not ASCII"),
    ("٦٩٩٠٠٠", rf"value\[4\] is '٦٩٩٠٠٠' {CELL_4}: digits that are not ASCII"),
    ("６９９０００", rf"value\[4\] is '６９９０００' {CELL_4}: digits that are not ASCII"),
    ("699_000", rf"value\[4\] is '699_000' {CELL_4}: not a plain decimal number"),
    ("\u2009699000", rf"value\[4\] is '\\u2009699000' {CELL_4}: not a plain decimal number"),
    (float("nan"), rf"value\[4\] is nan {CELL_4}: not a finite number"),
    (float("-inf"), rf"value\[4\] is -inf {CELL_4}: not a finite number"),
    (10**400, rf"value\[4\] is 1000.* {CELL_4}: not a finite number"),
]


@pytest.mark.parametrize("bad, message", REFUSED_VALUES)
@pytest.mark.parametrize("form", ["array", "object"])
def test_value_that_is_not_a_finite_ascii_number_is_refused_naming_the_cell(bad: Any, message: str, form: str) -> None:
    value = [*SIX[:4], bad, SIX[5]] if form == "array" else {"0": SIX[0], "4": bad, "5": SIX[5]}
    with pytest.raises(JsonStatError, match=message):
        parse_dataset(kommune(value))
    if not isinstance(bad, int):  # as a body too (json writes nan/inf as NaN/-Infinity); a 401-digit integer would read as inf
        with pytest.raises(JsonStatError, match=message):
            parse_dataset(json.dumps(kommune(value), ensure_ascii=False).encode())


@pytest.mark.parametrize("literal, shown", [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("1e999", "inf"), ("-1E400", "-inf")])
def test_non_finite_json_numbers_are_refused(literal: str, shown: str) -> None:
    body = json.dumps(kommune([0, 0, 0, 0, 0, 0])).replace("0, 0, 0, 0, 0, 0]", f"0, 0, {literal}, 0, 0, 0]")
    assert literal in body
    with pytest.raises(JsonStatError, match=rf"value\[2\] is {shown} \(Region=3203, ContentsCode=Folkemengde, Tid=2023\): not a finite number"):
        parse_dataset(body)


def test_numeric_strings_in_ascii_are_read_as_numbers_and_symbols_stay_statuses() -> None:
    value = ["95000", "12.5", " 7 ", ".5", "1e3", ".."]
    for data in (kommune(value), json.dumps(kommune(value))):
        assert [(c.value, c.status) for c in parse_dataset(data).cells()] == [
            (95000.0, None), (12.5, None), (7.0, None), (0.5, None), (1000.0, None), (None, ".."),
        ]


def test_empty_string_status_is_no_status() -> None:
    value = [95000, None, 97000, None, 699000, ""]
    statuses: list[Any] = [{"1": "", "3": ".."}, ["", "", "", "..", "", ""], {"3": ".."}]
    for status in statuses:
        for data in (kommune(value, status=status), json.dumps(kommune(value, status=status))):
            ds = parse_dataset(data)
            assert [(c.value, c.status) for c in ds.cells()] == [
                (95000.0, None), (None, None), (97000.0, None), (None, ".."), (699000.0, None), (None, None),
            ]
            assert "" not in ds.statuses
    assert set(parse_dataset(kommune(SIX, status="")).statuses) == {None}
    assert set(parse_dataset(kommune(SIX, status=[""])).statuses) == {None}


def test_null_value_without_status_is_missing_without_a_symbol() -> None:
    for data in (kommune([95000, None, 97000, None, None, 709000]), json.dumps(kommune({"0": 95000, "2": 97000, "5": 709000}))):
        ds = parse_dataset(data)
        assert ds.cell(Region="3203", Tid="2022") == Cell(("3203", "Folkemengde", "2022"), None, None)
        assert ds.statuses == [None] * 6 and [v is None for v in ds.values] == [False, True, False, True, True, False]
    ds = parse_dataset(kommune([95000, None, 97000, None, None, 709000], status={"3": "."}))
    assert [c.status for c in ds.cells() if c.value is None] == [None, ".", None]


def test_sparse_value_keys_must_be_ascii_cell_indexes() -> None:
    for key in ("٤", " 4", "+4", "4_0", "-1", "4.0"):
        with pytest.raises(JsonStatError, match=r"value object key .* is not a cell index"):
            parse_dataset(kommune({"0": 1, key: 2}))


def test_duplicate_category_ids_are_named_as_duplicates() -> None:
    doc = kommune(SIX)
    doc["dimension"]["Tid"]["category"]["index"] = ["2021", "2022", "2022"]  # as many ids as size says
    with pytest.raises(JsonStatError, match=r"^duplicate category id '2022' in dimension 'Tid'$"):
        parse_dataset(doc)
    doc["dimension"]["Tid"]["category"]["index"] = ["2021", "2022", "2021", "2023"]  # and a size mismatch too
    with pytest.raises(JsonStatError, match=r"^duplicate category id '2021' in dimension 'Tid'$"):
        parse_dataset(json.dumps(doc))
    doc["dimension"]["Region"]["category"]["index"] = [3203, "3203"]  # the same id once as a number
    with pytest.raises(JsonStatError, match=r"^duplicate category id '3203' in dimension 'Region'$"):
        parse_dataset(doc)
    with pytest.raises(JsonStatError, match=r"^duplicate dimension id 'Tid' in 'id'$"):
        parse_dataset(kommune(SIX, id=["Region", "Tid", "Tid"]))


def huge_doc(change) -> dict[str, Any]:
    doc = kommune(SIX)
    change(doc)
    return doc


LONG = "x" * 20_000
BIG_LIST = list(range(5_000))
MALFORMED_AND_LARGE = [
    (huge_doc(lambda d: d.update(size=[*BIG_LIST, "٣"])), r"'size' must be a list of non-negative integers"),
    (huge_doc(lambda d: d.update(id=[*map(str, BIG_LIST), "0"])), r"duplicate dimension id '0' in 'id'"),
    (huge_doc(lambda d: d.update(id=[*map(str, BIG_LIST), 1])), r"'id' must be a list of distinct dimension ids"),
    (huge_doc(lambda d: d["value"].__setitem__(4, BIG_LIST)), r"value\[4\] is \[0, 1, 2, 3, \.\.\.\]"),
    (huge_doc(lambda d: d["value"].__setitem__(4, {"a": BIG_LIST, "b": LONG})), r"value\[4\] is \{"),
    (huge_doc(lambda d: d["value"].__setitem__(4, "1" + "\u0661" * 20_000)), r"value\[4\] is '1"),
    (huge_doc(lambda d: d.update(value={LONG: 1})), r"value object key 'xxx.* is not a cell index"),
    (huge_doc(lambda d: d.update(status={"0": BIG_LIST})), r"status\[0\] is \[0, 1, 2, 3, \.\.\.\]"),
    (huge_doc(lambda d: d.update(role={"time": [LONG]})), r"role 'time' must list dimension ids"),
    (huge_doc(lambda d: d["dimension"]["Tid"]["category"].update(index=[LONG, LONG, "2023"])), rf"duplicate category id '{LONG[:40]}"),
    (huge_doc(lambda d: d.update(id=[LONG, "ContentsCode", "Tid"])), r"dimension 'xxx.* is listed in 'id' but missing"),
    (huge_doc(lambda d: d.update({"class": LONG})), r"not a JSON-stat 2.0 dataset: class 'xxx"),
    ({"error": LONG, "detail": BIG_LIST}, r"not a JSON-stat dataset but an error body: \{\"error\": \"xxx"),
    ({f"k{i}": {"dimension": {}} for i in range(2_000)}, r"1.x bundle with 2000 datasets \(k0, k1, "),
    ({f"k{i}" * 100: i for i in range(2_000)}, r"no 'class' and no dataset in it \(keys: \['k0k0"),
    ("[" * 100 + LONG, r"truncated or malformed JSON"),
]


@pytest.mark.parametrize("data, message", MALFORMED_AND_LARGE)
def test_error_messages_stay_short_on_large_malformed_input(data: Any, message: str) -> None:
    with pytest.raises(JsonStatError, match=message) as caught:
        parse_dataset(data)
    text = str(caught.value)
    assert len(text) <= 200, text  # at most ~80 characters of the input per echo, whatever its size
    assert LONG[:100] not in text and "4999" not in text


def test_a_cell_outside_the_dataset_without_dimensions_is_named_by_index_only() -> None:
    doc = {"version": "2.0", "class": "dataset", "id": [], "size": [], "dimension": {}, "value": ["NaN"]}
    with pytest.raises(JsonStatError, match=r"^value\[0\] is 'NaN': not a finite number$"):
        parse_dataset(doc)
